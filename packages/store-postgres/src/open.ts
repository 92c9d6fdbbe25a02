import {
  checkTrustSchema,
  DEFAULT_TABLE_PREFIX,
  migrateTrustDb,
  migrationTableNames,
  SCHEMA_VERSION,
  SqlTrustStore,
  type TableNames,
  Templates,
  type TransactionRetry,
  type TrustDb,
  tableNames,
} from '@vouch/store-sqlite/sql-core'
import { resolveTrustStoreLimits } from '@vouch/tm-core'
import type { TrustStore, TrustStoreLimits } from '@vouch/tm-core/contracts'
import { StoreError } from '@vouch/tm-core/contracts'
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely'
import { type PostgresConcurrency, postgresDialect } from './dialect.ts'
import { toStoreError } from './errors.ts'
import { POSTGRES_TYPES } from './migrations.ts'

/** The part of a `pg.Pool` the store uses (kysely's `PostgresPool`, structurally typed). */
export type PgPool = PostgresPool

export interface PostgresRetryOptions {
  /** runs of a transaction in all, including the first; default 5 (1: no retry) */
  readonly maxAttempts?: number
  /** pause before the second run, doubled for each further run, with jitter (50–100 %); default 2 ms */
  readonly baseDelayMs?: number
  /** cap of the pause; default 100 ms */
  readonly maxDelayMs?: number
}

export interface PostgresStoreInit {
  /**
   * - a connection string (`postgres://user@host:5432/db`): the store makes a `pg.Pool` (`pg` is a
   *   peer dependency, loaded only then) and ends it in `close()`;
   * - your `pg.Pool` (structurally typed): used as is, never ended by the store;
   * - a ready `Kysely<TrustDb>` on PostgreSQL: used as is, not destroyed by `close()`.
   */
  readonly database: string | PgPool | Kysely<TrustDb>
  readonly limits?: Partial<TrustStoreLimits>
  /**
   * Prefix of every table, index, and the migration bookkeeping tables. Default `'vouch_'`.
   * Letters, digits, `_`, ≤ 32 characters, or `''`.
   */
  readonly tablePrefix?: string
  /** How concurrent transactions of one account are kept apart; default `'account-lock'` (README, Concurrency). */
  readonly concurrency?: PostgresConcurrency
  /** Retries of transactions PostgreSQL aborts as not serialisable (40001) or deadlocked (40P01). */
  readonly retry?: PostgresRetryOptions
  /**
   * `statement_timeout`: a statement running longer is cancelled (`StoreBusyError`). Default
   * 30,000 ms on a pool the store makes (a connection setting); with your pool or Kysely, only if
   * given, and then inside the store's transactions (`set_config(…, true)`).
   */
  readonly statementTimeoutMs?: number
  /**
   * `lock_timeout`: how long a transaction waits for its account's lock (or a row lock) before
   * `StoreBusyError`. Default 10,000 ms on a pool the store makes; with yours as above.
   */
  readonly lockTimeoutMs?: number
  /**
   * `true` (default): migrate to the latest schema when the store opens (concurrent openers wait
   * for each other: kysely's migration lock is a PostgreSQL advisory lock). `false`: migrate at
   * deploy time with {@link migratePostgres}; opening then rejects a database whose schema is
   * older than this code.
   */
  readonly migrate?: boolean
  /** `max` of a pool the store makes; default 10 */
  readonly poolSize?: number
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000
export const DEFAULT_RETRY = Object.freeze({ maxAttempts: 5, baseDelayMs: 2, maxDelayMs: 100 })

function nonNegativeInteger(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`)
}

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1))
    throw new RangeError(`${name} must be a positive integer, got ${value}`)
}

function retryPolicy(options: PostgresRetryOptions = {}): TransactionRetry {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY.maxAttempts
  const base = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs
  const cap = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs
  positiveInteger('retry.maxAttempts', maxAttempts)
  nonNegativeInteger('retry.baseDelayMs', base)
  nonNegativeInteger('retry.maxDelayMs', cap)
  return {
    maxAttempts,
    // Exponential with jitter, so that the transactions that collided do not collide again.
    delayMs: (attempt: number) => Math.min(cap, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2),
  }
}

function isKysely(d: unknown): d is Kysely<TrustDb> {
  return (
    typeof d === 'object' && d !== null && typeof (d as { selectFrom?: unknown }).selectFrom === 'function'
  )
}

function isPool(d: unknown): d is PgPool {
  return typeof d === 'object' && d !== null && typeof (d as { connect?: unknown }).connect === 'function'
}

interface PgModule {
  Pool: new (
    config: Record<string, unknown>,
  ) => PgPool & { on(event: 'error', listener: (e: Error) => void): unknown }
}

async function loadPg(): Promise<PgModule> {
  // Loaded only when we make the pool (a literal specifier, so bundlers include the peer).
  try {
    const mod = (await import('pg')) as unknown as { default?: PgModule } & PgModule
    return mod.default ?? mod
  } catch (e) {
    throw new StoreError('postgresStore: a connection string needs the peer dependency pg', { cause: e })
  }
}

const ignore = (): void => {}

/**
 * The pool as the store uses it: every client it checks out gets an `'error'` listener once. A
 * connection that breaks while checked out (the server ends it between two statements of a
 * transaction) makes pg emit `'error'` on the client, and an unlistened `'error'` would end the
 * process; with the listener the next statement on it fails instead, as a `StoreConnectionError`.
 * `end()` ends the pool only if the store made it.
 */
/** clients that have the listener (one per client, however many stores share a pool) */
const listened = new WeakSet<object>()

function guarded(pool: PgPool, own: boolean): PgPool {
  const seen = listened
  return {
    async connect() {
      const client = await pool.connect()
      if (!seen.has(client)) {
        seen.add(client)
        const on = (client as { on?: (event: string, listener: () => void) => unknown }).on
        if (typeof on === 'function') on.call(client, 'error', ignore)
      }
      return prepared(client)
    },
    end: own ? () => pool.end() : async () => {},
  }
}

/**
 * Names of prepared statements by SQL text, for the whole process (pg refuses one name for two
 * texts on a connection, and stores may share a pool); at most {@link MAX_PREPARED} texts are
 * named, the rest run unnamed.
 */
const names = new Map<string, string>()
const MAX_PREPARED = 1000
/** tells this copy of the package from another one in the same process (two copies, one pool) */
const INSTANCE = Math.floor(Math.random() * 36 ** 6).toString(36)

type PgClient = Awaited<ReturnType<PgPool['connect']>>

/**
 * The client as the store's queries reach it: a statement with parameters runs as a named
 * prepared statement (pg's `name`: parsed and planned once per connection, then only bound and
 * executed), so the server does not parse and plan it again on every call. Statements without
 * parameters (transaction control, several at once) stay on the simple query protocol, and a
 * `START TRANSACTION` waits for the next statement: when that one has no parameters either (the
 * account lock), both go in one query — one round trip for BEGIN and the lock.
 */
function prepared(client: PgClient): PgClient {
  const query = (client as unknown as { query(config: unknown): Promise<unknown> }).query.bind(client)
  const simple = (text: string): Promise<unknown> =>
    (client.query as unknown as (text: string) => Promise<unknown>).call(client, text)
  /** a BEGIN held back, to travel with the next statement if that one has no parameters */
  let begin: string | undefined
  return {
    async query(sql: unknown, parameters?: readonly unknown[]) {
      const held = begin
      begin = undefined
      const plain = typeof sql === 'string' && (parameters === undefined || parameters.length === 0)
      if (plain && held === undefined && /^start transaction\b/i.test(sql)) {
        begin = sql
        return { command: 'BEGIN', rowCount: null, rows: [] }
      }
      if (held !== undefined) {
        // BEGIN and the account lock (no parameters): one round trip, the lock's result is returned
        if (plain) {
          const results = (await simple(`${held}; ${sql}`)) as unknown[]
          return results[results.length - 1]
        }
        await simple(held)
      }
      if (typeof sql !== 'string' || plain)
        return (client.query as (a: unknown, b?: unknown) => never)(sql, parameters)
      let name = names.get(sql)
      if (name === undefined && names.size < MAX_PREPARED) {
        name = `vouch_${INSTANCE}_${names.size + 1}`
        names.set(sql, name)
      }
      return query(
        name === undefined ? { text: sql, values: parameters } : { name, text: sql, values: parameters },
      )
    },
    release: () => {
      begin = undefined
      client.release()
    },
  } as unknown as PgClient
}

interface Opened {
  readonly db: Kysely<TrustDb>
  /** closes what we opened; undefined when the caller owns the Kysely */
  readonly destroy: (() => Promise<void>) | undefined
  /** true when the connections carry the timeouts (a pool we made) */
  readonly ownPool: boolean
}

async function openDatabase(
  database: PostgresStoreInit['database'],
  init: Pick<PostgresStoreInit, 'statementTimeoutMs' | 'lockTimeoutMs' | 'poolSize'>,
): Promise<Opened> {
  if (typeof database === 'string') {
    const pg = await loadPg()
    const pool = new pg.Pool({
      connectionString: database,
      max: init.poolSize ?? 10,
      statement_timeout: init.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      lock_timeout: init.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    })
    // An idle connection that breaks (server restart, network) is dropped by the pool; without a
    // listener its 'error' event would end the process. The next query reports it, typed.
    pool.on('error', () => {})
    const db = new Kysely<TrustDb>({ dialect: new PostgresDialect({ pool: guarded(pool, true) }) })
    return { db, destroy: () => db.destroy(), ownPool: true }
  }
  if (isKysely(database)) return { db: database, destroy: undefined, ownPool: false }
  if (isPool(database)) {
    // Your pool: kysely's destroy() would end it, so it gets a view whose end() does nothing.
    const db = new Kysely<TrustDb>({ dialect: new PostgresDialect({ pool: guarded(database, false) }) })
    return { db, destroy: () => db.destroy(), ownPool: false }
  }
  throw new TypeError('postgresStore: database must be a connection string, a pg.Pool or a Kysely<TrustDb>')
}

function checkInit(init: PostgresStoreInit): { prefix: string; t: TableNames } {
  const prefix = init.tablePrefix ?? DEFAULT_TABLE_PREFIX
  const t = tableNames(prefix)
  nonNegativeInteger('statementTimeoutMs', init.statementTimeoutMs)
  nonNegativeInteger('lockTimeoutMs', init.lockTimeoutMs)
  positiveInteger('poolSize', init.poolSize)
  const concurrency = init.concurrency ?? 'account-lock'
  if (concurrency !== 'account-lock' && concurrency !== 'serializable')
    throw new TypeError(
      `concurrency must be 'account-lock' or 'serializable', got ${JSON.stringify(concurrency)}`,
    )
  return { prefix, t }
}

/**
 * Migrates the database to {@link SCHEMA_VERSION} if it is older; returns the versions before
 * and after. Several processes may call it at once (kysely's migration lock is a PostgreSQL
 * advisory lock). Run it at deploy time, then open the stores with `migrate: false`.
 *
 * Rejects with `StoreSchemaTooNewError` if a newer version of this package migrated the
 * database, `StoreConnectionError` if it cannot be reached, `StoreError` if a migration fails.
 */
export async function migratePostgres(init: {
  readonly database: PostgresStoreInit['database']
  readonly tablePrefix?: string
}): Promise<{ readonly from: number; readonly to: number }> {
  const { prefix } = checkInit(init)
  const opened = await openDatabase(init.database, {})
  try {
    return await migrate(opened.db, prefix, 'migratePostgres')
  } finally {
    await opened.destroy?.()
  }
}

function migrate(db: Kysely<TrustDb>, prefix: string, who: string): Promise<{ from: number; to: number }> {
  return migrateTrustDb(db, prefix, POSTGRES_TYPES, who, toStoreError)
}

/**
 * Opens a PostgreSQL trust store: connects (or takes your pool or Kysely), migrates to the
 * latest schema (unless `migrate: false`), and returns the store.
 *
 * Rejects with `StoreConnectionError` if the database cannot be reached, `StoreSchemaTooNewError`
 * if a newer version of this package migrated it, `StoreError` if a migration fails, the peer
 * `pg` is missing (connection string) or (`migrate: false`) the schema is older than this code;
 * `TypeError` for a bad `database`, `tablePrefix` or `concurrency`, `RangeError` for a bad
 * number.
 */
export async function postgresStore(init: PostgresStoreInit): Promise<TrustStore> {
  const { prefix, t } = checkInit(init)
  const limits = resolveTrustStoreLimits(init.limits)
  const retry = retryPolicy(init.retry)
  const opened = await openDatabase(init.database, init)
  const { db, destroy } = opened
  try {
    if (init.migrate === false) {
      const state = await checkTrustSchema(db, prefix, 'postgresStore').catch((e: unknown) => {
        throw toStoreError(e, 'postgresStore: reading the schema version')
      })
      if (state.version < SCHEMA_VERSION) {
        throw new StoreError(
          `postgresStore: the database has schema version ${state.version}, this code needs ${SCHEMA_VERSION}: ` +
            'run migratePostgres() (deploy time) or open with migrate: true',
        )
      }
    } else {
      await migrate(db, prefix, 'postgresStore')
    }
  } catch (e) {
    await destroy?.()
    throw e
  }
  const given = init.statementTimeoutMs !== undefined || init.lockTimeoutMs !== undefined
  const dialect = postgresDialect({
    tablePrefix: prefix,
    concurrency: init.concurrency ?? 'account-lock',
    ...(!opened.ownPool && given
      ? {
          transactionTimeouts: {
            statementTimeoutMs: init.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
            lockTimeoutMs: init.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
          },
        }
      : {}),
  })
  return new SqlTrustStore({
    db,
    t,
    dialect,
    limits,
    templates: new Templates(),
    retry,
    destroy,
    closed: false,
  })
}

/**
 * Drops the store's tables and its migration bookkeeping (for tests, simulations and
 * uninstalling): every table of `tablePrefix`, if present. Not undoable.
 */
export async function dropTrustTables(init: {
  readonly database: PostgresStoreInit['database']
  readonly tablePrefix?: string
}): Promise<void> {
  const { prefix, t } = checkInit(init)
  const opened = await openDatabase(init.database, {})
  try {
    const tables = migrationTableNames(prefix)
    for (const table of [...Object.values(t), tables.migrationTableName, tables.migrationLockTableName])
      await opened.db.schema.dropTable(table).ifExists().execute()
  } catch (e) {
    throw toStoreError(e, 'dropTrustTables')
  } finally {
    await opened.destroy?.()
  }
}
