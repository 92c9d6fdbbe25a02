import type { Migration, MigrationProvider } from 'kysely'
import { init } from './migrations/0001-init.ts'
import { postponedCaps } from './migrations/0002-postponed-caps.ts'
import { tableNames } from './sql-core/schema.ts'

/**
 * The migrations, in code (no migration files are read at run time). Their names sort in the
 * order they run; the schema version is their count.
 */
export function trustDbMigrations(tablePrefix: string): Readonly<Record<string, Migration>> {
  const t = tableNames(tablePrefix)
  return Object.freeze({
    '0001-init': init(t, tablePrefix),
    '0002-postponed-caps': postponedCaps(t, tablePrefix),
  })
}

/** Schema version this package writes: the number of migrations. */
export const SCHEMA_VERSION = 2

/** A kysely `MigrationProvider` over {@link trustDbMigrations}. */
export function trustDbMigrationProvider(tablePrefix: string): MigrationProvider {
  const migrations = trustDbMigrations(tablePrefix)
  return { getMigrations: async () => ({ ...migrations }) }
}

/** Names of kysely's bookkeeping tables for our migrations (kept apart from an application's own). */
export function migrationTableNames(tablePrefix: string): {
  migrationTableName: string
  migrationLockTableName: string
} {
  return {
    migrationTableName: `${tablePrefix}schema_migration`,
    migrationLockTableName: `${tablePrefix}schema_migration_lock`,
  }
}
