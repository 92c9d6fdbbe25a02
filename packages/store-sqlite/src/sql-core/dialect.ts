import type { CompiledQuery, Expression, IsolationLevel, SqlBool } from 'kysely'

/**
 * What differs between SQL databases, and nothing else: the queries of the core (keys.ts,
 * postponed.ts, settings.ts, last-applied.ts, state.ts) are written against kysely and call these
 * where SQLite and PostgreSQL disagree. A store for another database provides one of these, its
 * kysely `Dialect` (driver), its migrations and error mapping, and runs `@vouch/compliance`.
 *
 * Shared on purpose, so not here: upserts (kysely's `onConflict`: `INSERT … ON CONFLICT (…) DO
 * UPDATE SET … = excluded.… WHERE …`, the same text in SQLite ≥ 3.24 and PostgreSQL),
 * `RETURNING` (SQLite ≥ 3.35, PostgreSQL), row values `(a, b) <= (x, y)`, savepoints
 * (`SAVEPOINT` / `RELEASE` / `ROLLBACK TO`), `count(*)` (read through `Number()`), parameters
 * (kysely's compiler writes `?` or `$n`).
 */
export interface SqlDialect {
  /** for messages */
  readonly name: string
  /**
   * `column IN (list)` with the whole list bound as ONE parameter (made by {@link list}), so the
   * SQL text, and with it the prepared statement, does not depend on the list's length.
   * SQLite: `column in (select value from json_each(?))`; PostgreSQL: `column = any($n)`.
   */
  inList(column: string, list: unknown): Expression<SqlBool>
  /** The parameter {@link inList} takes for `values` (SQLite: a JSON text; PostgreSQL: a `text[]`). */
  list(values: readonly string[]): unknown
  /**
   * Null-safe "differs": SQLite `a IS NOT b`, standard SQL `a IS DISTINCT FROM b`. `a` and `b`
   * are column references (`table.column`, `excluded.column`).
   */
  distinct(a: string, b: string): Expression<SqlBool>
  /**
   * `column` starts with `prefix`, byte for byte in UTF-8 (exactly `String#startsWith` on
   * well-formed strings). The core adds the index range `[prefix, upper bound)` around it; this is
   * the exact check. SQLite: `substr(cast(column as blob), …) = cast(? as blob)`; PostgreSQL (a
   * `COLLATE "C"` column): `starts_with(column, $n)`.
   */
  startsWith(column: string, prefix: string): Expression<SqlBool>
  /**
   * True when text comparison (`<`, `>=`, ORDER BY) on the store's text columns is byte-wise on
   * UTF-8, i.e. Unicode code point order (SQLite's BINARY collation; PostgreSQL's `COLLATE "C"`).
   * Only then may the core bound a prefix scan by a range.
   */
  readonly bytewiseText: boolean
  /** The value to bind for a blob column (SQLite: a Buffer view; PostgreSQL `bytea`: the same). */
  toBlob(value: Uint8Array): unknown
  /** A private `Uint8Array` copy of a blob column's value as the driver returns it. */
  fromBlob(value: unknown): Uint8Array
  /**
   * Statement that serialises the transactions of one account, run first in every transaction
   * the store opens, or undefined when opening the transaction already does. SQLite: undefined
   * (the driver's `BEGIN IMMEDIATE` takes the database's write lock); PostgreSQL: e.g.
   * `select pg_advisory_xact_lock(hashtext($1))`.
   */
  lockAccount(account: string): CompiledQuery | undefined
  /**
   * Isolation level of the transactions the store opens (`START TRANSACTION ISOLATION LEVEL …`),
   * or undefined for the connection's default (SQLite: undefined, its transactions are
   * serialisable). PostgreSQL with account locks: `'read committed'`, so that every statement after
   * the lock sees what the previous holder of the lock committed.
   */
  readonly isolationLevel?: IsolationLevel
  /**
   * True when a plain (non-transaction) call that writes must run in a transaction of its own,
   * after {@link lockAccount}, so that it waits for the account's running transactions (as in
   * store-memory) instead of landing between their statements. SQLite: false (one connection per
   * store, and every write takes the database's write lock anyway); PostgreSQL: true.
   */
  readonly plainWritesInTransaction?: boolean
  /**
   * True when savepoint control statements (`SAVEPOINT`, `RELEASE`, `ROLLBACK TO`, no parameters)
   * may be held back and sent together, joined by `; `, in one query with the next statement of
   * the transaction: a nested transaction that runs no statement costs none, and releasing one
   * nested transaction travels with the start of the next (a batch of trust messages makes one
   * per message). PostgreSQL (simple query protocol): true; SQLite (one statement per prepare): false.
   */
  readonly deferSavepoints?: boolean
  /**
   * True when data-modifying statements may be combined in one statement with `WITH`
   * (`WITH w0 AS (INSERT …) INSERT …`): the unit of work then sends the writes it held back to
   * several tables in one round trip. PostgreSQL: true; SQLite (no DML in `WITH`): false.
   */
  readonly writableCte?: boolean
  /**
   * Maps a driver failure to a typed store error: lock timeouts become a retryable
   * `StoreBusyError`, serialisation failures and deadlocks a retryable `StoreSerializationError`
   * (which the store's `transaction()` retries, see `SqlStoreCore.retry`), a lost or refused
   * connection a `StoreConnectionError`, anything else a `StoreError` with the driver error as
   * `cause`; errors that are already typed pass through.
   */
  toStoreError(e: unknown, operation: string): Error
}
