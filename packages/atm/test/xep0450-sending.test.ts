/**
 * XEP-0450 §Use Cases, sending side: ATM-S1 … ATM-S6 (the spec's A1/A2/A3/B1 story) and QXmpp's
 * manual-decision scenarios 1, 8 – 17 (TM-ATM.md §4), against both stores.
 */
import type { BareJid, KeyId, KeyRef } from '@vouch/tm-core'
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { DecisionResult, OutgoingTrustMessage } from '../src/index.ts'
import { NS_ATM } from '../src/index.ts'
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
  omemoKey,
  seed,
} from './helpers.ts'
import { type Endpoint, endpoint, levels, STORES } from './stores.ts'

const NS = NS_OMEMO_2
const A5 = omemoKey('A5')
const A6 = omemoKey('A6')

interface Summary {
  to: BareJid
  owners: { jid: BareJid; trust: KeyId[]; distrust: KeyId[] }[]
  allowed: string[]
}

const ref = (owner: BareJid, keyId: KeyId): string => `${owner}/${keyId}`
const s = (...ids: KeyId[]): KeyId[] => [...ids].sort()

function summary(m: OutgoingTrustMessage): Summary {
  expect(m.message.usage).toBe(NS_ATM)
  expect(m.message.encryption).toBe(NS)
  return {
    to: m.to,
    owners: m.message.keyOwners.map((o) => ({ jid: o.jid, trust: [...o.trust], distrust: [...o.distrust] })),
    allowed: m.allowedKeys.map((k: KeyRef) => ref(k.owner, k.keyId)).sort(),
  }
}

const summaries = (r: DecisionResult): Summary[] => r.outgoing.map(summary)

describe.each(STORES)('ATM-S1 … S6: the XEP-0450 story ($name store)', (factory) => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  it('ATM-S1: A1 authenticating B1 sends B1’s key to own endpoints with an authenticated key (own bare JID)', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const r = await ep.atm.authenticate(NS, BOB, [B1])
    expect(summaries(r)[0]).toEqual({
      to: ALICE,
      owners: [{ jid: BOB, trust: [B1], distrust: [] }],
      allowed: [ref(ALICE, A2)],
    })
  })

  it('ATM-S2: A1 authenticating B1 sends each authenticated own key to B1', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const r = await ep.atm.authenticate(NS, BOB, [B1])
    expect(summaries(r)).toHaveLength(2)
    expect(summaries(r)[1]).toEqual({
      to: BOB,
      owners: [{ jid: ALICE, trust: [A2], distrust: [] }],
      // exactly B1, the newly authenticated key: never our own key A1, and A2 is not told about itself
      allowed: [ref(BOB, B1)],
    })
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
  })

  it('ATM-S3: A2 authenticating A3 sends A3’s key to every endpoint with an authenticated key', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A2 } })
    await seed(ep.store, NS, ALICE, [A1], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await ep.atm.authenticate(NS, ALICE, [A3])
    const [toBob, ...rest] = summaries(r)
    // one message per contact bare JID; A1 gets it as a Carbon; A3 is not told about itself
    expect(toBob).toEqual({
      to: BOB,
      owners: [{ jid: ALICE, trust: [A3], distrust: [] }],
      allowed: [ref(ALICE, A1), ref(BOB, B1)].sort(),
    })
    expect(rest.map((m) => m.to)).toEqual([ALICE]) // only the ATM-S4 message besides
  })

  it('ATM-S4: A2 authenticating A3 sends each authenticated key of all endpoints to A3', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A2 } })
    await seed(ep.store, NS, ALICE, [A1], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await ep.atm.authenticate(NS, ALICE, [A3])
    expect(summaries(r)[1]).toEqual({
      to: ALICE,
      owners: [
        { jid: BOB, trust: [B1], distrust: [] },
        { jid: ALICE, trust: [A1], distrust: [] },
      ],
      allowed: [ref(ALICE, A3)], // exactly the endpoint whose key was just authenticated
    })
  })

  it('ATM-S5: A1 distrusting A3 sends a distrust message to every other endpoint with an authenticated key', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2, A3], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await ep.atm.distrust(NS, ALICE, [A3])
    expect(summaries(r)).toEqual([
      {
        to: BOB,
        owners: [{ jid: ALICE, trust: [], distrust: [A3] }],
        allowed: [ref(ALICE, A2), ref(BOB, B1)].sort(), // never the distrusted A3
      },
    ])
    expect(await ep.store.getTrustLevel(NS, ALICE, A3)).toBe('manually-distrusted')
  })

  it('ATM-S6: A1 distrusting B1 sends a distrust message to own endpoints only, never to the contact', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await seed(ep.store, NS, ALICE, [A3], 'manually-distrusted')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await ep.atm.distrust(NS, BOB, [B1])
    expect(summaries(r)).toEqual([
      { to: ALICE, owners: [{ jid: BOB, trust: [], distrust: [B1] }], allowed: [ref(ALICE, A2)] },
    ])
  })
})

describe.each(STORES)('QXmpp manual-decision scenarios ($name store)', (factory) => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  /** Own other keys A2 (authenticated) and A4 (distrusted); Bob B1 (auth) + B2 (distrusted); Carol C1 (auth). */
  async function rich(): Promise<void> {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await seed(ep.store, NS, ALICE, [A4], 'manually-distrusted')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    await seed(ep.store, NS, BOB, [B2], 'manually-distrusted')
    await seed(ep.store, NS, CAROL, [C1], 'authenticated')
  }

  it('QXmpp 1: a trust message has usage atm:1, the encryption, and owners with trust then distrust lists', async () => {
    await rich()
    const r = await ep.atm.authenticate(NS, ALICE, [A3])
    const all = r.outgoing.find((m) => m.to === ALICE)
    expect(all?.message).toEqual({
      usage: 'urn:xmpp:atm:1',
      encryption: 'urn:xmpp:omemo:2',
      keyOwners: [
        { jid: BOB, trust: [B1], distrust: [B2] },
        { jid: CAROL, trust: [C1], distrust: [] },
        { jid: ALICE, trust: [A2], distrust: [A4] },
      ],
    })
  })

  it('QXmpp 8: a manual decision with nothing new sends nothing and changes nothing', async () => {
    await rich()
    const before = await levels(ep.store)
    const r = await ep.atm.decide({ encryption: NS, owner: ALICE, trust: [A2], distrust: [A4] })
    expect(r).toEqual({ changes: [], outgoing: [] })
    expect(await ep.atm.authenticate(NS, BOB, [])).toEqual({ changes: [], outgoing: [] })
    expect(await levels(ep.store)).toEqual(before)
  })

  it('QXmpp 9: own keys changed → exactly 3 messages (Bob, Carol, own JID with all keys)', async () => {
    await rich()
    const r = await ep.atm.decide({ encryption: NS, owner: ALICE, trust: [A2, A3, A5], distrust: [A4, A6] })
    const changed = [{ jid: ALICE, trust: s(A3, A5), distrust: [A6] }]
    expect(summaries(r)).toEqual([
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
    expect(await ep.store.getTrustLevel(NS, ALICE, A6)).toBe('manually-distrusted')
  })

  it('QXmpp 10: own keys changed with no other own keys → still 3 messages', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    await seed(ep.store, NS, CAROL, [C1], 'authenticated')
    const r = await ep.atm.decide({ encryption: NS, owner: ALICE, trust: [A3, A5], distrust: [A6] })
    expect(summaries(r).map((m) => m.to)).toEqual([BOB, CAROL, ALICE])
    expect(summaries(r)[2]?.owners).toEqual([
      { jid: BOB, trust: [B1], distrust: [] },
      { jid: CAROL, trust: [C1], distrust: [] },
    ])
    expect(summaries(r)[0]?.allowed).toEqual([ref(BOB, B1)])
  })

  it('QXmpp 11: own keys changed, other own keys only distrusted → 3 messages; own owner carries only the distrusted key', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A4], 'manually-distrusted')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    await seed(ep.store, NS, CAROL, [C1], 'authenticated')
    const r = await ep.atm.decide({ encryption: NS, owner: ALICE, trust: [A3, A5], distrust: [A6] })
    expect(summaries(r).map((m) => m.to)).toEqual([BOB, CAROL, ALICE])
    expect(summaries(r)[2]?.owners).toEqual([
      { jid: BOB, trust: [B1], distrust: [] },
      { jid: CAROL, trust: [C1], distrust: [] },
      { jid: ALICE, trust: [], distrust: [A4] },
    ])
  })

  it('QXmpp 12: own keys changed, no contact with authenticated keys → 2 messages, both to own JID', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2, A4], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'automatically-distrusted')
    const r = await ep.atm.decide({ encryption: NS, owner: ALICE, trust: [A3, A5], distrust: [A6] })
    expect(summaries(r)).toEqual([
      {
        to: ALICE,
        owners: [{ jid: ALICE, trust: s(A3, A5), distrust: [A6] }],
        allowed: [ref(ALICE, A2), ref(ALICE, A4)].sort(),
      },
      {
        to: ALICE,
        owners: [{ jid: ALICE, trust: s(A2, A4), distrust: [] }],
        allowed: [ref(ALICE, A3), ref(ALICE, A5)].sort(),
      },
    ])
  })

  it('QXmpp 13: the sole own key distrusted → messages to Bob and Carol only; key manually distrusted', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    await seed(ep.store, NS, CAROL, [C1], 'authenticated')
    const r = await ep.atm.distrust(NS, ALICE, [A2])
    expect(summaries(r)).toEqual([
      { to: BOB, owners: [{ jid: ALICE, trust: [], distrust: [A2] }], allowed: [ref(BOB, B1)] },
      { to: CAROL, owners: [{ jid: ALICE, trust: [], distrust: [A2] }], allowed: [ref(CAROL, C1)] },
    ])
    expect(await ep.store.getTrustLevel(NS, ALICE, A2)).toBe('manually-distrusted')
  })

  it('QXmpp 14: contact keys changed → 2 messages: contact keys to own JID, own keys to that contact, none to others', async () => {
    await rich()
    const r = await ep.atm.decide({ encryption: NS, owner: BOB, trust: [B1, B3], distrust: [B_DISTRUSTED_1] })
    expect(summaries(r)).toEqual([
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

  it('QXmpp 15: contact keys changed with no own keys at all → no message', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    const r = await ep.atm.decide({ encryption: NS, owner: BOB, trust: [B1], distrust: [B2] })
    expect(r.outgoing).toEqual([])
    expect(await levels(ep.store)).toEqual({
      [ref(BOB, B1)]: 'authenticated',
      [ref(BOB, B2)]: 'manually-distrusted',
    })
  })

  it('QXmpp 16: contact keys changed, own keys only distrusted → 1 message, to the contact', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A4], 'manually-distrusted')
    const r = await ep.atm.authenticate(NS, BOB, [B1])
    expect(summaries(r)).toEqual([
      { to: BOB, owners: [{ jid: ALICE, trust: [], distrust: [A4] }], allowed: [ref(BOB, B1)] },
    ])
  })

  it('QXmpp 17: the sole contact key distrusted → 1 message to own JID, nothing to the contact', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await ep.atm.distrust(NS, BOB, [B1])
    expect(summaries(r)).toEqual([
      { to: ALICE, owners: [{ jid: BOB, trust: [], distrust: [B1] }], allowed: [ref(ALICE, A2)] },
    ])
  })

  it('QXmpp 6: a multi-key decision sets authenticated / manually-distrusted as requested', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await ep.atm.decide({ encryption: NS, owner: BOB, trust: [B1, B2], distrust: [B3] })
    await ep.atm.decide({ encryption: NS, owner: CAROL, trust: [C1] })
    expect(await levels(ep.store)).toEqual({
      [ref(BOB, B1)]: 'authenticated',
      [ref(BOB, B2)]: 'authenticated',
      [ref(BOB, B3)]: 'manually-distrusted',
      [ref(CAROL, C1)]: 'authenticated',
    })
  })

  it('D-8: a key both authenticated and distrusted in one local decision is distrusted', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await ep.atm.decide({ encryption: NS, owner: BOB, trust: [B1, B2], distrust: [B2] })
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('manually-distrusted')
  })

  it('X8: a local decision listing our own key never changes it and never lists it', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await ep.atm.decide({ encryption: NS, owner: ALICE, trust: [A1, A2], distrust: [] })
    expect(await ep.store.getKey(NS, ALICE, A1)).toBeUndefined()
    for (const m of r.outgoing)
      for (const o of m.message.keyOwners) expect([...o.trust, ...o.distrust]).not.toContain(A1)
    for (const m of r.outgoing) expect(m.allowedKeys.map((k) => k.keyId)).not.toContain(A1)
    expect(await ep.atm.distrust(NS, ALICE, [A1])).toEqual({ changes: [], outgoing: [] })
  })

  it('TM-15, TM-21: every outgoing message is only allowed for authenticated keys', async () => {
    await rich()
    await seed(ep.store, NS, BOB, [B3], 'automatically-trusted')
    await seed(ep.store, NS, ALICE, [A5], 'manually-trusted')
    const atm = ep.atm
    const decisions = [
      () => atm.authenticate(NS, ALICE, [A3]),
      () => atm.authenticate(NS, BOB, [omemoKey('B9')]),
      () => atm.distrust(NS, CAROL, [C1]),
      () => atm.distrust(NS, ALICE, [A2]),
    ]
    let sent = 0
    for (const decide of decisions) {
      const r = await decide()
      for (const m of r.outgoing) {
        sent++
        expect(m.allowedKeys.length).toBeGreaterThan(0)
        for (const k of m.allowedKeys) {
          expect(k.owner === m.to || k.owner === ALICE).toBe(true)
          expect(k.keyId).not.toBe(A1)
          expect(await ep.store.getTrustLevel(k.encryption, k.owner, k.keyId)).toBe('authenticated')
        }
      }
    }
    expect(sent).toBeGreaterThan(5)
  })
})
