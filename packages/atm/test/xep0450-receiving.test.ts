/**
 * XEP-0450 §Use Cases, receiving side: ATM-R1 … R6, ATM-P1, ATM-P2, D-5, D-8, D-10 and QXmpp's
 * scenarios 2, 4, 5, 7 (TM-ATM.md §4), X1, X12, X13. The receiving endpoint is Alice's A1.
 */
import type { FullJid, KeyId, SecurityPolicy } from '@vouch/tm-core'
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { AtmEvents } from '../src/index.ts'
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
  CAROL,
  CAROL_PHONE,
  omemoKey,
  seed,
  trustMessage,
} from './helpers.ts'
import { type Endpoint, endpoint, levels, receive, STORES } from './stores.ts'

const NS = NS_OMEMO_2

describe.each(STORES)('ATM-R1 … R6, ATM-P1, ATM-P2 ($name store)', (factory) => {
  let ep: Endpoint
  afterEach(async () => ep.close())
  const alice = async (): Promise<Endpoint> => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 }, ownFullJid: ALICE_PHONE })
    return ep
  }

  it('ATM-R1: an authentication message for a contact’s key from an own endpoint authenticates it', async () => {
    await alice()
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    expect(r.outcome).toBe('applied')
    const key = await ep.store.getKey(NS, BOB, B1)
    expect(key?.level).toBe('authenticated')
    expect(key?.provenance).toEqual({ kind: 'atm', senderJid: ALICE, senderKey: A2 })
  })

  it('ATM-R2: an authentication message for a contact’s key from another endpoint of that contact authenticates it', async () => {
    await alice()
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('authenticated')
  })

  it('X9, D-3: the stanza sender is compared by its bare form, normalised (Bob@Example.COM/Phone is Bob)', async () => {
    await alice()
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await receive(ep.atm, {
      from: 'Bob@Example.COM/Phone' as FullJid,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getKey(NS, BOB, B2)).toMatchObject({
      level: 'authenticated',
      provenance: { kind: 'atm', senderJid: BOB, senderKey: B1 },
    })
  })

  it('ATM-R3: an authentication message for an own key from another own endpoint authenticates it', async () => {
    await alice()
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: ALICE, trust: [A3] }]),
    })
    expect(await ep.store.getTrustLevel(NS, ALICE, A3)).toBe('authenticated')
  })

  it('ATM-R4: a distrust message for an own key from another own endpoint distrusts it', async () => {
    await alice()
    await seed(ep.store, NS, ALICE, [A2, A3], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: ALICE, distrust: [A3] }]),
    })
    expect(await ep.store.getTrustLevel(NS, ALICE, A3)).toBe('manually-distrusted')
  })

  it('ATM-R5: a distrust message for a contact’s key from another endpoint of that contact distrusts it', async () => {
    await alice()
    await seed(ep.store, NS, BOB, [B1, B2], 'authenticated')
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B2] }]),
    })
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('manually-distrusted')
  })

  it('ATM-R6: a distrust message for a contact’s key from an own endpoint distrusts it', async () => {
    await alice()
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B1] }]),
    })
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
  })

  it('ATM-P1: data from an unauthenticated sender is kept, then applied once the sender key is authenticated', async () => {
    await alice()
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [
        { jid: ALICE, trust: [A3] },
        { jid: BOB, trust: [B1] },
      ]),
    })
    expect(r.outcome).toBe('postponed')
    expect(r.postponed.map((p) => p.keyId).sort()).toEqual([A3, B1].sort())
    expect(await levels(ep.store)).toEqual({})
    const d = await ep.atm.authenticate(NS, ALICE, [A2])
    expect(d.changes.map((c) => [c.keyId, c.level])).toEqual(
      expect.arrayContaining([
        [A2, 'authenticated'],
        [A3, 'authenticated'],
        [B1, 'authenticated'],
      ]),
    )
    expect(await ep.store.getPostponed(NS)).toEqual([]) // MAY delete afterwards: we do
  })

  it('ATM-P1: a sender authenticated by a received message releases its own postponed data (recursively)', async () => {
    await alice()
    await seed(ep.store, NS, ALICE, [A3], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A3,
      message: trustMessage(NS, [{ jid: ALICE, trust: [A2] }]),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
    expect(r.changes.map((c) => c.keyId)).toEqual(expect.arrayContaining([A2, B1]))
  })

  it('ATM-P2, X12: a key authenticated before it was fetched starts authenticated when it appears, without a prompt', async () => {
    await alice()
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
    })
    const found = await ep.atm.keysDiscovered(NS, BOB, [B2, B3])
    expect(found.added.map((k) => k.keyId)).toEqual([B3])
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('authenticated')
    // TOAKAFA: Bob was authenticated once, so the new B3 is not blindly trusted
    expect(await ep.store.getTrustLevel(NS, BOB, B3)).toBe('automatically-distrusted')
  })

  it('D-5: decisions applied from a received message are never re-broadcast (no outgoing, even after a chain)', async () => {
    await alice()
    await seed(ep.store, NS, ALICE, [A3], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
    })
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A3,
      message: trustMessage(NS, [{ jid: ALICE, trust: [A2, A4] }]),
    })
    expect(r.changes.length).toBeGreaterThanOrEqual(3)
    expect(r.outgoing).toEqual([])
  })

  it('X1: S1 trusts K and S2 distrusts K; authenticating S1 authenticates K, then authenticating S2 distrusts K', async () => {
    await alice()
    const K = B2
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, trust: [K] }]),
      sceTime: 10,
    })
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: B3,
      message: trustMessage(NS, [{ jid: BOB, distrust: [K] }]),
      sceTime: 5,
    })
    expect(await ep.store.getPostponed(NS)).toHaveLength(2) // D-8: two senders never overwrite each other
    await ep.atm.authenticate(NS, BOB, [B1])
    expect(await ep.store.getTrustLevel(NS, BOB, K)).toBe('authenticated')
    await ep.atm.authenticate(NS, BOB, [B3])
    expect(await ep.store.getTrustLevel(NS, BOB, K)).toBe('manually-distrusted')
  })

  it('X13: a chain of postponed vouching (A2 → B1 → B2) resolves in one pass, without loops or sends', async () => {
    await alice()
    // B1 vouches for B2 and (loop) for itself; A2 vouches for B1 and for A2 (loop); all postponed
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1, B2] }]),
    })
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    const r = await ep.atm.authenticate(NS, ALICE, [A2])
    expect(await levels(ep.store)).toEqual({
      [`${ALICE}/${A2}`]: 'authenticated',
      [`${BOB}/${B1}`]: 'authenticated',
      [`${BOB}/${B2}`]: 'authenticated',
    })
    expect(await ep.store.getPostponed(NS)).toEqual([])
    // the manual decision about A2 is broadcast; nothing about B1/B2 (D-5)
    for (const m of r.outgoing) expect(m.message.keyOwners.map((o) => o.jid)).not.toContain(BOB)
  })

  it('D-8: within one message distrust wins over trust for the same key', async () => {
    await alice()
    await seed(ep.store, NS, BOB, [B1, B2], 'authenticated')
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2], distrust: [B2] }]),
    })
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('manually-distrusted')
  })

  it('D-8: a newer message from the same unauthenticated sender replaces its older postponed decision', async () => {
    await alice()
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
      sceTime: 10,
    })
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B2] }]),
      sceTime: 20,
    })
    const pending = await ep.store.getPostponed(NS)
    expect(pending.map((p) => [p.keyId, p.polarity])).toEqual([[B2, 'distrust']])
    await ep.atm.authenticate(NS, BOB, [B1])
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('manually-distrusted')
  })

  it('events: level-changed, decision-postponed and postponed-applied are emitted after commit', async () => {
    await alice()
    const seen: string[] = []
    const changed: AtmEvents['level-changed'][] = []
    ep.atm.on('decision-postponed', (e) => seen.push(`postponed ${e.decision.keyId}`))
    ep.atm.on('postponed-applied', (e) => seen.push(`applied ${e.decision.keyId}`))
    const off = ep.atm.on('level-changed', (e) => changed.push(e))
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    await ep.atm.authenticate(NS, ALICE, [A2])
    expect(seen).toEqual([`postponed ${B1}`, `applied ${B1}`])
    expect(changed.map((e) => [e.key.keyId, e.from, e.to, e.provenance.kind])).toEqual([
      [A2, 'undecided', 'authenticated', 'manual'],
      [B1, 'undecided', 'authenticated', 'atm'],
    ])
    off()
    await ep.atm.distrust(NS, BOB, [B1])
    expect(changed).toHaveLength(2)
  })
})

describe.each(STORES)('QXmpp receiving scenarios ($name store)', (factory) => {
  let ep: Endpoint
  afterEach(async () => ep.close())
  const S1 = omemoKey('S1')
  const S2 = omemoKey('S2')
  const S3 = omemoKey('S3')

  it('QXmpp 2: postponed decisions of two of three senders are applied and consumed; the third stays', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: ALICE, trust: [S1], distrust: [S2] }]),
    })
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2], distrust: [B3] }]),
    })
    await receive(ep.atm, {
      from: CAROL_PHONE,
      key: C1,
      message: trustMessage(NS, [{ jid: CAROL, trust: [S3] }]),
    })
    await ep.atm.authenticate(NS, ALICE, [A2])
    await ep.atm.authenticate(NS, BOB, [B1])
    expect(await levels(ep.store)).toMatchObject({
      [`${ALICE}/${S1}`]: 'authenticated',
      [`${ALICE}/${S2}`]: 'manually-distrusted',
      [`${BOB}/${B2}`]: 'authenticated',
      [`${BOB}/${B3}`]: 'manually-distrusted',
    })
    const left = await ep.store.getPostponed(NS)
    expect(left.map((p) => [p.senderKey, p.keyId])).toEqual([[C1, S3]])
  })

  it('QXmpp 4: distrust — empty input is a no-op; keys become manually distrusted; their postponed data is deleted', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2, A3], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: S1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: S2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
    })
    expect(await ep.atm.distrust(NS, ALICE, [])).toEqual({ changes: [], outgoing: [] })
    await ep.atm.distrust(NS, ALICE, [A2, S1])
    expect(await ep.store.getTrustLevel(NS, ALICE, A2)).toBe('manually-distrusted')
    expect(await ep.store.getTrustLevel(NS, ALICE, S1)).toBe('manually-distrusted')
    expect(await ep.store.getTrustLevel(NS, ALICE, A3)).toBe('authenticated')
    const left = await ep.store.getPostponed(NS)
    expect(left.map((p) => p.senderKey)).toEqual([S2])
  })

  it.each(['authenticated-only', 'toakafa'] satisfies SecurityPolicy[])(
    'QXmpp 5: authenticate (%s) — recursive release, postponed distrust demotes, TOAKAFA demotion, unrelated data stays',
    async (securityPolicy) => {
      ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 }, policy: { securityPolicy } })
      expect(await ep.atm.authenticate(NS, ALICE, [])).toEqual({ changes: [], outgoing: [] })
      await seed(ep.store, NS, BOB, [B3], 'authenticated')
      await seed(ep.store, NS, BOB, [omemoKey('B-auto')], 'automatically-trusted')
      // A2 (pending) authenticates A3; A3 (pending) authenticates B1 and distrusts B3; C1 unrelated
      await receive(ep.atm, {
        from: ALICE_LAPTOP,
        key: A2,
        message: trustMessage(NS, [{ jid: ALICE, trust: [A3] }]),
      })
      await receive(ep.atm, {
        from: ALICE_LAPTOP,
        key: A3,
        message: trustMessage(NS, [{ jid: BOB, trust: [B1], distrust: [B3] }]),
      })
      await receive(ep.atm, {
        from: CAROL_PHONE,
        key: C1,
        message: trustMessage(NS, [{ jid: CAROL, trust: [S3] }]),
      })
      await ep.atm.authenticate(NS, ALICE, [A2])
      expect(await ep.store.getTrustLevel(NS, ALICE, A3)).toBe('authenticated')
      expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
      expect(await ep.store.getTrustLevel(NS, BOB, B3)).toBe('manually-distrusted')
      expect(await ep.store.getTrustLevel(NS, BOB, omemoKey('B-auto'))).toBe(
        securityPolicy === 'toakafa' ? 'automatically-distrusted' : 'automatically-trusted',
      )
      expect((await ep.store.getPostponed(NS)).map((p) => p.senderKey)).toEqual([C1])
    },
  )

  describe('QXmpp 7: handle a received message', () => {
    const cases: {
      name: string
      setup?: (ep: Endpoint) => Promise<void>
      from: FullJid
      key: KeyId
      message: ReturnType<typeof trustMessage>
      outcome: string
      expectLevels: Record<string, string>
      expectPostponed: string[]
    }[] = [
      {
        name: '(a) our own message reflected (from == own full JID) is ignored',
        setup: (e) => seed(e.store, NS, ALICE, [A2], 'authenticated'),
        from: ALICE_PHONE,
        key: A2,
        message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
        outcome: 'ignored',
        expectLevels: { [`${ALICE}/${A2}`]: 'authenticated' },
        expectPostponed: [],
      },
      {
        name: '(c) usage other than urn:xmpp:atm:1 is ignored',
        setup: (e) => seed(e.store, NS, ALICE, [A2], 'authenticated'),
        from: ALICE_LAPTOP,
        key: A2,
        message: { ...trustMessage(NS, [{ jid: BOB, trust: [B1] }]), usage: 'urn:xmpp:other:0' },
        outcome: 'ignored',
        expectLevels: { [`${ALICE}/${A2}`]: 'authenticated' },
        expectPostponed: [],
      },
      {
        // the codec rejects a message without key owners (TM-7), and so does the engine
        name: '(d) no key owners changes nothing (TM-7: rejected as the codec does)',
        setup: (e) => seed(e.store, NS, ALICE, [A2], 'authenticated'),
        from: ALICE_LAPTOP,
        key: A2,
        message: trustMessage(NS, []),
        outcome: 'InvalidTrustMessageError TM-7',
        expectLevels: { [`${ALICE}/${A2}`]: 'authenticated' },
        expectPostponed: [],
      },
      {
        name: '(e) the encryption attribute of another protocol leaves the OMEMO storage alone',
        setup: (e) => seed(e.store, NS, ALICE, [A2], 'authenticated'),
        from: ALICE_LAPTOP,
        key: A2,
        message: trustMessage('urn:xmpp:openpgp:0', [{ jid: BOB, trust: [B1] }]),
        outcome: 'ignored',
        expectLevels: { [`${ALICE}/${A2}`]: 'authenticated' },
        expectPostponed: [],
      },
      {
        name: '(f) a contact vouching for Alice’s and Carol’s keys is ignored',
        setup: (e) => seed(e.store, NS, BOB, [B1], 'authenticated'),
        from: BOB_PHONE,
        key: B1,
        message: trustMessage(NS, [
          { jid: ALICE, trust: [A3] },
          { jid: CAROL, trust: [C1] },
        ]),
        outcome: 'ignored',
        expectLevels: { [`${BOB}/${B1}`]: 'authenticated' },
        expectPostponed: [],
      },
      {
        name: '(g) own endpoint with an unauthenticated key: everything postponed under the sender key',
        from: ALICE_LAPTOP,
        key: A2,
        message: trustMessage(NS, [
          { jid: ALICE, trust: [A3] },
          { jid: BOB, distrust: [B1] },
        ]),
        outcome: 'postponed',
        expectLevels: {},
        expectPostponed: [`${A2} ${ALICE}/${A3} trust`, `${A2} ${BOB}/${B1} distrust`],
      },
      {
        name: '(h) own endpoint with an authenticated key: all owners applied',
        setup: (e) => seed(e.store, NS, ALICE, [A2], 'authenticated'),
        from: ALICE_LAPTOP,
        key: A2,
        message: trustMessage(NS, [
          { jid: ALICE, trust: [A3] },
          { jid: BOB, distrust: [B1] },
        ]),
        outcome: 'applied',
        expectLevels: {
          [`${ALICE}/${A2}`]: 'authenticated',
          [`${ALICE}/${A3}`]: 'authenticated',
          [`${BOB}/${B1}`]: 'manually-distrusted',
        },
        expectPostponed: [],
      },
      {
        name: '(i) contact endpoint with an unauthenticated key: only that contact’s own entries postponed',
        from: BOB_PHONE,
        key: B1,
        message: trustMessage(NS, [
          { jid: ALICE, trust: [A3] },
          { jid: BOB, trust: [B2] },
        ]),
        outcome: 'postponed',
        expectLevels: {},
        expectPostponed: [`${B1} ${BOB}/${B2} trust`],
      },
      {
        name: '(j) contact endpoint with an authenticated key: only that contact’s keys applied',
        setup: (e) => seed(e.store, NS, BOB, [B1], 'authenticated'),
        from: BOB_PHONE,
        key: B1,
        message: trustMessage(NS, [
          { jid: ALICE, trust: [A3] },
          { jid: BOB, trust: [B2] },
        ]),
        outcome: 'partially-applied',
        expectLevels: { [`${BOB}/${B1}`]: 'authenticated', [`${BOB}/${B2}`]: 'authenticated' },
        expectPostponed: [],
      },
    ]
    it.each(cases)('QXmpp 7 $name', async (c) => {
      ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 }, ownFullJid: ALICE_PHONE })
      await c.setup?.(ep)
      const r = await receive(ep.atm, { from: c.from, key: c.key, message: c.message }).catch(
        (e: { name: string; rule: string }) => ({ outcome: `${e.name} ${e.rule}` }),
      )
      expect(r.outcome).toBe(c.outcome)
      expect(await levels(ep.store)).toEqual(c.expectLevels)
      const pending = await ep.store.getPostponed(NS)
      expect(pending.map((p) => `${p.senderKey} ${p.owner}/${p.keyId} ${p.polarity}`).sort()).toEqual(
        [...c.expectPostponed].sort(),
      )
    })
  })
})

describe.each(STORES)('D-10: automatic decisions and manual ones ($name store)', (factory) => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  it('D-10: by default an authenticated sender’s trust overrides a manual distrust (spec: MUST authenticate)', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await ep.atm.distrust(NS, BOB, [B1])
    // sent after the distrust (an older message would be stale: D-9 across senders)
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: ep.clock.advance(1_000),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
  })

  it('D-10: with manualDecisionsFinal an automatic trust never overrides a manual distrust', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 }, policy: { manualDecisionsFinal: true } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await ep.atm.distrust(NS, BOB, [B1])
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1, B2] }]),
    })
    expect(r.outcome).toBe('partially-applied')
    expect(r.skipped).toEqual([
      { key: { encryption: NS, owner: BOB, keyId: B1 }, polarity: 'trust', reason: 'manual-final' },
    ])
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('authenticated')
  })

  it('D-10: with manualDecisionsFinal an automatic trust may still override an automatic distrust', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 }, policy: { manualDecisionsFinal: true } })
    await seed(ep.store, NS, ALICE, [A2, A3], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B1] }]),
      sceTime: ep.clock.now() - 1,
    })
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A3,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: ep.clock.advance(1_000), // sent after A2's distrust was stored here
    })
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
  })

  it('D-10: with manualDecisionsFinal a received distrust still overrides a manual authentication (fail safe)', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 }, policy: { manualDecisionsFinal: true } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await ep.atm.authenticate(NS, BOB, [B1])
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B1] }]),
    })
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
  })
})
