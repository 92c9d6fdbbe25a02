/**
 * One transaction per received message and per manual decision: all or nothing; and every call
 * joins the caller's transaction when given one (`{ store: tx }`).
 */
import type { AccountTrustStore, KeyId } from '@vouch/tm-core'
import { NS_OMEMO_2, StoreError } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { Atm } from '../src/index.ts'
import { createAtm } from '../src/index.ts'
import {
  A1,
  A2,
  A3,
  ALICE,
  ALICE_LAPTOP,
  B1,
  B2,
  BOB,
  C1,
  CAROL,
  OMEMO,
  seed,
  testClock,
  trustMessage,
} from './helpers.ts'
import { levels, receive, STORES } from './stores.ts'

const NS = NS_OMEMO_2

/** Wraps a store so that the `n`-th call of `method` inside a transaction fails. */
function failing(store: AccountTrustStore, method: keyof AccountTrustStore, n: number): AccountTrustStore {
  let count = 0
  const wrapTx = (tx: AccountTrustStore): AccountTrustStore =>
    new Proxy(tx, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown
        if (prop === method && typeof v === 'function')
          return (...args: unknown[]) => {
            count++
            if (count === n) return Promise.reject(new StoreError(`injected failure in ${String(prop)}`))
            return (v as (...a: unknown[]) => unknown).apply(target, args)
          }
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      },
    })
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'transaction')
        return <T>(fn: (tx: AccountTrustStore) => Promise<T>) => target.transaction((tx) => fn(wrapTx(tx)))
      const v = Reflect.get(target, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}

describe.each(STORES)('transactions ($name store)', (factory) => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of closers.splice(0)) await c()
  })

  async function base(): Promise<AccountTrustStore> {
    const ts = await factory.make()
    closers.push(() => ts.close())
    const store = ts.forAccount(ALICE)
    await store.setOwnKey(NS, A1)
    await seed(store, NS, ALICE, [A2], 'authenticated')
    return store
  }

  it('a received message is all or nothing: a failure on its second decision undoes the first', async () => {
    const store = await base()
    const atm = createAtm({
      account: ALICE,
      store: failing(store, 'setLastApplied', 2),
      backends: [OMEMO],
      now: testClock().now,
    })
    const before = await levels(store)
    const err = await receive(atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1, B2] }]),
    }).catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ name: 'StoreError' })
    expect(await levels(store)).toEqual(before)
    expect(await store.getLastApplied(NS, A2, BOB, B1)).toBeUndefined()
  })

  it('a manual decision is all or nothing: a failure while releasing postponed data undoes the decision', async () => {
    const store = await base()
    const ok = createAtm({ account: ALICE, store, backends: [OMEMO], now: testClock().now })
    await receive(ok, { from: ALICE_LAPTOP, key: A3, message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]) })
    const atm = createAtm({
      account: ALICE,
      store: failing(store, 'removePostponedBySenders', 1),
      backends: [OMEMO],
      now: testClock().now,
    })
    const events: string[] = []
    atm.on('level-changed', (e) => events.push(e.key.keyId))
    const err = await atm.authenticate(NS, ALICE, [A3]).catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ name: 'StoreError' })
    expect(await store.getTrustLevel(NS, ALICE, A3)).toBe('undecided')
    expect(await store.getPostponed(NS)).toHaveLength(1)
    expect(events).toEqual([]) // events only after commit
  })
})

/** One call of the engine made inside the caller's transaction (`{ store: tx }`). */
interface TxCase {
  readonly name: string
  /** state before the caller's transaction (committed) */
  readonly setup?: (atm: Atm, store: AccountTrustStore) => Promise<void>
  readonly call: (atm: Atm, tx: AccountTrustStore) => Promise<unknown>
}

const viaOwnEndpoint = (keyId: KeyId, message = trustMessage(NS, [{ jid: BOB, trust: [B1] }])) => ({
  message,
  senderJid: ALICE_LAPTOP,
  senderKey: keyId,
  carrier: NS,
  encrypted: true,
  sceTime: 1_000,
})

const TX_CASES: readonly TxCase[] = [
  {
    name: 'handleTrustMessage (applied)',
    call: (atm, tx) => atm.handleTrustMessage(viaOwnEndpoint(A2), { store: tx }),
  },
  {
    name: 'handleTrustMessage (postponed)',
    call: (atm, tx) => atm.handleTrustMessage(viaOwnEndpoint(A3), { store: tx }),
  },
  {
    name: 'handleTrustMessages',
    call: (atm, tx) =>
      atm.handleTrustMessages(
        [viaOwnEndpoint(A2), viaOwnEndpoint(A3, trustMessage(NS, [{ jid: BOB, distrust: [B2] }]))],
        { store: tx },
      ),
  },
  { name: 'authenticate', call: (atm, tx) => atm.authenticate(NS, BOB, [B1], undefined, { store: tx }) },
  { name: 'distrust', call: (atm, tx) => atm.distrust(NS, BOB, [B1], undefined, { store: tx }) },
  {
    name: 'decide',
    call: (atm, tx) =>
      atm.decide({ encryption: NS, owner: BOB, trust: [B1], distrust: [B2] }, undefined, { store: tx }),
  },
  {
    name: 'authenticate releasing postponed data',
    setup: async (atm) => {
      await atm.handleTrustMessage(viaOwnEndpoint(A3))
    },
    call: (atm, tx) => atm.authenticate(NS, ALICE, [A3], undefined, { store: tx }),
  },
  {
    name: 'applyUri',
    call: (atm, tx) =>
      atm.applyUri(
        { jid: BOB, encryption: NS, trust: [B1], distrust: [B2] },
        { uriSource: 'scan', confirm: async () => true, store: tx },
      ),
  },
  { name: 'keysDiscovered', call: (atm, tx) => atm.keysDiscovered(NS, BOB, [B1, B2], { store: tx }) },
  {
    name: 'resetToakafa',
    setup: async (atm) => {
      await atm.authenticate(NS, BOB, [B1])
    },
    call: (atm, tx) => atm.resetToakafa(NS, BOB, { store: tx }),
  },
]

/** Everything a case may change. */
async function snapshot(store: AccountTrustStore): Promise<unknown> {
  return {
    levels: await levels(store),
    postponed: await store.getPostponed(NS),
    lastApplied: await store.getLastApplied(NS, A2, BOB, B1),
    authenticatedOnce: await store.wasAuthenticatedOnce(NS, BOB),
  }
}

describe.each(STORES)("the caller's transaction ({ store: tx }, $name store)", (factory) => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of closers.splice(0)) await c()
  })

  async function world(c: TxCase): Promise<{ atm: Atm; store: AccountTrustStore; events: string[] }> {
    const ts = await factory.make()
    closers.push(() => ts.close())
    const store = ts.forAccount(ALICE)
    await store.setOwnKey(NS, A1)
    await seed(store, NS, ALICE, [A2], 'authenticated')
    const atm = createAtm({ account: ALICE, store, backends: [OMEMO], now: testClock().now })
    await c.setup?.(atm, store)
    const events: string[] = []
    for (const name of ['level-changed', 'decision-postponed', 'postponed-applied'] as const)
      atm.on(name, () => events.push(name))
    return { atm, store, events }
  }

  it.each(TX_CASES)('$name: commits with the caller', async (c) => {
    const { atm, store } = await world(c)
    const before = await snapshot(store)
    let inside: unknown
    await store.transaction(async (tx) => {
      await c.call(atm, tx)
      inside = await snapshot(tx) // the engine's writes are in the caller's transaction
    })
    const after = await snapshot(store)
    expect(after).not.toEqual(before)
    expect(after).toEqual(inside)
  })

  it.each(TX_CASES)('$name: rolls back with the caller (nothing of it is stored)', async (c) => {
    const { atm, store, events } = await world(c)
    const before = await snapshot(store)
    const err = await store
      .transaction(async (tx) => {
        await c.call(atm, tx)
        expect(await snapshot(tx)).not.toEqual(before)
        throw new Error('caller gives up')
      })
      .catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ message: 'caller gives up' })
    expect(await snapshot(store)).toEqual(before)
    // events fire when the engine's work settled, before the caller commits (README "Transactions")
    if (c.name !== 'resetToakafa') expect(events.length).toBeGreaterThan(0)
  })

  it('effectiveSecurityPolicy reads through the caller’s transaction', async () => {
    const { atm, store } = await world(TX_CASES[0] as TxCase)
    await store.transaction(async (tx) => {
      await tx.setSecurityPolicy(NS, 'authenticated-only')
      expect(await atm.effectiveSecurityPolicy(NS, { store: tx })).toBe('authenticated-only')
      const r = await atm.keysDiscovered(NS, CAROL, [C1], { store: tx })
      expect(r.added.map((k) => k.level)).toEqual(['automatically-distrusted'])
    })
  })

  it('a store failure inside the engine’s savepoint reaches the caller, whose transaction decides', async () => {
    const { atm, store } = await world(TX_CASES[0] as TxCase)
    await store.transaction(async (tx) => {
      await atm.keysDiscovered(NS, CAROL, [C1], { store: tx })
      const err = await atm
        .handleTrustMessage(viaOwnEndpoint(A2), { store: failing(tx, 'setLastApplied', 1) })
        .catch((e: unknown) => e as Error)
      expect(err).toMatchObject({ name: 'StoreError' })
      expect(await tx.getTrustLevel(NS, BOB, B1)).toBe('undecided') // the savepoint was undone
    })
    expect(await store.getTrustLevel(NS, CAROL, C1)).toBe('automatically-trusted') // the caller's work kept
  })
})
