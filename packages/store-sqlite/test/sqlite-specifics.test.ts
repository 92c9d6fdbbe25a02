import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { PostponedDecision, TrustStore } from '@vouch/tm-core/contracts'
import { sqliteStore } from '../src/index.ts'
import { BOB, ctx, jid, kid, ME, NS } from './helpers.ts'

// Where SQL and JavaScript disagree (collation, LIKE, parameter limits, Buffer vs Uint8Array), the
// store must answer like the in-memory reference.
describe('sqliteStore: answers like JavaScript where SQLite differs', () => {
  let db: Database.Database
  let store: TrustStore
  beforeEach(async () => {
    db = new Database(':memory:')
    store = await sqliteStore({ database: db, limits: { maxPostponedPerSender: 3 } })
  })
  afterEach(async () => {
    await store.close()
    db.close()
  })

  it('sorts by code point (UTF-8 byte order, like the reference store), not by UTF-16 code unit', async () => {
    const a = store.forAccount(ME)
    // U+E000 sorts before U+1F600 by code point, after it by UTF-16 code unit (Array#sort).
    const high = jid('\uE000@example.org')
    const astral = jid('\u{1F600}@example.org')
    await a.addKeys(NS, astral, [kid('\u{1F600}'), kid('\uE000')], ctx(1))
    await a.addKeys(NS, high, [kid('k')], ctx(1))
    const keys = (await a.getKeys(NS)).map((k) => [k.owner, k.keyId])
    expect(keys).toEqual([
      [high, 'k'],
      [astral, '\uE000'],
      [astral, '\u{1F600}'],
    ])
    expect(await a.listState('none')).toEqual([])
    await a.setState('ns', '\u{1F600}', new Uint8Array([1]))
    await a.setState('ns', '\uE000', new Uint8Array([1]))
    expect(await a.listState('ns')).toEqual(['\uE000', '\u{1F600}'])
  })

  it('handles lists longer than SQLite parameter limits (40,000 key ids)', async () => {
    const a = store.forAccount(ME)
    const ids = Array.from({ length: 40_000 }, (_, i) => kid(`k${String(i).padStart(5, '0')}`))
    const added = await a.addKeys(NS, BOB, ids, ctx(1))
    expect(added).toHaveLength(40_000)
    const some = await a.getKeys(NS, { keyIds: ids.filter((_, i) => i % 2 === 0) })
    expect(some).toHaveLength(20_000)
    await a.removeKeysById(NS, ids.slice(0, 39_999))
    expect((await a.getKeys(NS)).map((k) => k.keyId)).toEqual(['k39999'])
  })

  it('matches state keys by exact prefix: no LIKE wildcards, case-sensitive, multi-byte safe', async () => {
    const a = store.forAccount(ME)
    for (const key of ['a%b', 'aXb', 'a_1', 'ab', 'A%b', 'é1', 'é2', 'e1']) {
      await a.setState('ns', key, new Uint8Array([1]))
    }
    expect(await a.listState('ns', 'a%')).toEqual(['a%b'])
    expect(await a.listState('ns', 'a_')).toEqual(['a_1'])
    expect(await a.listState('ns', 'é')).toEqual(['é1', 'é2'])
    expect(await a.listState('ns')).toEqual(['A%b', 'a%b', 'aXb', 'a_1', 'ab', 'e1', 'é1', 'é2'])
  })

  it('returns backend state as a plain Uint8Array copy, not a driver Buffer', async () => {
    const a = store.forAccount(ME)
    const value = new Uint8Array([0, 1, 2, 255])
    await a.setState('omemo', 'k', value.subarray(1, 3))
    const read = await a.getState('omemo', 'k')
    expect(read).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(read)).toBe(false)
    expect([...(read ?? [])]).toEqual([1, 2])
    read![0] = 99
    expect([...((await a.getState('omemo', 'k')) ?? [])]).toEqual([1, 2])
  })

  it('evicts the oldest postponed decisions of one sender beyond the cap and reports them', async () => {
    const a = store.forAccount(ME)
    const d = (keyId: string, sceTime: number, senderKey = 's1'): PostponedDecision => ({
      encryption: NS,
      senderKey: kid(senderKey),
      senderJid: BOB,
      owner: BOB,
      keyId: kid(keyId),
      polarity: 'trust',
      sceTime,
      receivedAt: 100,
    })
    await a.addPostponed([d('k1', 10), d('k2', 20), d('x', 5, 's2')])
    const result = await a.addPostponed([d('k3', 30), d('k4', 40)])
    expect(result.stored.map((r) => r.keyId)).toEqual(['k3', 'k4'])
    expect(result.evicted.map((r) => r.keyId)).toEqual(['k1'])
    expect((await a.getPostponed(NS)).map((r) => r.keyId)).toEqual(['x', 'k2', 'k3', 'k4'])
    expect(db.prepare('select count(*) as n from vouch_postponed').get()).toEqual({ n: 4 })
  })

  it('keeps one database shared by several accounts apart, including backend state', async () => {
    const me = store.forAccount(ME)
    const other = store.forAccount(jid('other@example.org'))
    await me.setState('omemo', 'k', new Uint8Array([1]))
    await me.addKeys(NS, BOB, [kid('k')], ctx(1))
    expect(await other.getState('omemo', 'k')).toBeUndefined()
    expect(await other.getKeys(NS)).toEqual([])
    await other.resetAll(NS)
    expect(await me.getKeys(NS)).toHaveLength(1)
  })
})
