import type { SqlDialect } from '@vouch/store-sqlite/sql-core'
import { CompiledQuery, type Expression, sql, type SqlBool } from 'kysely'
import { toStoreError } from './errors.ts'
import { accountLockKey } from './lock.ts'

/**
 * How concurrent transactions of one account are kept apart (see the README, "Concurrency"):
 * - `'account-lock'` (default): every transaction the store opens takes the account's
 *   transaction-scoped advisory lock (`pg_advisory_xact_lock`) first, at READ COMMITTED, so the
 *   transactions of one account run one after the other across every process, and different
 *   accounts never wait for each other;
 * - `'serializable'`: no lock; transactions run at SERIALIZABLE, and PostgreSQL aborts one of two
 *   that conflict (40001), which `transaction()` runs again (bounded, see `retry`).
 */
export type PostgresConcurrency = 'account-lock' | 'serializable'

export interface PostgresDialectOptions {
  readonly tablePrefix: string
  readonly concurrency: PostgresConcurrency
  /**
   * Timeouts set with `set_config(…, true)` (local to the transaction) by the first statement of
   * every transaction the store opens; undefined when the connections already have them (a pool
   * the store made).
   */
  readonly transactionTimeouts?: { readonly statementTimeoutMs: number; readonly lockTimeoutMs: number }
}

const column = (name: string) => sql.ref(name)

/** What PostgreSQL says differently from SQLite (see `SqlDialect` in `@vouch/store-sqlite/sql-core`). */
export function postgresDialect(options: PostgresDialectOptions): SqlDialect {
  const { tablePrefix, concurrency, transactionTimeouts: timeouts } = options
  const locks = concurrency === 'account-lock'
  const settings =
    timeouts === undefined
      ? ''
      : `set_config('statement_timeout', '${timeouts.statementTimeoutMs}', true), set_config('lock_timeout', '${timeouts.lockTimeoutMs}', true)`
  // The timeouts are set in a subquery, so `lock_timeout` applies to the lock taken after it. The
  // key is a literal (a decimal integer we computed): a statement without parameters can travel
  // with the transaction's BEGIN in one round trip (open.ts).
  const lockSql = (key: string): string => {
    if (!/^-?\d{1,20}$/.test(key)) throw new Error(`bad account lock key ${key}`)
    return settings === ''
      ? `select pg_advisory_xact_lock(${key}::bigint)`
      : `select pg_advisory_xact_lock(${key}::bigint) from (select ${settings}) as vouch_settings`
  }
  const settingsOnly = settings === '' ? undefined : CompiledQuery.raw(`select ${settings}`)
  return Object.freeze({
    name: 'postgres',
    // One array parameter: the SQL text (and plan) does not depend on the list's length.
    inList: (name: string, list: unknown): Expression<SqlBool> =>
      sql<SqlBool>`${column(name)} = any(${list})`,
    list: (values: readonly string[]): unknown => [...values],
    distinct: (a: string, b: string): Expression<SqlBool> =>
      sql<SqlBool>`${column(a)} is distinct from ${column(b)}`,
    // Every text column is COLLATE "C" (migrations): comparison is byte-wise on UTF-8.
    startsWith: (name: string, prefix: string): Expression<SqlBool> =>
      sql<SqlBool>`starts_with(${column(name)}, ${prefix})`,
    bytewiseText: true,
    toBlob: (value: Uint8Array): unknown => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    // pg returns bytea as a Buffer: hand out a plain Uint8Array copy.
    fromBlob: (value: unknown): Uint8Array => new Uint8Array(value as Uint8Array),
    lockAccount: (account: string): CompiledQuery | undefined =>
      locks ? CompiledQuery.raw(lockSql(accountLockKey(tablePrefix, account))) : settingsOnly,
    isolationLevel: locks ? 'read committed' : 'serializable',
    plainWritesInTransaction: true,
    // control statements have no parameters: the simple query protocol takes several at once
    deferSavepoints: true,
    writableCte: true,
    toStoreError,
  })
}
