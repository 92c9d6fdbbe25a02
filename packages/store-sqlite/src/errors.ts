import { isVouchError, StoreBusyError, StoreError } from '@vouch/tm-core/contracts'

/** better-sqlite3's `SqliteError` carries the extended result code name in `code`. */
function sqliteCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined
  const code: unknown = (e as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** True for SQLITE_BUSY / SQLITE_LOCKED and their extended codes (SQLITE_BUSY_SNAPSHOT, …). */
export function isBusy(e: unknown): boolean {
  const code = sqliteCode(e)
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

/**
 * Maps a driver failure to a typed store error: busy/locked (after the busy timeout) becomes a
 * retryable {@link StoreBusyError}, anything else a {@link StoreError} with the driver error as
 * `cause`. Errors that are already typed pass through unchanged.
 */
export function toStoreError(e: unknown, operation: string): Error {
  if (isVouchError(e)) return e
  const message = e instanceof Error ? e.message : String(e)
  const code = sqliteCode(e)
  if (isBusy(e)) {
    return new StoreBusyError(`${operation}: database is busy (${code}): ${message}`, { cause: e })
  }
  return new StoreError(`${operation} failed${code === undefined ? '' : ` (${code})`}: ${message}`, {
    cause: e,
  })
}
