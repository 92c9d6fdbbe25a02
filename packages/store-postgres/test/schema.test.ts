/**
 * The one schema description (`@vouch/store-sqlite/sql-core` `SCHEMA`, PostgreSQL types in
 * `src/migrations.ts`) and migration runner must write exactly the schema the released
 * migrations wrote: `fixtures/schema-v2.postgres.json` is the catalog (columns with types and
 * collations, constraints, indexes) of a database the previous code (hand-written migrations
 * 0001-init, 0002-postponed-caps, tables `vouch_…`) created.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { dropTrustTables, migratePostgres, SCHEMA_VERSION } from '../src/index.ts'
import { NO_PG, SKIP, testPool } from './helpers.ts'

const released = JSON.parse(
  readFileSync(new URL('./fixtures/schema-v2.postgres.json', import.meta.url), 'utf8'),
)

describe.skipIf(NO_PG)(`schema description and migrations (PostgreSQL) ${SKIP}`, () => {
  it('a fresh database gets exactly the columns, types, collations, keys and indexes of the released schema', async () => {
    const pool = testPool()
    const prefix = `schema${process.pid}_`
    try {
      expect(await migratePostgres({ database: pool, tablePrefix: prefix })).toEqual({
        from: 0,
        to: SCHEMA_VERSION,
      })
      const like = `${prefix}%`
      const named = (s: string) => s.split(prefix).join('vouch_')
      const cols = (
        await pool.query(
          `select table_name, column_name, ordinal_position, data_type, collation_name, is_nullable
           from information_schema.columns where table_schema = 'public' and table_name like $1
           and table_name not like '%migration%' order by table_name, ordinal_position`,
          [like],
        )
      ).rows.map((r) => ({ ...r, table_name: named(r.table_name) }))
      const cons = (
        await pool.query(
          `select conrelid::regclass::text as t, conname, pg_get_constraintdef(oid) as d from pg_constraint
           where conrelid::regclass::text like $1 order by 1, 2`,
          [like],
        )
      ).rows.map((r) => ({ t: named(r.t), conname: named(r.conname), d: r.d }))
      const idx = (
        await pool.query(
          `select indexname, indexdef from pg_indexes where schemaname = 'public' and indexname like $1 order by 1`,
          [like],
        )
      ).rows.map((r) => ({ indexname: named(r.indexname), indexdef: named(r.indexdef) }))
      // the fixture's order is by the 'vouch_' names: sort the same way
      const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)
      expect({ cols, cons: cons.sort(byJson), idx: idx.sort(byJson) }).toEqual({
        cols: released.cols,
        cons: [...released.cons].sort(byJson),
        idx: [...released.idx].sort(byJson),
      })
    } finally {
      await dropTrustTables({ database: pool, tablePrefix: prefix })
    }
  })
})
