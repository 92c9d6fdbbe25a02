/**
 * @packageDocumentation
 * `@vouch/store-sqlite/sql-core`: the database-neutral core of the SQL trust stores. The queries
 * are written against kysely; what differs between databases is a {@link SqlDialect}. A store
 * for another database (PostgreSQL) brings its kysely `Dialect`, a `SqlDialect`, its migrations
 * to the {@link TrustDb} schema, and runs `@vouch/compliance`; see this package's README.
 */
export type { Template } from './compiled.ts'
export { arg, bind, compileTemplate, Templates } from './compiled.ts'
export type { Db, Scope, SqlStoreCore, TransactionRetry } from './context.ts'
export type { SqlDialect } from './dialect.ts'
export type {
  AuthenticatedOnceTable,
  BackendStateTable,
  KeysTable,
  LastAppliedTable,
  OwnKeysTable,
  PostponedTable,
  SecurityPoliciesTable,
  TableName,
  TableNames,
  TrustDb,
} from './schema.ts'
export { DEFAULT_TABLE_PREFIX, tableNames } from './schema.ts'
export type { SchemaTypes } from './migrations.ts'
export {
  checkTrustSchema,
  migrateTrustDb,
  migrationTableNames,
  SCHEMA_VERSION,
  trustDbMigrationProvider,
  trustDbMigrations,
} from './migrations.ts'
export type {
  ColumnKind,
  ColumnSpec,
  IndexSpec,
  SchemaVersionSpec,
  TableSpec,
} from './schema.ts'
export { SCHEMA } from './schema.ts'
export type { SchemaState } from './schema-version.ts'
export { assertSchemaNotNewer, readSchemaState } from './schema-version.ts'
export { prefixUpperBound } from './state.ts'
export { SqlTrustStore } from './store.ts'
