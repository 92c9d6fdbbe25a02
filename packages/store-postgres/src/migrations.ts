import { tableNames } from '@vouch/store-sqlite/sql-core'
import type { Migration, MigrationProvider } from 'kysely'
import { init } from './migrations/0001-init.ts'
import { postponedCaps } from './migrations/0002-postponed-caps.ts'

/**
 * The migrations, in code (no migration files at run time). Names and numbers are those of
 * `@vouch/store-sqlite`: version n of both stores is the same schema in each database's types.
 */
export function postgresMigrations(tablePrefix: string): Readonly<Record<string, Migration>> {
  const t = tableNames(tablePrefix)
  return Object.freeze({
    '0001-init': init(t, tablePrefix),
    '0002-postponed-caps': postponedCaps(t, tablePrefix),
  })
}

/** Schema version this package writes (the number of its newest migration). */
export const SCHEMA_VERSION = 2

/** A kysely `MigrationProvider` over {@link postgresMigrations}. */
export function postgresMigrationProvider(tablePrefix: string): MigrationProvider {
  const migrations = postgresMigrations(tablePrefix)
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
