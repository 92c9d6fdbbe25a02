import { StoreSchemaTooNewError } from '@vouch/tm-core/contracts'
import { type Kysely, sql } from 'kysely'

/** What a database's migration bookkeeping says about its schema. */
export interface SchemaState {
  /** migrations this code knows that the database has applied */
  readonly applied: readonly string[]
  /** recorded migrations this code does not know (written by a newer version) */
  readonly unknown: readonly string[]
  /** the schema version: the number of the newest recorded migration (`0002-…` → 2), 0 for none */
  readonly version: number
}

const numberOf = (name: string): number => {
  const n = Number.parseInt(name, 10)
  return Number.isSafeInteger(n) ? n : 0
}

/**
 * Reads kysely's migration table `migrationTable` (absent: a fresh database, version 0). Migration
 * names start with their number (`0001-init`), so the schema version is the newest number.
 */
export async function readSchemaState(
  // biome-ignore lint/suspicious/noExplicitAny: any database; only the migration table is read
  db: Kysely<any>,
  migrationTable: string,
  known: readonly string[],
): Promise<SchemaState> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true })
  if (!tables.some((t) => t.name === migrationTable)) return { applied: [], unknown: [], version: 0 }
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(migrationTable)}`.execute(db)
  const names = rows.map((r) => r.name)
  const knownSet = new Set(known)
  return {
    applied: names.filter((n) => knownSet.has(n)),
    unknown: names.filter((n) => !knownSet.has(n)),
    version: names.reduce((max, n) => Math.max(max, numberOf(n)), 0),
  }
}

/**
 * Rejects with `StoreSchemaTooNewError` when the database records a migration this code does not
 * know (a newer version of the store migrated it): opening it would read or write a schema this
 * code was not written for. Returns the state otherwise.
 */
export async function assertSchemaNotNewer(
  // biome-ignore lint/suspicious/noExplicitAny: any database; only the migration table is read
  db: Kysely<any>,
  migrationTable: string,
  known: readonly string[],
  supportedVersion: number,
  store: string,
): Promise<SchemaState> {
  const state = await readSchemaState(db, migrationTable, known)
  if (state.unknown.length > 0 || state.version > supportedVersion) {
    throw new StoreSchemaTooNewError(
      `${store}: the database has schema version ${state.version} (migrations ${state.unknown.join(', ')} ` +
        `unknown here); this version of the store writes schema version ${supportedVersion}: upgrade the store`,
      Math.max(state.version, supportedVersion + 1),
      supportedVersion,
    )
  }
  return state
}
