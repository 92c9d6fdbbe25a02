import type { Migration, MigrationProvider } from 'kysely'
import {
  trustDbMigrationProvider as providerFor,
  type SchemaTypes,
  trustDbMigrations as migrationsFor,
} from './sql-core/migrations.ts'

export { migrationTableNames, SCHEMA_VERSION } from './sql-core/migrations.ts'

/**
 * SQLite's types for the shared schema description (sql-core `SCHEMA`): text (BINARY collation:
 * byte-wise on UTF-8), 64-bit integers, blobs; small tables looked up by primary key only are
 * `WITHOUT ROWID`.
 */
export const SQLITE_TYPES: SchemaTypes = Object.freeze({
  name: 'text',
  json: 'text',
  time: 'integer',
  blob: 'blob',
  withoutRowid: true,
})

/**
 * The migrations, in code (no migration files are read at run time). Their names sort in the
 * order they run; the schema version is their count (shared with `@vouch/store-postgres`).
 */
export function trustDbMigrations(tablePrefix: string): Readonly<Record<string, Migration>> {
  return migrationsFor(tablePrefix, SQLITE_TYPES)
}

/** A kysely `MigrationProvider` over {@link trustDbMigrations}. */
export function trustDbMigrationProvider(tablePrefix: string): MigrationProvider {
  return providerFor(tablePrefix, SQLITE_TYPES)
}
