/**
 * `handleTrustMessages`: a batch of received trust messages in ONE store transaction, in order,
 * with the results, events and final state of `handleTrustMessage` called once per message. A
 * message that throws anything but a `StoreError` is rejected alone (its savepoint is rolled
 * back); a `StoreError` rejects the whole batch.
 */
import type { AccountTrustStore, BareJid, FullJid, KeyId, TrustMessage, TrustStore } from '@vouch/tm-core'
import { NS_OMEMO_2, StoreError } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type {
  Atm,
  AtmEventName,
  AtmPolicy,
  PendingAutomaticDecision,
  ReceivedTrustMessage,
  ReceiveResult,
} from '../src/index.ts'
import { createAtm, NS_ATM } from '../src/index.ts'
import {
  A1,
  A2,
  A3,
  A4,
  ALICE,
  ALICE_LAPTOP,
  ALICE_PHONE,
  B1,
  B2,
  B3,
  BOB,
  BOB_PHONE,
  C1,
  C2,
  CAROL,
  CAROL_PHONE,
  M1,
  MALLORY,
  MALLORY_PHONE,
  OMEMO,
  oxKey,
  seed,
  trustMessage,
} from './helpers.ts'
import { levels, STORES, type StoreEntry } from './stores.ts'

const NS = NS_OMEMO_2
const EVENTS: readonly AtmEventName[] = [
  'level-changed',
  'decision-postponed',
  'postponed-applied',
  'decision-vetoed',
  'postponed-evicted',
]

/** mulberry32: a small seeded PRNG, so every failing batch can be replayed by its seed */
function prng(seed: number): {
  int(n: number): number
  pick<T>(xs: readonly T[]): T
  chance(p: number): boolean
} {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number],
    chance: (p) => next() < p,
  }
}

interface World {
  readonly atm: Atm
  readonly store: AccountTrustStore
  readonly events: unknown[]
  close(): Promise<void>
}

const T0 = 10_000

/** Alice's A1 with A2 and B1 authenticated, B2 and B3 known, a manual distrust of C1. */
async function world(
  factory: StoreEntry,
  policy: Partial<AtmPolicy> = {},
  confirm?: (d: PendingAutomaticDecision) => Promise<boolean>,
  wrap: (s: AccountTrustStore) => AccountTrustStore = (s) => s,
): Promise<World> {
  const ts: TrustStore = await factory.make({ maxPostponedPerSender: 6 })
  const store = ts.forAccount(ALICE)
  await store.setOwnKey(NS, A1)
  await seed(store, NS, ALICE, [A2], 'authenticated', T0 - 100)
  await seed(store, NS, BOB, [B1], 'authenticated', T0 - 100)
  await seed(store, NS, CAROL, [C1], 'manually-distrusted', T0)
  await store.addKeys(
    NS,
    BOB,
    [B2, B3],
    { provenance: { kind: 'policy', policy: 'toakafa' }, at: T0 - 50 },
    'automatically-trusted',
  )
  // the clock moves on at every reading, so the batch must read it exactly as often as single calls
  let t = T0
  const atm = createAtm({
    account: ALICE,
    ownFullJid: ALICE_PHONE,
    store: wrap(store),
    backends: [OMEMO],
    now: () => ++t,
    limits: { maxKeyOwners: 3 },
    policy,
    ...(confirm === undefined ? {} : { confirm }),
  })
  const events: unknown[] = []
  for (const e of EVENTS) atm.on(e, (payload) => events.push({ e, payload }))
  return { atm, store, events, close: () => ts.close() }
}

const KEYS: Record<string, readonly KeyId[]> = {
  [ALICE]: [A1, A2, A3, A4],
  [BOB]: [B1, B2, B3],
  [CAROL]: [C1, C2],
}
const SENDERS: readonly { jid: FullJid; key: KeyId }[] = [
  { jid: ALICE_LAPTOP, key: A2 }, // authenticated own endpoint
  { jid: ALICE_LAPTOP, key: A3 }, // own endpoint, authenticated only once A2 vouches for it
  { jid: BOB_PHONE, key: B1 }, // authenticated contact endpoint
  { jid: BOB_PHONE, key: B2 }, // contact endpoint, not authenticated (yet)
  { jid: CAROL_PHONE, key: C2 },
  { jid: MALLORY_PHONE, key: M1 }, // unknown
  { jid: ALICE_PHONE, key: A1 }, // ourselves (TM-24)
  { jid: ALICE_LAPTOP, key: A1 }, // our own key under another resource (X7)
]

function randomInput(r: ReturnType<typeof prng>): ReceivedTrustMessage {
  const sender = r.pick(SENDERS)
  const owners = r.chance(0.05) ? 4 : 1 + r.int(2) // 4 > maxKeyOwners: LimitExceededError
  const keyOwners = Array.from({ length: owners }, () => {
    const jid = r.pick([ALICE, BOB, BOB, CAROL] as const) as BareJid
    const ids = KEYS[jid] ?? []
    const trust = ids.filter(() => r.chance(0.35))
    const distrust = ids.filter(() => r.chance(0.2))
    if (trust.length + distrust.length === 0) trust.push(r.pick(ids))
    if (r.chance(0.04)) trust.push(oxKey('wrong length')) // InvalidKeyIdError (TM-11)
    return { jid, trust, distrust }
  })
  const message: TrustMessage = {
    usage: r.chance(0.03) ? 'urn:xmpp:other:0' : NS_ATM,
    encryption: NS,
    keyOwners,
  }
  return {
    message,
    senderJid: sender.jid,
    senderKey: sender.key,
    carrier: NS,
    encrypted: !r.chance(0.03),
    sceTime: T0 - 40 + r.int(120), // replays, reordering and stale trust messages
  }
}

/** What `handleTrustMessages` reports for a message `handleTrustMessage` rejects with `error`. */
function asRejected(error: unknown): ReceiveResult {
  return {
    outcome: 'rejected',
    error: error as Error,
    changes: [],
    postponed: [],
    evicted: [],
    skipped: [],
    outgoing: [],
  }
}

async function snapshot(store: AccountTrustStore): Promise<unknown> {
  const lastApplied: Record<string, number | undefined> = {}
  for (const s of SENDERS)
    for (const [owner, ids] of Object.entries(KEYS))
      for (const id of ids)
        lastApplied[`${s.key} ${owner}/${id}`] = await store.getLastApplied(NS, s.key, owner as BareJid, id)
  const once: Record<string, boolean> = {}
  for (const owner of Object.keys(KEYS)) once[owner] = await store.wasAuthenticatedOnce(NS, owner as BareJid)
  return { keys: await store.getKeys(NS), postponed: await store.getPostponed(NS), lastApplied, once }
}

describe.each(STORES)('handleTrustMessages ($name store)', (factory) => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of closers.splice(0)) await c()
  })
  async function make(
    ...args: Parameters<typeof world> extends [StoreEntry, ...infer R] ? R : never
  ): Promise<World> {
    const w = await world(factory, ...args)
    closers.push(w.close)
    return w
  }

  const configs: readonly {
    name: string
    policy: Partial<AtmPolicy>
    confirm?: (d: PendingAutomaticDecision) => Promise<boolean>
  }[] = [
    { name: 'defaults', policy: {} },
    { name: 'manualDecisionsFinal', policy: { manualDecisionsFinal: true } },
    {
      name: 'ATM-UI3 hook that vetoes B3 and throws for C2',
      policy: { requireConfirmation: true },
      confirm: async (d) => {
        if (d.key.keyId === C2) throw new Error('the confirmation UI is gone')
        return d.key.keyId !== B3
      },
    },
  ]

  for (const config of configs) {
    it(`random batches give the same results, events and final state as handleTrustMessage one by one (${config.name})`, async () => {
      for (let s = 1; s <= 20; s++) {
        const r = prng(s * 7919 + config.name.length)
        const inputs = Array.from({ length: 1 + r.int(40) }, () => randomInput(r))
        const single = await make(config.policy, config.confirm)
        const batched = await make(config.policy, config.confirm)
        const expected: ReceiveResult[] = []
        for (const input of inputs)
          expected.push(await single.atm.handleTrustMessage(input).catch(asRejected))
        const actual = await batched.atm.handleTrustMessages(inputs)
        expect(actual, `seed ${s}`).toEqual(expected)
        expect(batched.events, `seed ${s}`).toEqual(single.events)
        expect(await snapshot(batched.store), `seed ${s}`).toEqual(await snapshot(single.store))
      }
      // 20 seeds × two engines on SQLite: 3 s alone, over vitest's 5 s default beside other suites
    }, 60_000)
  }

  it('a message with a typed input error is rejected alone; the messages around it apply', async () => {
    const w = await make()
    const good = (keyId: KeyId, sceTime: number): ReceivedTrustMessage => ({
      message: trustMessage(NS, [{ jid: BOB, distrust: [keyId] }]),
      senderJid: ALICE_LAPTOP,
      senderKey: A2,
      carrier: NS,
      encrypted: true,
      sceTime,
    })
    const bad: ReceivedTrustMessage = {
      ...good(B2, T0 + 2),
      message: trustMessage(NS, [{ jid: BOB, trust: [B3, oxKey('20 bytes')] }]),
    }
    const results = await w.atm.handleTrustMessages([good(B2, T0 + 1), bad, good(B1, T0 + 3)])
    expect(results.map((x) => x.outcome)).toEqual(['applied', 'rejected', 'applied'])
    expect(results[1]?.error).toMatchObject({ name: 'InvalidKeyIdError', rule: 'TM-11' })
    expect(await levels(w.store)).toMatchObject({
      [`${BOB}/${B1}`]: 'manually-distrusted',
      [`${BOB}/${B2}`]: 'manually-distrusted',
      [`${BOB}/${B3}`]: 'automatically-trusted',
    })
  })

  it('ATM-UI3: a message whose hook throws half-way leaves nothing of it stored (savepoint); the next one applies', async () => {
    const asked: KeyId[] = []
    const w = await make({ requireConfirmation: true }, async (d) => {
      asked.push(d.key.keyId)
      if (d.key.keyId === B3) throw new Error('the confirmation UI is gone')
      return true
    })
    const before = await snapshot(w.store)
    const input = (trust: readonly KeyId[], sceTime: number): ReceivedTrustMessage => ({
      message: trustMessage(NS, [{ jid: BOB, trust }]),
      senderJid: BOB_PHONE,
      senderKey: B1,
      carrier: NS,
      encrypted: true,
      sceTime,
    })
    const [first, next] = await w.atm.handleTrustMessages([input([B2, B3], T0 + 1), input([B2], T0 + 2)])
    expect(asked).toEqual([B2, B3, B2]) // B2 was authenticated (and Bob's keys demoted) before the throw …
    expect(first).toMatchObject({ outcome: 'rejected', error: { message: 'the confirmation UI is gone' } })
    // … and rolled back: the next message of the batch finds B2 as it was, and authenticates it
    expect(next?.outcome).toBe('applied')
    expect(next?.changes.map((c) => `${c.keyId} ${c.level}`)).toEqual([
      `${B2} authenticated`,
      `${B3} automatically-distrusted`, // TOAKAFA demotion (TOAK-2)
    ])
    expect(w.events.map((e) => (e as { e: string }).e)).toEqual(['level-changed', 'level-changed'])
    const after = (await snapshot(w.store)) as { lastApplied: Record<string, number | undefined> }
    expect(after.lastApplied[`${B1} ${BOB}/${B2}`]).toBe(T0 + 2)
    expect(after.lastApplied[`${B1} ${BOB}/${B3}`]).toBeUndefined()
    expect(before).not.toEqual(after)
  })

  it('a StoreError rejects the whole batch: nothing is stored and no event fires', async () => {
    let calls = 0
    const failing = (s: AccountTrustStore): AccountTrustStore =>
      new Proxy(s, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver) as unknown
          if (typeof v !== 'function') return v
          if (prop === 'transaction')
            return <T>(fn: (tx: AccountTrustStore) => Promise<T>) =>
              target.transaction((tx) => fn(failing(tx)))
          if (prop === 'setLastApplied')
            return (...args: unknown[]) =>
              ++calls === 3
                ? Promise.reject(new StoreError('injected failure'))
                : (v as (...a: unknown[]) => unknown).apply(target, args)
          return (v as (...a: unknown[]) => unknown).bind(target)
        },
      })
    const w = await make({}, undefined, failing)
    const before = await snapshot(w.store)
    const inputs = [B2, B3, B1].map(
      (keyId, i): ReceivedTrustMessage => ({
        message: trustMessage(NS, [{ jid: BOB, distrust: [keyId] }]),
        senderJid: ALICE_LAPTOP,
        senderKey: A2,
        carrier: NS,
        encrypted: true,
        sceTime: T0 + i + 1,
      }),
    )
    const err = await w.atm.handleTrustMessages(inputs).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'StoreError' })
    expect(await snapshot(w.store)).toEqual(before)
    expect(w.events).toEqual([])
  })

  it('the whole batch is one store transaction; events fire after it committed, in message order', async () => {
    let transactions = 0
    const counting = (s: AccountTrustStore): AccountTrustStore =>
      new Proxy(s, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver) as unknown
          if (prop === 'transaction') transactions++
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        },
      })
    const w = await make({}, undefined, counting)
    const inputs = [B2, B3, C2, A4].map(
      (keyId, i): ReceivedTrustMessage => ({
        message: trustMessage(NS, [
          { jid: keyId === C2 ? CAROL : keyId === A4 ? ALICE : BOB, trust: [keyId] },
        ]),
        senderJid: ALICE_LAPTOP,
        senderKey: A2,
        carrier: NS,
        encrypted: true,
        sceTime: T0 + i + 1,
      }),
    )
    const seen: KeyId[] = []
    w.atm.on('level-changed', (e) => {
      if (e.to === 'authenticated') seen.push(e.key.keyId)
    })
    const results = await w.atm.handleTrustMessages(inputs)
    expect(transactions).toBe(1)
    expect(results.map((x) => x.outcome)).toEqual(['applied', 'applied', 'applied', 'applied'])
    expect(seen).toEqual([B2, B3, C2, A4])
  })

  it('an empty batch, or one whose messages are all ignored before the store, opens no transaction', async () => {
    let transactions = 0
    const counting = (s: AccountTrustStore): AccountTrustStore =>
      new Proxy(s, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver) as unknown
          if (prop === 'transaction') transactions++
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        },
      })
    const w = await make({}, undefined, counting)
    expect(await w.atm.handleTrustMessages([])).toEqual([])
    const plaintext: ReceivedTrustMessage = {
      message: trustMessage(NS, [{ jid: MALLORY, trust: [M1] }]),
      senderJid: MALLORY_PHONE,
      senderKey: M1,
      carrier: NS,
      encrypted: false,
      sceTime: T0,
    }
    const results = await w.atm.handleTrustMessages([plaintext])
    expect(results).toMatchObject([{ outcome: 'ignored', reason: 'plaintext' }])
    expect(transactions).toBe(0)
  })
})
