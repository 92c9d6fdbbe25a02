/**
 * The migrations of every SQL trust store, made from the one schema description ({@link SCHEMA}
 * in schema.ts) in each database's types ({@link SchemaTypes}), and the one migration runner
 * ({@link migrateTrustDb}). Migration names and numbers are shared: version n is the same schema
 * in SQLite and in PostgreSQL. Migrations are code (no files are read at run time); kysely's
 * `Migrator` records them in `<prefix>schema_migration`.
 */
import {
  type CreateTableBuilder,
  type Expression,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from 'kysely'
import { SCHEMA, type SchemaVersionSpec, type TableNames, tableNames } from './schema.ts'
import { assertSchemaNotNewer, type SchemaState } from './schema-version.ts'

/** A column type as kysely's `addColumn` takes it: a type name, or an expression (`sql\`…\``). */
export type DataType = 'text' | 'integer' | 'bigint' | 'blob' | 'bytea' | Expression<unknown>

/** A database's types for the schema's column kinds (schema.ts `ColumnKind`). */
export interface SchemaTypes {
  /** text compared byte-wise on UTF-8 (SQLite `text`, BINARY collation; PostgreSQL `text collate "C"`) */
  readonly name: DataType
  readonly json: DataType
  /** a 64-bit integer */
  readonly time: DataType
  readonly blob: DataType
  /** whether `clustered` tables are made `WITHOUT ROWID` (SQLite) */
  readonly withoutRowid: boolean
}

/** The schema version the code writes: the number of schema versions described. */
export const SCHEMA_VERSION = SCHEMA.length

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

function migration(version: SchemaVersionSpec, t: TableNames, prefix: string, types: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const spec of version.tables) {
        let create: CreateTableBuilder<string, string> = db.schema.createTable(t[spec.table])
        for (const c of spec.columns)
          create = create.addColumn(c.name, types[c.kind], (b) => {
            const notNull = b.notNull()
            return c.check === undefined ? notNull : notNull.check(c.check)
          })
        create = create.addPrimaryKeyConstraint(`${prefix}${spec.table}_pk`, [...spec.primaryKey])
        if (spec.clustered && types.withoutRowid) create = create.modifyEnd(sqlWithoutRowid)
        await create.execute()
      }
      for (const i of version.indexes)
        await db.schema
          .createIndex(`${prefix}${i.name}`)
          .on(t[i.table])
          .columns([...i.columns])
          .execute()
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const i of [...version.indexes].reverse())
        await db.schema.dropIndex(`${prefix}${i.name}`).execute()
      for (const spec of [...version.tables].reverse()) await db.schema.dropTable(t[spec.table]).execute()
    },
  }
}

const sqlWithoutRowid = sql`without rowid`

/** The migrations for tables of `tablePrefix` in a database of `types`, by name, in order. */
export function trustDbMigrations(
  tablePrefix: string,
  types: SchemaTypes,
): Readonly<Record<string, Migration>> {
  const t = tableNames(tablePrefix)
  return Object.freeze(
    Object.fromEntries(SCHEMA.map((v) => [v.migration, migration(v, t, tablePrefix, types)])),
  )
}

/** A kysely `MigrationProvider` over {@link trustDbMigrations}. */
export function trustDbMigrationProvider(tablePrefix: string, types: SchemaTypes): MigrationProvider {
  const migrations = trustDbMigrations(tablePrefix, types)
  return { getMigrations: async () => ({ ...migrations }) }
}

/**
 * The schema state of the database (tables of `tablePrefix`); rejects with
 * `StoreSchemaTooNewError` when a newer version of the store migrated it.
 */
export function checkTrustSchema(
  // biome-ignore lint/suspicious/noExplicitAny: any database; only the migration table is read
  db: Kysely<any>,
  tablePrefix: string,
  store: string,
): Promise<SchemaState> {
  return assertSchemaNotNewer(
    db,
    migrationTableNames(tablePrefix).migrationTableName,
    SCHEMA.map((v) => v.migration),
    SCHEMA_VERSION,
    store,
  )
}

/**
 * The one migration runner: checks that the schema is not newer than this code, then applies the
 * migrations it lacks (kysely's `Migrator`: under its lock table, each in a transaction where the
 * database has transactional DDL). Errors go through `toError(error, operation)` (the store's
 * typed errors). Returns the schema versions before and after.
 */
export async function migrateTrustDb(
  // biome-ignore lint/suspicious/noExplicitAny: migrations create the tables
  db: Kysely<any>,
  tablePrefix: string,
  types: SchemaTypes,
  store: string,
  toError: (e: unknown, operation: string) => Error,
): Promise<{ readonly from: number; readonly to: number }> {
  let from: number
  try {
    from = (await checkTrustSchema(db, tablePrefix, store)).version
  } catch (e) {
    throw toError(e, `${store}: reading the schema version`)
  }
  const migrator = new Migrator({
    db,
    provider: trustDbMigrationProvider(tablePrefix, types),
    ...migrationTableNames(tablePrefix),
  })
  const { error } = await migrator.migrateToLatest()
  if (error !== undefined) throw toError(error, `${store}: migrating the trust database`)
  return { from, to: SCHEMA_VERSION }
}
