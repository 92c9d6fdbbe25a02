import { type Expression, sql, type SqlBool } from 'kysely'
import { toStoreError } from './errors.ts'
import type { SqlDialect } from './sql-core/dialect.ts'

const column = (name: string) => sql.ref(name)

/** What SQLite says differently from other SQL databases (see {@link SqlDialect}). */
export const sqliteDialect: SqlDialect = Object.freeze({
  name: 'sqlite',
  // Our queries pass lists as one JSON parameter, so the SQL texts (and prepared statements) are few.
  inList: (name: string, list: unknown): Expression<SqlBool> =>
    sql<SqlBool>`${column(name)} in (select value from json_each(${list}))`,
  list: (values: readonly string[]): unknown => JSON.stringify(values),
  distinct: (a: string, b: string): Expression<SqlBool> => sql<SqlBool>`${column(a)} is not ${column(b)}`,
  startsWith: (name: string, prefix: string): Expression<SqlBool> =>
    sql<SqlBool>`substr(cast(${column(name)} as blob), 1, length(cast(${prefix} as blob))) = cast(${prefix} as blob)`,
  // TEXT columns use the BINARY collation: memcmp on UTF-8.
  bytewiseText: true,
  // SQLite copies the bound bytes; a Buffer view avoids a copy on our side.
  toBlob: (value: Uint8Array): unknown => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  // better-sqlite3 returns a Buffer: hand out a plain Uint8Array copy.
  fromBlob: (value: unknown): Uint8Array => new Uint8Array(value as Uint8Array),
  // The driver's `BEGIN IMMEDIATE` takes the database's write lock (driver.ts).
  lockAccount: () => undefined,
  toStoreError,
})
