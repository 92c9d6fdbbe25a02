import Database from 'better-sqlite3'
import { Kysely } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SCHEMA_VERSION, sqliteStore, type TrustDb } from '../src/index.ts'
import { VouchSqliteDialect } from '../src/driver.ts'
import type { BareJid, PostponedDecision } from '@vouch/tm-core/contracts'
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

  it('records schema version 2 as two applied migrations in its own bookkeeping table', async () => {
    const db = new Database(':memory:')
    const store = await sqliteStore({ database: db })
    const rows = db.prepare('select name from vouch_schema_migration order by name').all()
    expect(rows).toEqual([{ name: '0001-init' }, { name: '0002-postponed-caps' }])
    expect(SCHEMA_VERSION).toBe(rows.length)
    await store.close()
    db.close()
  })

  it('upgrades a schema version 1 database: 0002 adds the cap indexes and keeps the postponed decisions', async () => {
    const db = new Database(':memory:')
    const a = await sqliteStore({ database: db })
    await a.forAccount(ME).addPostponed([
      {
        encryption: NS,
        senderKey: kid('s'),
        senderJid: BOB,
        owner: BOB,
        keyId: kid('k'),
        polarity: 'trust',
        sceTime: 1,
        receivedAt: 2,
      },
    ])
    await a.close()
    // back to version 1: what a database written by the previous release holds
    db.exec('drop index vouch_postponed_by_sender_jid_time; drop index vouch_postponed_by_time')
    db.prepare(`delete from vouch_schema_migration where name = '0002-postponed-caps'`).run()
    const b = await sqliteStore({ database: db })
    const indexes = db
      .prepare(
        `select name from sqlite_master where type = 'index' and tbl_name = 'vouch_postponed' order by name`,
      )
      .all()
      .map((r) => (r as { name: string }).name)
    expect(indexes).toEqual(
      expect.arrayContaining(['vouch_postponed_by_sender_jid_time', 'vouch_postponed_by_time']),
    )
    expect((await b.forAccount(ME).getPostponed(NS)).map((d) => d.keyId)).toEqual([kid('k')])
    await b.close()
    db.close()
  })

  it('runs migrations once: reopening the same database applies nothing and keeps the data', async () => {
    const db = new Database(':memory:')
    const a = await sqliteStore({ database: db })
    await a.forAccount(ME).setOwnKey(NS, kid('own'))
    await a.close()
    const b = await sqliteStore({ database: db })
    expect(await b.forAccount(ME).getOwnKey(NS)).toBe('own')
    expect(db.prepare('select count(*) as n from vouch_schema_migration').get()).toEqual({
      n: SCHEMA_VERSION,
    })
    await b.close()
    db.close()
  })

  it('refuses a database migrated by a newer version (unknown migration) with a StoreSchemaTooNewError', async () => {
    const db = new Database(':memory:')
    await (await sqliteStore({ database: db })).close()
    db.prepare(`insert into vouch_schema_migration (name, timestamp) values ('0003-future', 'x')`).run()
    const error = (await sqliteStore({ database: db }).catch((e: unknown) => e)) as Error & {
      schemaVersion?: number
      supportedVersion?: number
      retryable?: boolean
    }
    expect(error.name).toBe('StoreSchemaTooNewError')
    expect(error.message).toMatch(/0003-future/)
    expect([error.schemaVersion, error.supportedVersion, error.retryable]).toEqual([3, SCHEMA_VERSION, false])
    // nothing was changed: the newer schema's bookkeeping is still there
    expect(db.prepare('select count(*) as n from vouch_schema_migration').get()).toEqual({
      n: SCHEMA_VERSION + 1,
    })
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

  it.each(['maxPostponedPerSender', 'maxPostponedPerSenderJid', 'maxPostponedPerAccount'] as const)(
    'rejects a cap that is not a positive integer (%s)',
    async (name) => {
      for (const value of [0, -1, 1.5, Number.NaN]) {
        const error = await sqliteStore({ database: ':memory:', limits: { [name]: value } }).catch(
          (e: unknown) => e,
        )
        expect((error as Error).name).toBe('RangeError')
        expect((error as Error).message).toContain(name)
      }
    },
  )

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

  it('keeps the three postponed caps with indexed statements only: no table scan, no sort b-tree', async () => {
    const raw = new Database(':memory:')
    const statements: { sql: string; parameters: readonly unknown[] }[] = []
    const kysely = new Kysely<TrustDb>({
      dialect: new VouchSqliteDialect(raw),
      log: (event) => {
        if (event.level === 'query') statements.push(event.query)
      },
    })
    const store = await sqliteStore({
      database: kysely,
      tablePrefix: '',
      limits: { maxPostponedPerSender: 2, maxPostponedPerSenderJid: 3, maxPostponedPerAccount: 4 },
    })
    const decision = (senderKey: string, senderJid: string, i: number): PostponedDecision => ({
      encryption: NS,
      senderKey: kid(senderKey),
      senderJid: senderJid as BareJid,
      owner: senderJid as BareJid,
      keyId: kid(`k${i}`),
      polarity: 'trust',
      sceTime: i,
      receivedAt: i,
    })
    const a = store.forAccount(ME)
    // 3 from one key (key cap), then 2 more keys of that JID (JID cap), then another JID (account cap)
    await a.addPostponed([1, 2, 3].map((i) => decision('s1', BOB, i)))
    await a.addPostponed([decision('s2', BOB, 4), decision('s3', BOB, 5)])
    await a.addPostponed([6, 7, 8].map((i) => decision(`c${i}`, 'carol@example.org', i)))
    const evicting = statements.filter((q) => /select/i.test(q.sql) && /"postponed"/.test(q.sql))
    // the edge read happens only for a group over its cap: one for each kind of group
    const edges = evicting.filter((q) => /offset/i.test(q.sql))
    expect(edges.filter((q) => q.sql.includes('"sender_key"'))).toHaveLength(1)
    expect(edges.filter((q) => q.sql.includes('"sender_jid"'))).toHaveLength(1)
    expect(edges.filter((q) => !q.sql.includes('"encryption"'))).toHaveLength(1)
    for (const q of evicting) {
      const plan = raw
        .prepare(`explain query plan ${q.sql}`)
        .all(...q.parameters)
        .map((r) => (r as { detail: string }).detail)
        .join('; ')
      expect(plan, q.sql).toMatch(/USING (COVERING )?INDEX postponed_by_(sender_time|sender_jid_time|time)/)
      expect(plan, q.sql).not.toMatch(/TEMP B-TREE|SCAN/)
    }
    await store.close()
    await kysely.destroy()
  })
})
