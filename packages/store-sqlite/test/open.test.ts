import Database from 'better-sqlite3'
import { Kysely } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SCHEMA_VERSION, sqliteStore, type TrustDb } from '../src/index.ts'
import { VouchSqliteDialect } from '../src/dialect.ts'
import { BOB, ctx, kid, ME, NS, tempDir } from './helpers.ts'

describe('sqliteStore: opening, pragmas and migrations', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  it('opens a file path with better-sqlite3 loaded lazily and keeps data across reopen', async () => {
    const path = tmp.file('trust.db')
    const first = await sqliteStore({ database: path })
    await first.forAccount(ME).addKeys(NS, BOB, [kid('k1')], ctx(1), 'authenticated')
    await first.close()
    const second = await sqliteStore({ database: path })
    expect(await second.forAccount(ME).getTrustLevel(NS, BOB, kid('k1'))).toBe('authenticated')
    expect(await second.forAccount(ME).wasAuthenticatedOnce(NS, BOB)).toBe(true)
    await second.close()
  })

  it('sets WAL, busy_timeout, synchronous FULL and foreign_keys on a database it is given', async () => {
    const db = new Database(tmp.file('p.db'))
    const store = await sqliteStore({ database: db, busyTimeoutMs: 1234 })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234)
    expect(db.pragma('synchronous', { simple: true })).toBe(2) // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    await store.close()
    db.close()
  })

  it('sets synchronous NORMAL when asked', async () => {
    const db = new Database(tmp.file('n.db'))
    const store = await sqliteStore({ database: db, synchronous: 'NORMAL' })
    expect(db.pragma('synchronous', { simple: true })).toBe(1)
    await store.close()
    db.close()
  })

  it('leaves a database it was given open after close(), and closes one it opened', async () => {
    const db = new Database(':memory:')
    const store = await sqliteStore({ database: db })
    await store.close()
    expect(db.open).toBe(true)
    expect(() => db.prepare('select 1').get()).not.toThrow()
    db.close()
  })

  it('records schema version 1 as one applied migration in its own bookkeeping table', async () => {
    const db = new Database(':memory:')
    const store = await sqliteStore({ database: db })
    const rows = db.prepare('select name from vouch_schema_migration order by name').all()
    expect(rows).toEqual([{ name: '0001-init' }])
    expect(SCHEMA_VERSION).toBe(rows.length)
    await store.close()
    db.close()
  })

  it('runs migrations once: reopening the same database applies nothing and keeps the data', async () => {
    const db = new Database(':memory:')
    const a = await sqliteStore({ database: db })
    await a.forAccount(ME).setOwnKey(NS, kid('own'))
    await a.close()
    const b = await sqliteStore({ database: db })
    expect(await b.forAccount(ME).getOwnKey(NS)).toBe('own')
    expect(db.prepare('select count(*) as n from vouch_schema_migration').get()).toEqual({ n: 1 })
    await b.close()
    db.close()
  })

  it('refuses a database migrated by a newer version (unknown migration) with a StoreError', async () => {
    const db = new Database(':memory:')
    await (await sqliteStore({ database: db })).close()
    db.prepare(`insert into vouch_schema_migration (name, timestamp) values ('0002-future', 'x')`).run()
    const error = await sqliteStore({ database: db }).catch((e: unknown) => e)
    expect((error as Error).name).toBe('StoreError')
    expect((error as Error).message).toMatch(/0002-future|missing|corrupt/i)
    db.close()
  })

  it('keeps two table prefixes in one database apart', async () => {
    const db = new Database(':memory:')
    const a = await sqliteStore({ database: db, tablePrefix: 'a_' })
    const b = await sqliteStore({ database: db, tablePrefix: 'b_' })
    await a.forAccount(ME).setOwnKey(NS, kid('from-a'))
    expect(await b.forAccount(ME).getOwnKey(NS)).toBeUndefined()
    const tables = db
      .prepare(`select name from sqlite_master where type = 'table' order by name`)
      .all()
      .map((r) => (r as { name: string }).name)
    expect(tables).toContain('a_keys')
    expect(tables).toContain('b_keys')
    expect(tables).not.toContain('keys')
    await a.close()
    await b.close()
    db.close()
  })

  it('rejects a table prefix that is not an SQL identifier', async () => {
    await expect(sqliteStore({ database: ':memory:', tablePrefix: 'x"; drop table' })).rejects.toThrow(
      /tablePrefix/,
    )
  })

  it('rejects a non-positive per-sender cap', async () => {
    await expect(sqliteStore({ database: ':memory:', limits: { maxPostponedPerSender: 0 } })).rejects.toThrow(
      /maxPostponedPerSender/,
    )
  })

  it('uses a ready Kysely<TrustDb> as is and does not destroy it on close()', async () => {
    const raw = new Database(':memory:')
    const kysely = new Kysely<TrustDb>({ dialect: new VouchSqliteDialect(raw) })
    const store = await sqliteStore({ database: kysely, tablePrefix: '' })
    await store.forAccount(ME).addKeys(NS, BOB, [kid('k')], ctx(1))
    await store.close()
    const rows = await kysely.selectFrom('keys').select(['owner', 'key_id', 'level']).execute()
    expect(rows).toEqual([{ owner: BOB, key_id: 'k', level: 'automatically-distrusted' }])
    await kysely.destroy()
  })

  it('answers the ATM engine queries from indexes, not table scans', async () => {
    const db = new Database(':memory:')
    const store = await sqliteStore({ database: db })
    const plan = (q: string): string =>
      db
        .prepare(`explain query plan ${q}`)
        .all('a', 'b', 'c')
        .map((r) => (r as { detail: string }).detail)
        .join('; ')
    expect(plan('select * from vouch_keys where account = ? and encryption = ? and level = ?')).toMatch(
      /USING INDEX vouch_keys_by_level/,
    )
    expect(plan('select * from vouch_keys where account = ? and encryption = ? and key_id = ?')).toMatch(
      /USING INDEX vouch_keys_by_key_id/,
    )
    expect(plan('select * from vouch_keys where account = ? and encryption = ? and owner = ?')).toMatch(
      /USING INDEX sqlite_autoindex_vouch_keys_1 \(account=\? AND encryption=\? AND owner=\?\)/,
    )
    expect(
      plan('select * from vouch_postponed where account = ? and encryption = ? and sender_key = ?'),
    ).toMatch(
      /USING INDEX (sqlite_autoindex_vouch_postponed_1|vouch_postponed_by_sender_time) \(account=\? AND encryption=\? AND sender_key=\?\)/,
    )
    expect(plan('select * from vouch_postponed where account = ? and encryption = ? and key_id = ?')).toMatch(
      /USING INDEX vouch_postponed_by_key_id/,
    )
    await store.close()
    db.close()
  })
})
