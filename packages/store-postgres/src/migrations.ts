import { type SchemaTypes, trustDbMigrationProvider, trustDbMigrations } from '@vouch/store-sqlite/sql-core'
import { type Migration, type MigrationProvider, sql } from 'kysely'

export { migrationTableNames, SCHEMA_VERSION } from '@vouch/store-sqlite/sql-core'

/**
 * PostgreSQL's types for the shared schema description (`@vouch/store-sqlite/sql-core` `SCHEMA`):
 * names `text collate "C"` (byte-wise on UTF-8, as SQLite's BINARY collation and the core
 * expect), JSON `text`, times (ms since the epoch) `bigint`, backend state `bytea`.
 */
export const POSTGRES_TYPES: SchemaTypes = Object.freeze({
  name: sql`text collate "C"`,
  json: 'text',
  time: 'bigint',
  blob: 'bytea',
  withoutRowid: false,
})

/**
 * The migrations, in code (no migration files at run time). Names and numbers are those of
 * `@vouch/store-sqlite` (one schema description): version n of both stores is the same schema in
 * each database's types.
 */
export function postgresMigrations(tablePrefix: string): Readonly<Record<string, Migration>> {
  return trustDbMigrations(tablePrefix, POSTGRES_TYPES)
}

/** A kysely `MigrationProvider` over {@link postgresMigrations}. */
export function postgresMigrationProvider(tablePrefix: string): MigrationProvider {
  return trustDbMigrationProvider(tablePrefix, POSTGRES_TYPES)
}
