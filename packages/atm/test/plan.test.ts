/**
 * ATM-S1 … S6 as pure functions (src/plan.ts), without a store: XEP-0450 §Use Cases, Examples
 * 1 – 8 (the A1/A2/A3/B1 story), QXmpp's manual-decision scenarios, and the engine's `decide`
 * agreeing with `planDecision` over random states.
 */
import type { BareJid, KeyId, KeyRef, TrustLevel } from '@vouch/tm-core'
import { NS_OMEMO_2, NS_OX } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import type { LocalChange, OutgoingTrustMessage, PlanKey, PlanState } from '../src/index.ts'
import { createAtm, keysAfter, NS_ATM, planDecision, planMessages } from '../src/index.ts'
import {
  A1,
  A2,
  A3,
  A4,
  ALICE,
  B_DISTRUSTED_1,
  B1,
  B2,
  B3,
  BOB,
  C1,
  CAROL,
  OMEMO,
  omemoKey,
  oxKey,
  seed,
} from './helpers.ts'
import { MEMORY } from './stores.ts'

const NS = NS_OMEMO_2
const ref = (owner: BareJid, keyId: KeyId): string => `${owner}/${keyId}`
const s = (...ids: KeyId[]): KeyId[] => [...ids].sort()

const k = (owner: BareJid, keyId: KeyId, level: TrustLevel = 'authenticated'): PlanKey => ({
  owner,
  keyId,
  level,
})

function state(ownKey: KeyId, keys: readonly PlanKey[], oneKeyPerIdentity = false): PlanState {
  return { account: ALICE, encryption: oneKeyPerIdentity ? NS_OX : NS, oneKeyPerIdentity, ownKey, keys }
}

const change = (owner: BareJid, authenticate: KeyId[] = [], distrust: KeyId[] = []): LocalChange => ({
  owner,
  authenticate,
  distrust,
})

interface Summary {
  to: BareJid
  owners: { jid: BareJid; trust: KeyId[]; distrust: KeyId[] }[]
  allowed: string[]
}

function summary(m: OutgoingTrustMessage): Summary {
  expect(m.message.usage).toBe(NS_ATM)
  return {
    to: m.to,
    owners: m.message.keyOwners.map((o) => ({ jid: o.jid, trust: [...o.trust], distrust: [...o.distrust] })),
    allowed: m.allowedKeys.map((r: KeyRef) => ref(r.owner, r.keyId)).sort(),
  }
}

const plan = (st: PlanState, c: LocalChange): Summary[] => planDecision(st, c).map(summary)

describe('XEP-0450 Examples 1 – 8, planned without a store', () => {
  it('Examples 1, 2 (ATM-S1, S2): A1 authenticates B1 → B1 to own endpoints (A2); A2 to B1', () => {
    expect(plan(state(A1, [k(ALICE, A2)]), change(BOB, [B1]))).toEqual([
      { to: ALICE, owners: [{ jid: BOB, trust: [B1], distrust: [] }], allowed: [ref(ALICE, A2)] },
      { to: BOB, owners: [{ jid: ALICE, trust: [A2], distrust: [] }], allowed: [ref(BOB, B1)] },
    ])
  })

  it('Examples 3, 5 (ATM-S3, S4): A2 authenticates A3 → A3 to B1 (and A1 by Carbons); A1, B1 to A3', () => {
    expect(plan(state(A2, [k(ALICE, A1), k(BOB, B1)]), change(ALICE, [A3]))).toEqual([
      {
        to: BOB,
        owners: [{ jid: ALICE, trust: [A3], distrust: [] }],
        allowed: [ref(ALICE, A1), ref(BOB, B1)].sort(),
      },
      {
        to: ALICE,
        owners: [
          { jid: BOB, trust: [B1], distrust: [] },
          { jid: ALICE, trust: [A1], distrust: [] },
        ],
        allowed: [ref(ALICE, A3)],
      },
    ])
  })

  it('Example 4 (ATM-S3): with no contact with authenticated keys, A3 goes only to own bare JID', () => {
    const out = plan(state(A2, [k(ALICE, A1)]), change(ALICE, [A3]))
    expect(out[0]).toEqual({
      to: ALICE,
      owners: [{ jid: ALICE, trust: [A3], distrust: [] }],
      allowed: [ref(ALICE, A1)],
    })
    expect(out.map((m) => m.to)).toEqual([ALICE, ALICE]) // and the ATM-S4 message to A3
  })

  it('Example 6 (ATM-S5): A1 distrusts A3 → a distrust message to B1 (and A2 by Carbons), never to A3', () => {
    expect(plan(state(A1, [k(ALICE, A2), k(ALICE, A3), k(BOB, B1)]), change(ALICE, [], [A3]))).toEqual([
      {
        to: BOB,
        owners: [{ jid: ALICE, trust: [], distrust: [A3] }],
        allowed: [ref(ALICE, A2), ref(BOB, B1)].sort(),
      },
    ])
  })

  it('Example 7 (ATM-S5): with no contact with authenticated keys, only to own bare JID (A2)', () => {
    expect(plan(state(A1, [k(ALICE, A2), k(ALICE, A3)]), change(ALICE, [], [A3]))).toEqual([
      { to: ALICE, owners: [{ jid: ALICE, trust: [], distrust: [A3] }], allowed: [ref(ALICE, A2)] },
    ])
  })

  it('Example 8 (ATM-S6): A1 distrusts B1 → to own endpoints with an authenticated key only', () => {
    const st = state(A1, [k(ALICE, A2), k(ALICE, A3, 'manually-distrusted'), k(BOB, B1)])
    expect(plan(st, change(BOB, [], [B1]))).toEqual([
      { to: ALICE, owners: [{ jid: BOB, trust: [], distrust: [B1] }], allowed: [ref(ALICE, A2)] },
    ])
  })
})

describe('planning: QXmpp scenarios and edge cases, without a store', () => {
  const rich = state(A1, [
    k(ALICE, A2),
    k(ALICE, A4, 'manually-distrusted'),
    k(BOB, B1),
    k(BOB, B2, 'manually-distrusted'),
    k(CAROL, C1),
    k(BOB, B3, 'automatically-trusted'), // not a decision: never listed
  ])

  it('QXmpp 8: an empty change plans nothing', () => {
    expect(planMessages(rich, change(BOB))).toEqual([])
  })

  it('QXmpp 9: own keys changed → Bob, Carol, then own JID with all keys', () => {
    const A5 = omemoKey('A5')
    const A6 = omemoKey('A6')
    const changed = [{ jid: ALICE, trust: s(A3, A5), distrust: [A6] }]
    expect(plan(rich, change(ALICE, [A3, A5], [A6]))).toEqual([
      { to: BOB, owners: changed, allowed: [ref(ALICE, A2), ref(BOB, B1)].sort() },
      { to: CAROL, owners: changed, allowed: [ref(ALICE, A2), ref(CAROL, C1)].sort() },
      {
        to: ALICE,
        owners: [
          { jid: BOB, trust: [B1], distrust: [B2] },
          { jid: CAROL, trust: [C1], distrust: [] },
          { jid: ALICE, trust: [A2], distrust: [A4] },
        ],
        allowed: [ref(ALICE, A3), ref(ALICE, A5)].sort(),
      },
    ])
  })

  it('QXmpp 14: contact keys changed → contact keys to own JID, own keys to that contact', () => {
    expect(plan(rich, change(BOB, [B3], [B_DISTRUSTED_1]))).toEqual([
      {
        to: ALICE,
        owners: [{ jid: BOB, trust: [B3], distrust: [B_DISTRUSTED_1] }],
        allowed: [ref(ALICE, A2)],
      },
      {
        to: BOB,
        owners: [{ jid: ALICE, trust: [A2], distrust: [A4] }],
        allowed: [ref(BOB, B1), ref(BOB, B3)].sort(),
      },
    ])
  })

  it('QXmpp 15: no own keys at all → the planned message has no reader and is left out', () => {
    const st = state(A1, [])
    expect(planMessages(st, change(BOB, [B1], [B2])).length).toBe(0)
    expect(planDecision(st, change(BOB, [B1], [B2]))).toEqual([])
  })

  it('X8: our own key is never listed nor a recipient, even when the caller passes it in the state', () => {
    const out = plan(state(A1, [k(ALICE, A1), k(ALICE, A2), k(BOB, B1)]), change(ALICE, [A3]))
    for (const m of out) {
      for (const o of m.owners) expect([...o.trust, ...o.distrust]).not.toContain(A1)
      expect(m.allowed).not.toContain(ref(ALICE, A1))
    }
  })

  it('ATM-4, X16 (one key per identity): always to own JID, for our own shared key', () => {
    const OX_B = oxKey('B')
    const out = planDecision(state(A1, [k(BOB, OX_B)], true), change(BOB, [], [OX_B]))
    expect(out).toEqual([
      {
        to: ALICE,
        message: { usage: NS_ATM, encryption: NS_OX, keyOwners: [{ jid: BOB, trust: [], distrust: [OX_B] }] },
        allowedKeys: [{ encryption: NS_OX, owner: ALICE, keyId: A1 }],
      },
    ])
  })

  it('keysAfter: the changed keys take their new level, new keys are added', () => {
    const after = keysAfter(state(A1, [k(BOB, B1), k(BOB, B2)]), change(BOB, [B3], [B1]))
    expect(after).toEqual([k(BOB, B1, 'manually-distrusted'), k(BOB, B2), k(BOB, B3)])
  })
})

/** mulberry32: a small seeded PRNG */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('the engine plans as planDecision does (random states, no postponed data)', () => {
  const LEVELS: readonly TrustLevel[] = [
    'authenticated',
    'manually-distrusted',
    'automatically-trusted',
    'automatically-distrusted',
  ]
  const POOL: readonly [BareJid, KeyId][] = [
    [ALICE, A2],
    [ALICE, A3],
    [ALICE, A4],
    [BOB, B1],
    [BOB, B2],
    [BOB, B3],
    [CAROL, C1],
  ]

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('seed %i', async (seedNo) => {
    const rnd = prng(seedNo)
    const ts = await MEMORY.make()
    try {
      const store = ts.forAccount(ALICE)
      await store.setOwnKey(NS, A1)
      for (const [owner, id] of POOL) {
        const r = rnd()
        if (r < 0.3) continue
        await seed(store, NS, owner, [id], LEVELS[Math.floor(rnd() * LEVELS.length)] as TrustLevel)
      }
      const owner = ([ALICE, BOB, CAROL] as const)[Math.floor(rnd() * 3)] as BareJid
      const ids = POOL.filter(([o]) => o === owner).map(([, id]) => id)
      const trust = ids.filter(() => rnd() < 0.5)
      const distrust = ids.filter((id) => !trust.includes(id) && rnd() < 0.4)
      const before = await store.getKeys(NS)
      const levelOf = (id: KeyId): TrustLevel | undefined =>
        before.find((r) => r.owner === owner && r.keyId === id)?.level
      const c = change(
        owner,
        trust.filter((id) => levelOf(id) !== 'authenticated'),
        distrust.filter((id) => levelOf(id) !== 'manually-distrusted'),
      )
      const expected = planDecision(state(A1, before), c)
      const atm = createAtm({ account: ALICE, store, backends: [OMEMO], now: () => 1 })
      const r = await atm.decide({ encryption: NS, owner, trust, distrust })
      expect(r.outgoing.map(summary)).toEqual(expected.map(summary))
    } finally {
      await ts.close()
    }
  })
})
