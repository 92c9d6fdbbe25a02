/**
 * @packageDocumentation
 * `@vouch/store-sqlite`: a SQLite {@link TrustStore} for Vouch on kysely and better-sqlite3 (bring
 * your own database). Durable, transactional, and shareable between processes; migrations run
 * in code when the store opens.
 */
export type { SqliteDatabase, SqliteStoreInit, SqliteSynchronous } from './open.ts'
export { DEFAULT_BUSY_TIMEOUT_MS, sqliteStore } from './open.ts'
export { SCHEMA_VERSION, trustDbMigrationProvider, trustDbMigrations } from './migrations.ts'
export type {
  AuthenticatedOnceTable,
  BackendStateTable,
  KeysTable,
  LastAppliedTable,
  OwnKeysTable,
  PostponedTable,
  SecurityPoliciesTable,
  TrustDb,
} from './sql-core/schema.ts'
export { DEFAULT_TABLE_PREFIX } from './sql-core/schema.ts'
