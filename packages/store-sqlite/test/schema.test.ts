/**
 * The one schema description (sql-core `SCHEMA`) and migration runner must write exactly the
 * schema the released migrations wrote: `fixtures/schema-v2.sqlite.json` is `sqlite_master` of a
 * database that the previous code (hand-written migrations 0001-init, 0002-postponed-caps) created.
 * So a database made by the old code is the same as one made now, and opens as one.
 */
import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { SCHEMA_VERSION, sqliteStore } from '../src/index.ts'
import { SCHEMA } from '../src/sql-core/index.ts'
import { BOB, ctx, kid, ME, NS, tempDir } from './helpers.ts'

const released = JSON.parse(
  readFileSync(new URL('./fixtures/schema-v2.sqlite.json', import.meta.url), 'utf8'),
) as unknown[]

const master = (path: string): unknown[] => {
  const db = new Database(path, { readonly: true })
  try {
    return db.prepare('select type, name, tbl_name, sql from sqlite_master order by name').all()
  } finally {
    db.close()
  }
}

describe('schema description and migrations (SQLite)', () => {
  it('schema version 2 is the number of described versions, one migration each', () => {
    expect(SCHEMA_VERSION).toBe(2)
    expect(SCHEMA.map((v) => v.migration)).toEqual(['0001-init', '0002-postponed-caps'])
  })

  it('a fresh database gets exactly the tables, keys and indexes the released migrations wrote', async () => {
    const tmp = tempDir()
    try {
      const path = tmp.file('fresh.db')
      await (await sqliteStore({ database: path })).close()
      expect(master(path)).toEqual(released)
    } finally {
      tmp.cleanup()
    }
  })

  it('a database with the released schema (rows in it) opens, keeps its rows and is not migrated again', async () => {
    const tmp = tempDir()
    try {
      const path = tmp.file('old.db')
      // the released schema, as its sqlite_master records it, with its migration bookkeeping
      const db = new Database(path)
      for (const row of released as { sql: string | null }[]) if (row.sql !== null) db.exec(row.sql)
      const at = new Date(0).toISOString()
      for (const name of ['0001-init', '0002-postponed-caps'])
        db.prepare('insert into vouch_schema_migration (name, timestamp) values (?, ?)').run(name, at)
      db.prepare(
        `insert into vouch_keys values ('${ME}', '${NS}', '${BOB}', 'k1', 'authenticated', '{"kind":"manual"}', 1, 1)`,
      ).run()
      db.close()
      const store = await sqliteStore({ database: path })
      expect(await store.forAccount(ME).getTrustLevel(NS, BOB, kid('k1'))).toBe('authenticated')
      await store.forAccount(ME).addKeys(NS, BOB, [kid('k2')], ctx(2))
      await store.close()
      expect(master(path)).toEqual(released)
    } finally {
      tmp.cleanup()
    }
  })
})
