/**
 * @packageDocumentation
 * `@vouch/store-postgres`: a PostgreSQL {@link TrustStore} for Vouch on kysely and pg (bring your
 * own pool). One database for many accounts and many worker processes: the transactions of one
 * account run one after the other across every process (an advisory lock per account), different
 * accounts in parallel; migrations in code, shared in number with `@vouch/store-sqlite`.
 */
export type { PostgresConcurrency } from './dialect.ts'
export { postgresDialect } from './dialect.ts'
export { isConnectionFailure, toStoreError } from './errors.ts'
export { accountLockKey } from './lock.ts'
export {
  migrationTableNames,
  postgresMigrationProvider,
  postgresMigrations,
  SCHEMA_VERSION,
} from './migrations.ts'
export type { PgPool, PostgresRetryOptions, PostgresStoreInit } from './open.ts'
export {
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_RETRY,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  dropTrustTables,
  migratePostgres,
  postgresStore,
} from './open.ts'
export type { TrustDb } from '@vouch/store-sqlite/sql-core'
export { DEFAULT_TABLE_PREFIX } from '@vouch/store-sqlite/sql-core'
