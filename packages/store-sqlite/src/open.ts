import { resolveTrustStoreLimits } from '@vouch/tm-core'
import type { TrustStore, TrustStoreLimits } from '@vouch/tm-core/contracts'
import { StoreError } from '@vouch/tm-core/contracts'
import { Kysely, type SqliteDatabase as KyselySqliteDatabase } from 'kysely'
import { CachingDatabase, VouchSqliteDialect } from './driver.ts'
import { toStoreError } from './errors.ts'
import { SQLITE_TYPES } from './migrations.ts'
import { migrateTrustDb } from './sql-core/migrations.ts'
import { Templates } from './sql-core/compiled.ts'
import { DEFAULT_TABLE_PREFIX, type TrustDb, tableNames } from './sql-core/schema.ts'
import { SqlTrustStore } from './sql-core/store.ts'
import { sqliteDialect } from './sqlite-dialect.ts'

/**
 * The part of a better-sqlite3 `Database` this package uses (structurally typed, so this package
 * does not depend on better-sqlite3's types): kysely's `SqliteDatabase`.
 */
export type SqliteDatabase = KyselySqliteDatabase

/** `PRAGMA synchronous` for databases we configure. */
export type SqliteSynchronous = 'FULL' | 'NORMAL'

export interface SqliteStoreInit {
  /**
   * - a better-sqlite3 `Database` you opened (you close it; we set the pragmas below on it);
   * - a file path or `':memory:'` (we open it with `better-sqlite3`, a peer dependency loaded only
   *   then, and close it in {@link TrustStore.close});
   * - a ready `Kysely<TrustDb>` (used as is: no pragmas, not destroyed by `close()`).
   */
  readonly database: SqliteDatabase | string | Kysely<TrustDb>
  readonly limits?: Partial<TrustStoreLimits>
  /** How long a write waits for another connection's lock before `StoreBusyError`. Default 5,000 ms. */
  readonly busyTimeoutMs?: number
  /**
   * Prefix of every table, index and migration-bookkeeping table. Default `'vouch_'`, so the
   * store can share a database with the application's own tables. Letters, digits, `_`.
   */
  readonly tablePrefix?: string
  /**
   * `PRAGMA synchronous`. Default `'FULL'`: in WAL mode every commit is fsynced, so a committed
   * trust decision survives power loss, not just a crashed process. `'NORMAL'` is also safe
   * against process crashes (and keeps the file consistent on power loss) but may lose the last
   * commits on power loss; it saves one fsync per transaction.
   */
  readonly synchronous?: SqliteSynchronous
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000

type BetterSqlite3 = new (path: string, options?: { timeout?: number }) => SqliteDatabase

async function openFile(path: string, timeout: number): Promise<SqliteDatabase> {
  // A variable specifier: better-sqlite3 is an optional peer, loaded only for paths, and its
  // types are not needed by consumers that bring their own database.
  const specifier = 'better-sqlite3'
  let Database: BetterSqlite3
  try {
    const mod = (await import(specifier)) as { default: BetterSqlite3 }
    Database = mod.default
  } catch (e) {
    throw new StoreError('sqliteStore: opening a path needs the peer dependency better-sqlite3', { cause: e })
  }
  try {
    return new Database(path, { timeout })
  } catch (e) {
    throw toStoreError(e, `sqliteStore: opening ${path}`)
  }
}

function pragma(db: SqliteDatabase, text: string): unknown[] {
  const stmt = db.prepare(`pragma ${text}`)
  if (stmt.reader) return stmt.all([])
  stmt.run([])
  return []
}

function configure(db: SqliteDatabase, busyTimeoutMs: number, synchronous: SqliteSynchronous): void {
  pragma(db, `busy_timeout = ${busyTimeoutMs}`)
  // WAL: readers do not block the writer, and a commit is one append (no rollback journal).
  // A `:memory:` database answers 'memory' and stays so.
  pragma(db, 'journal_mode = WAL')
  pragma(db, `synchronous = ${synchronous}`)
  pragma(db, 'foreign_keys = ON')
}

function isRawDatabase(d: unknown): d is SqliteDatabase {
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof (d as { prepare?: unknown }).prepare === 'function' &&
    typeof (d as { selectFrom?: unknown }).selectFrom !== 'function'
  )
}

/**
 * Opens a SQLite trust store: configures the database, runs the migrations to the latest schema,
 * and returns the store.
 *
 * Rejects with `StoreError` (the driver error as `cause`) if the database cannot be opened or
 * migrated, `StoreSchemaTooNewError` if a newer version of this package migrated it (a migration
 * this code does not know is recorded), `StoreBusyError` if another connection holds the lock
 * past the busy timeout, and
 * `TypeError` for a bad `tablePrefix` or `synchronous`, `RangeError` for a bad `busyTimeoutMs` or
 * `limits`.
 */
export async function sqliteStore(init: SqliteStoreInit): Promise<TrustStore> {
  const prefix = init.tablePrefix ?? DEFAULT_TABLE_PREFIX
  const t = tableNames(prefix)
  const busyTimeoutMs = init.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`)
  }
  const limits = resolveTrustStoreLimits(init.limits)
  const synchronous = init.synchronous ?? 'FULL'
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw new TypeError(`synchronous must be 'FULL' or 'NORMAL'`)
  }

  let db: Kysely<TrustDb>
  let destroy: (() => Promise<void>) | undefined
  const given = init.database
  if (typeof given === 'string' || isRawDatabase(given)) {
    const owned = typeof given === 'string'
    const raw = owned ? await openFile(given, busyTimeoutMs) : given
    try {
      configure(raw, busyTimeoutMs, synchronous)
    } catch (e) {
      if (owned) raw.close()
      throw toStoreError(e, 'sqliteStore: configuring the database')
    }
    db = new Kysely<TrustDb>({ dialect: new VouchSqliteDialect(new CachingDatabase(raw, owned)) })
    destroy = () => db.destroy()
  } else {
    db = given
    destroy = undefined
  }

  try {
    await migrateTrustDb(db, prefix, SQLITE_TYPES, 'sqliteStore', toStoreError)
  } catch (e) {
    await destroy?.()
    throw e
  }
  return new SqlTrustStore({
    db,
    t,
    dialect: sqliteDialect,
    limits,
    templates: new Templates(),
    destroy,
    closed: false,
  })
}
