/**
 * The unit of work of the SQL core (store-sqlite `sql-core/unit-of-work.ts`): inside a
 * transaction, keys, D-9 times and D-11 flags are read per owner once and served from memory, and
 * their writes are held back and sent as multi-row statements (with the held-back savepoints) when
 * a statement needs them or before COMMIT. What must not change: every read sees the transaction's
 * own writes, a nested transaction that throws undoes exactly its writes (whether or not its
 * savepoint had been sent), owners too large to be read whole behave the same, and a batch of ATM
 * trust messages costs a handful of statements, not several per message.
 * Run on PostgreSQL and on SQLite (the same core).
 */
import { createAtm, NS_ATM, type ReceivedTrustMessage } from '@vouch/atm'
import { sqliteStore } from '@vouch/store-sqlite'
import { keyIdFromBytes } from '@vouch/tm-core'
import type { KeyId, PostponedDecision, TrustStore } from '@vouch/tm-core/contracts'
import { Kysely, type LogEvent, PostgresDialect } from 'kysely'
import { describe, expect, it } from 'vitest'
import { dropTrustTables, migratePostgres, postgresStore, type TrustDb } from '../src/index.ts'
import { BOB, ctx, freshStore, kid, ME, NO_PG, NS, SKIP, testPool } from './helpers.ts'

const fail = new Error('nested fails')

const postponed = (keyId: string): PostponedDecision => ({
  encryption: NS,
  senderKey: kid('sender'),
  senderJid: BOB,
  owner: BOB,
  keyId: kid(keyId),
  polarity: 'trust',
  sceTime: 10,
  receivedAt: 10,
})

interface Target {
  readonly name: string
  readonly skip: boolean
  readonly oneConnection: boolean
  open(): Promise<TrustStore>
}

const targets: Target[] = [
  { name: `PostgreSQL ${SKIP}`, skip: NO_PG, oneConnection: false, open: () => freshStore() },
  { name: 'SQLite', skip: false, oneConnection: true, open: () => sqliteStore({ database: ':memory:' }) },
]

describe.each(targets)('unit of work on $name', (target) => {
  it.skipIf(target.skip)(
    'reads in a transaction see its held-back writes (levels, D-9 times, D-11), others see them after COMMIT',
    async () => {
      const store = await target.open()
      const a = store.forAccount(ME)
      await a.addKeys(NS, BOB, [kid('k1'), kid('k2')], ctx(1), 'automatically-trusted')
      await a.transaction(async (tx) => {
        expect(await tx.getTrustLevel(NS, BOB, kid('k1'))).toBe('automatically-trusted')
        await tx.setTrustLevels(
          NS,
          [{ owner: BOB, keyIds: [kid('k1'), kid('k3')], level: 'authenticated' }],
          ctx(2),
        )
        await tx.setLastApplied(NS, kid('s'), BOB, kid('k1'), 42)
        // served from memory
        expect(await tx.getTrustLevel(NS, BOB, kid('k3'))).toBe('authenticated')
        expect(await tx.getLastApplied(NS, kid('s'), BOB, kid('k1'))).toBe(42)
        expect(await tx.wasAuthenticatedOnce(NS, BOB)).toBe(true)
        // answered by the database after the held-back writes are sent
        expect(await tx.hasKey(NS, BOB, ['authenticated'])).toBe(true)
        expect((await tx.getKeys(NS, { levels: ['authenticated'] })).map((k) => k.keyId)).toEqual([
          'k1',
          'k3',
        ])
        // TOAK-2-style demotion of what is left, in memory, then read back both ways
        const demoted = await tx.changeTrustLevels(
          NS,
          [BOB],
          'automatically-trusted',
          'automatically-distrusted',
          ctx(3),
        )
        expect(demoted.map((k) => k.keyId)).toEqual(['k2'])
        expect((await tx.getKeys(NS, { owners: [BOB], keyIds: [kid('k2')] }))[0]?.level).toBe(
          'automatically-distrusted',
        )
        // outside the transaction (another connection; SQLite has one, held by the transaction): nothing yet
        if (!target.oneConnection) expect(await a.getTrustLevel(NS, BOB, kid('k3'))).toBe('undecided')
      })
      const keys = await a.getKeys(NS)
      expect(keys.map((k) => [k.keyId, k.level, k.firstSeen, k.changedAt])).toEqual([
        ['k1', 'authenticated', 1, 2],
        ['k2', 'automatically-distrusted', 1, 3],
        ['k3', 'authenticated', 2, 2],
      ])
      expect(await a.getLastApplied(NS, kid('s'), BOB, kid('k1'))).toBe(42)
      expect(await a.wasAuthenticatedOnce(NS, BOB)).toBe(true)
      await store.close()
    },
  )

  it.skipIf(target.skip)(
    'a nested transaction that throws after its savepoint was sent (a postponed write) undoes its held-back writes too',
    async () => {
      const store = await target.open()
      const a = store.forAccount(ME)
      await a.transaction(async (tx) => {
        await tx.setTrustLevels(NS, [{ owner: BOB, keyIds: [kid('outer')], level: 'authenticated' }], ctx(1))
        await tx.setLastApplied(NS, kid('s'), BOB, kid('outer'), 1)
        await expect(
          tx.transaction(async (inner) => {
            await inner.setTrustLevels(
              NS,
              [{ owner: BOB, keyIds: [kid('outer')], level: 'manually-distrusted' }],
              ctx(2),
            )
            await inner.setLastApplied(NS, kid('s'), BOB, kid('outer'), 2)
            await inner.addPostponed([postponed('p')]) // not held back: sends the savepoint and what came before
            await inner.setTrustLevels(
              NS,
              [{ owner: BOB, keyIds: [kid('inner')], level: 'authenticated' }],
              ctx(3),
            )
            throw fail
          }),
        ).rejects.toBe(fail)
        // the outer transaction's view is back to before the nested one
        expect(await tx.getTrustLevel(NS, BOB, kid('outer'))).toBe('authenticated')
        expect(await tx.getLastApplied(NS, kid('s'), BOB, kid('outer'))).toBe(1)
        expect(await tx.getKey(NS, BOB, kid('inner'))).toBeUndefined()
        expect(await tx.getPostponed(NS)).toEqual([])
        // and a nested one that stays unsent and throws, then one that commits
        await expect(
          tx.transaction(async (inner) => {
            await inner.setLastApplied(NS, kid('s'), BOB, kid('outer'), 5)
            throw fail
          }),
        ).rejects.toBe(fail)
        await tx.transaction(async (inner) => inner.setLastApplied(NS, kid('s'), BOB, kid('outer'), 7))
      })
      expect((await a.getKeys(NS)).map((k) => [k.keyId, k.level])).toEqual([['outer', 'authenticated']])
      expect(await a.getLastApplied(NS, kid('s'), BOB, kid('outer'))).toBe(7)
      expect(await a.getPostponed(NS)).toEqual([])
      await store.close()
    },
  )

  it.skipIf(target.skip)(
    'an owner with more keys than are read at once (300) is handled the same: set, demote, read',
    async () => {
      const store = await target.open()
      const a = store.forAccount(ME)
      const ids = Array.from({ length: 300 }, (_, i) => kid(`k${String(i).padStart(3, '0')}`))
      await a.addKeys(NS, BOB, ids, ctx(1), 'automatically-trusted')
      await a.transaction(async (tx) => {
        expect(await tx.getTrustLevel(NS, BOB, kid('k007'))).toBe('automatically-trusted')
        const set = await tx.setTrustLevels(
          NS,
          [{ owner: BOB, keyIds: [kid('k007'), kid('new')], level: 'authenticated' }],
          ctx(2),
        )
        expect(set.map((k) => k.keyId)).toEqual(['k007', 'new'])
        const demoted = await tx.changeTrustLevels(
          NS,
          [BOB],
          'automatically-trusted',
          'automatically-distrusted',
          ctx(3),
        )
        expect(demoted).toHaveLength(299)
        expect(await tx.getTrustLevel(NS, BOB, kid('k299'))).toBe('automatically-distrusted')
      })
      const levels = new Map((await a.getKeys(NS)).map((k) => [k.keyId as string, k.level]))
      expect(levels.size).toBe(301)
      expect(levels.get('k007')).toBe('authenticated')
      expect(levels.get('new')).toBe('authenticated')
      expect([...levels.values()].filter((l) => l === 'automatically-distrusted')).toHaveLength(299)
      await store.close()
    },
  )
})

describe.skipIf(NO_PG)(`statements of an ATM batch on PostgreSQL ${SKIP}`, () => {
  it('50 trust messages in one handleTrustMessages: at most 10 statements (not several per message)', async () => {
    const prefix = `uow${process.pid}_`
    const pool = testPool()
    const counted: string[] = []
    let counting = false
    const db = new Kysely<TrustDb>({
      dialect: new PostgresDialect({ pool }),
      log: (e: LogEvent) => {
        if (counting && e.level === 'query') counted.push(e.query.sql)
      },
    })
    const store = await postgresStore({ database: db, tablePrefix: prefix })
    try {
      const a = store.forAccount(ME)
      // key ids as the backend declares them (32 bytes)
      const key = (n: number): KeyId => keyIdFromBytes(new Uint8Array(32).fill(n))
      const sender = key(99)
      const bobKeys = [key(0), key(1), key(2), key(3)]
      await a.setTrustLevels(NS, [{ owner: ME, keyIds: [sender], level: 'authenticated' }], ctx(1))
      await a.addKeys(NS, BOB, bobKeys, ctx(1), 'automatically-trusted')
      const atm = createAtm({
        account: ME,
        store: a,
        backends: [{ namespace: NS, capabilities: { oneKeyPerIdentity: false, keyIdLength: 32 } }],
        now: () => 1_000,
      })
      const batch: ReceivedTrustMessage[] = Array.from({ length: 50 }, (_, i) => ({
        message: {
          usage: NS_ATM,
          encryption: NS,
          keyOwners: [
            {
              jid: BOB,
              trust: i % 8 < 4 ? [bobKeys[i % 4] as KeyId] : [],
              distrust: i % 8 < 4 ? [] : [bobKeys[i % 4] as KeyId],
            },
          ],
        },
        senderJid: ME,
        senderKey: sender,
        carrier: NS,
        encrypted: true,
        sceTime: 10_000 + i,
      }))
      counting = true
      const results = await atm.handleTrustMessages(batch)
      counting = false
      expect(results.map((r) => r.outcome)).toEqual(batch.map(() => 'applied'))
      expect(counted.length, counted.join('\n')).toBeLessThanOrEqual(10)
      // the last word on each key: b0, b1 trusted (messages 48, 49), b2, b3 distrusted (46, 47)
      expect((await a.getKeys(NS, { owners: [BOB] })).map((k) => k.level)).toEqual([
        'authenticated',
        'authenticated',
        'manually-distrusted',
        'manually-distrusted',
      ])
    } finally {
      await store.close() // the Kysely instance and its pool are ours (the file's pool): not ended
      await dropTrustTables({ database: pool, tablePrefix: prefix })
    }
  })
})

describe.skipIf(NO_PG)(`round trips of a transaction on PostgreSQL ${SKIP}`, () => {
  it('BEGIN and the account lock travel in one query: a transaction reading its own key is 3 round trips', async () => {
    const pool = testPool()
    const sent: string[] = []
    // the pool as the store sees it, counting what reaches the server
    const counting = {
      connect: async () => {
        const client = await pool.connect()
        const query = client.query.bind(client) as (...a: unknown[]) => unknown
        return Object.assign(Object.create(client), {
          query: (...a: unknown[]) => {
            const first = a[0] as string | { text: string }
            sent.push(typeof first === 'string' ? first : first.text)
            return query(...a)
          },
          release: () => client.release(),
        })
      },
      end: async () => {},
    }
    const prefix = `rt${process.pid}_`
    await migratePostgres({ database: pool, tablePrefix: prefix })
    const store = await postgresStore({ database: counting, tablePrefix: prefix, migrate: false })
    try {
      sent.length = 0
      await store.forAccount(ME).transaction(async (tx) => tx.getOwnKey(NS))
      expect(sent, sent.join('\n')).toHaveLength(3)
      expect(sent[0]).toMatch(
        /^start transaction isolation level read committed; select pg_advisory_xact_lock\(/,
      )
      expect(sent[2]).toBe('commit')
    } finally {
      await store.close()
      await dropTrustTables({ database: pool, tablePrefix: prefix })
    }
  })
})
