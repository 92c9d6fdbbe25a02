/** One transaction per received message and per manual decision: all or nothing. */
import type { AccountTrustStore } from '@vouch/tm-core'
import { NS_OMEMO_2, StoreError } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
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
