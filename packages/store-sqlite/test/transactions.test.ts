import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TrustStore } from '@vouch/tm-core/contracts'
import { sqliteStore } from '../src/index.ts'
import { BOB, ctx, jid, kid, ME, NS } from './helpers.ts'

describe('sqliteStore: transactions and serialisation on one connection', () => {
  let store: TrustStore
  beforeEach(async () => {
    store = await sqliteStore({ database: ':memory:' })
  })
  afterEach(async () => {
    await store.close()
  })

  it('rolls back every write of a transaction whose function throws', async () => {
    const a = store.forAccount(ME)
    await expect(
      a.transaction(async (tx) => {
        await tx.addKeys(NS, BOB, [kid('k1'), kid('k2')], ctx(1))
        await tx.setOwnKey(NS, kid('own'))
        await tx.setState('omemo', 'session', new Uint8Array([1]))
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(await a.getKeys(NS)).toEqual([])
    expect(await a.getOwnKey(NS)).toBeUndefined()
    expect(await a.getState('omemo', 'session')).toBeUndefined()
  })

  it('lets a nested transaction join the outer one: an outer failure undoes the inner writes', async () => {
    const a = store.forAccount(ME)
    // `rejects.toThrow('outer fails')`, not a swallowed rejection: a failed expect inside the
    // transaction rejects it with that assertion error instead, and fails the test
    await expect(
      a.transaction(async (tx) => {
        await tx.transaction(async (inner) => {
          await inner.setOwnKey(NS, kid('inner'))
        })
        expect(await tx.getOwnKey(NS)).toBe('inner')
        throw new Error('outer fails')
      }),
    ).rejects.toThrow('outer fails')
    expect(await a.getOwnKey(NS)).toBeUndefined()
  })

  it('makes a plain call wait until a running transaction has committed (no interleaving)', async () => {
    const a = store.forAccount(ME)
    const order: string[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const tx = a.transaction(async (t) => {
      await t.setOwnKey(NS, kid('one'))
      order.push('tx wrote')
      await gate
      await t.setOwnKey(NS, kid('two'))
      order.push('tx done')
    })
    await new Promise((r) => setTimeout(r, 5))
    const plain = a.getOwnKey(NS).then((v) => {
      order.push(`plain read ${v}`)
      return v
    })
    await new Promise((r) => setTimeout(r, 5))
    expect(order).toEqual(['tx wrote']) // the plain read is still waiting
    release()
    await tx
    expect(await plain).toBe('two')
    expect(order).toEqual(['tx wrote', 'tx done', 'plain read two'])
  })

  it('serialises transactions of two accounts that share the database', async () => {
    const a = store.forAccount(ME)
    const b = store.forAccount(jid('other@example.org'))
    const log: string[] = []
    const run = (name: string, s: typeof a) =>
      s.transaction(async (tx) => {
        log.push(`${name} begin`)
        await tx.addKeys(NS, BOB, [kid(name)], ctx(1))
        await new Promise((r) => setTimeout(r, 5))
        log.push(`${name} end`)
      })
    await Promise.all([run('a', a), run('b', b)])
    expect(log).toEqual(['a begin', 'a end', 'b begin', 'b end'])
    expect((await a.getKeys(NS)).map((k) => k.keyId)).toEqual(['a'])
    expect((await b.getKeys(NS)).map((k) => k.keyId)).toEqual(['b'])
  })

  it('runs calls on one transaction one after the other even when they are not awaited in turn', async () => {
    const a = store.forAccount(ME)
    await a.transaction(async (tx) => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          tx.addPostponed([
            {
              encryption: NS,
              senderKey: kid('s'),
              senderJid: BOB,
              owner: BOB,
              keyId: kid(`k${i % 5}`),
              polarity: 'trust',
              sceTime: i,
              receivedAt: i,
            },
          ]),
        ),
      )
    })
    const rows = await a.getPostponed(NS)
    expect(rows.map((r) => [r.keyId, r.sceTime])).toEqual([
      ['k0', 15],
      ['k1', 16],
      ['k2', 17],
      ['k3', 18],
      ['k4', 19],
    ])
  })

  it('waits for calls the transaction function started but did not await before committing', async () => {
    const a = store.forAccount(ME)
    await a.transaction(async (tx) => {
      void tx.setOwnKey(NS, kid('late'))
    })
    expect(await a.getOwnKey(NS)).toBe('late')
  })

  it('rejects use of a transaction view after the transaction ended with a StoreError', async () => {
    const a = store.forAccount(ME)
    let leaked: Parameters<Parameters<typeof a.transaction>[0]>[0] | undefined
    await a.transaction(async (tx) => {
      leaked = tx
    })
    const error = (await leaked!.getOwnKey(NS).catch((e: unknown) => e)) as Error
    expect(error.name).toBe('StoreError')
    expect(error.message).toMatch(/transaction is finished/)
  })

  it('returns the value of the transaction function', async () => {
    expect(await store.forAccount(ME).transaction(async () => 42)).toBe(42)
  })
})
