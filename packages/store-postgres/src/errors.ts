import {
  isVouchError,
  StoreBusyError,
  StoreConnectionError,
  StoreError,
  StoreSerializationError,
} from '@vouch/tm-core/contracts'

/** `code` of a pg `DatabaseError` (a five-character SQLSTATE) or of a Node system error (`ECONNRESET`). */
function codeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined
  const code: unknown = (e as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** SQLSTATEs of a transaction the server aborted as not serialisable: retry it. */
const SERIALIZATION = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
])

/** SQLSTATEs of a lock or statement that waited too long: the database is busy. */
const BUSY = new Set([
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout)
])

/** SQLSTATEs of a connection the server refused or ended. */
const CONNECTION_STATES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
])

/** Node socket errors of a connection that failed or broke. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** pg's own messages for a connection that broke or could not be had (they carry no code). */
const CONNECTION_MESSAGE =
  /Connection terminated|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect|Connection ended unexpectedly/i

/** True when `e` (a driver error) says the connection failed, broke or was refused. */
export function isConnectionFailure(e: unknown): boolean {
  const code = codeOf(e)
  if (code !== undefined && (code.startsWith('08') || CONNECTION_STATES.has(code) || SOCKET_CODES.has(code)))
    return true
  return e instanceof Error && CONNECTION_MESSAGE.test(e.message)
}

/**
 * Maps a pg failure to a typed store error (`SqlDialect.toStoreError`):
 * - 40001 serialization_failure, 40P01 deadlock_detected → `StoreSerializationError` (retryable;
 *   `transaction()` retries it itself, see `PostgresStoreInit.retry`);
 * - 55P03 lock_not_available (`lock_timeout`), 57014 query_canceled (`statement_timeout`) →
 *   `StoreBusyError` (retryable);
 * - class 08 (connection exception), 57P01–57P03, 53300, socket errors and pg's "Connection
 *   terminated" → `StoreConnectionError` (retryable);
 * - anything else → `StoreError` with the SQLSTATE in the message and the driver error as `cause`.
 *
 * Errors that are already typed pass through unchanged.
 */
export function toStoreError(e: unknown, operation: string): Error {
  if (isVouchError(e)) return e
  const message = e instanceof Error ? e.message : String(e)
  const code = codeOf(e)
  const tag = code === undefined ? '' : ` (${code})`
  if (code !== undefined && SERIALIZATION.has(code)) {
    return new StoreSerializationError(
      `${operation}: not serialisable with a concurrent transaction${tag}: ${message}`,
      1,
      {
        cause: e,
      },
    )
  }
  if (code !== undefined && BUSY.has(code)) {
    return new StoreBusyError(`${operation}: the database is busy${tag}: ${message}`, { cause: e })
  }
  if (isConnectionFailure(e)) {
    return new StoreConnectionError(`${operation}: the database connection failed${tag}: ${message}`, {
      cause: e,
    })
  }
  return new StoreError(`${operation} failed${tag}: ${message}`, { cause: e })
}
