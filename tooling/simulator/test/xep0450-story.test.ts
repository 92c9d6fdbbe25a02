/**
 * X17: the XEP-0450 §Use Cases story end to end on the simulator — Alice's endpoints A1, A2, A3
 * and Bob's B1, examples 1 – 8 — with the spec's key ids (TM-ATM.md §2.6), every message through
 * the XEP-0434 codec, Carbons, and stand-in encryption.
 *
 * For every step: the manual action, then exactly the trust messages the spec shows (recipient
 * bare JID, key owners with their trust/distrust ids, and the keys allowed to read each), then
 * who actually read each message; at the end, the trust levels on every endpoint.
 *
 * The seed document is XEP-0450 v0.1.0 (hex ids, old namespaces); v0.4.0 has the same messages
 * with `urn:xmpp:tm:1`, `urn:xmpp:atm:1`, `urn:xmpp:omemo:2` and Base64 ids. Two spec slips are
 * corrected here, as v0.3.1 ("example recipients fixed") did: Bob is `bob@example.com` everywhere
 * (the examples address his messages to `bob@example.org` but name him `bob@example.com` as key
 * owner), and example 5 goes to Alice's own bare JID (it is "to A3"; v0.1.0 shows `bob@…`).
 */
import type { BareJid, KeyId } from '@vouch/tm-core'
import { NS_OMEMO_2, parseBareJid, parseKeyIdBase64, parseKeyIdHex } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { Network, SimMessage } from '../src/index.ts'
import { createNetwork } from '../src/index.ts'

const ALICE: BareJid = parseBareJid('alice@example.org')
const BOB: BareJid = parseBareJid('bob@example.com')

// The example keys: hex as in the v0.1.0 examples (and in URIs), Base64 as in v0.4.0 (§2.6).
const KEYS = {
  A1: parseKeyIdHex('f3cddd91f25502652483be2fd5faaaa00f80868ac0d51d7eebb1b08a3892e33d'),
  A2: parseKeyIdHex('6850019d7ed0feb6d3823072498ceb4f616c6025586f8f666dc6b9c81ef7e0a4'),
  A3: parseKeyIdHex('221a4f8e228b72182b006e5ca527d3bddccf8d9e6feaf4ce96e1c451e8648020'),
  B1: parseKeyIdHex('623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f'),
} as const
type Name = keyof typeof KEYS
const { A1, A2, A3, B1 } = KEYS
const LABEL: Record<Name, string> = { A1: 'alice/A1', A2: 'alice/A2', A3: 'alice/A3', B1: 'bob/B1' }

interface GoldenMessage {
  readonly example: string
  readonly to: BareJid
  readonly owners: readonly { jid: BareJid; trust?: readonly KeyId[]; distrust?: readonly KeyId[] }[]
  /** the keys the message may be encrypted for (TM-21), as endpoint names */
  readonly allowed: readonly Name[]
}

interface GoldenStep {
  readonly by: Name
  readonly action: 'authenticate' | 'distrust'
  readonly target: Name
  readonly why: string
  readonly messages: readonly GoldenMessage[]
}

/** The story, in the spec's chronological order ("the examples … are consecutive"). */
const STORY: readonly GoldenStep[] = [
  {
    by: 'A1',
    action: 'authenticate',
    target: 'A2',
    why: 'precondition: "A1 has already authenticated A2’s key" (A1 has nothing else to tell)',
    messages: [],
  },
  {
    by: 'A1',
    action: 'authenticate',
    target: 'B1',
    why: 'ATM-S1, ATM-S2',
    messages: [
      { example: 'Example 1 (ATM-S1)', to: ALICE, owners: [{ jid: BOB, trust: [B1] }], allowed: ['A2'] },
      { example: 'Example 2 (ATM-S2)', to: BOB, owners: [{ jid: ALICE, trust: [A2] }], allowed: ['B1'] },
    ],
  },
  {
    by: 'A2',
    action: 'authenticate',
    target: 'A1',
    why: '"A2 authenticates B1’s key by … Example 1 … as soon as A2 authenticated A1’s key" (ATM-R1, ATM-P1); nothing to send yet',
    messages: [],
  },
  {
    by: 'B1',
    action: 'authenticate',
    target: 'A1',
    why: '"B1 authenticates A2’s key by … Example 2 … as soon as B1 authenticated A1’s key" (ATM-R2, ATM-P1); B1 has no other key to tell about',
    messages: [],
  },
  {
    by: 'A2',
    action: 'authenticate',
    target: 'A3',
    why: 'ATM-S3, ATM-S4 ("Remember that A2 has already authenticated A1’s and B1’s key")',
    messages: [
      // to B1, and by Carbons readable by A1 (A3 gets the copy but cannot read it)
      {
        example: 'Example 3 (ATM-S3)',
        to: BOB,
        owners: [{ jid: ALICE, trust: [A3] }],
        allowed: ['A1', 'B1'],
      },
      {
        example: 'Example 5 (ATM-S4)',
        to: ALICE,
        // The XEP lists Alice before Bob. Key-owner order carries no meaning in XEP-0434; the
        // engine writes the "all keys" message as QXmpp does (TM-ATM.md §3.3 step 2: contacts,
        // then own keys), so the golden table follows the decided behaviour.
        owners: [
          { jid: BOB, trust: [B1] },
          { jid: ALICE, trust: [A1] },
        ],
        allowed: ['A3'],
      },
    ],
  },
  {
    by: 'A1',
    action: 'distrust',
    target: 'A3',
    why: 'ATM-S5 ("Remember that A1 has already authenticated A2’s, A3’s and B1’s key")',
    messages: [
      // to B1, and by Carbons to A2; A3, now distrusted, may not read it
      {
        example: 'Example 6 (ATM-S5)',
        to: BOB,
        owners: [{ jid: ALICE, distrust: [A3] }],
        allowed: ['A2', 'B1'],
      },
    ],
  },
  {
    by: 'A1',
    action: 'distrust',
    target: 'B1',
    why: 'ATM-S6 (never to the contact)',
    messages: [
      { example: 'Example 8 (ATM-S6)', to: ALICE, owners: [{ jid: BOB, distrust: [B1] }], allowed: ['A2'] },
    ],
  },
]

/** Levels at the end: row endpoint → column endpoint's key. */
const FINAL: Record<Name, Partial<Record<Name, string>>> = {
  A1: { A2: 'authenticated', A3: 'manually-distrusted', B1: 'manually-distrusted' },
  // A2 authenticated A3 itself (step 5), then applied A1's distrusts (Examples 6 and 8: ATM-R4, ATM-R6)
  A2: { A1: 'authenticated', A3: 'manually-distrusted', B1: 'manually-distrusted' },
  // A3 never authenticated anyone: every key it discovered stays automatically trusted (TOAKAFA)
  // and Example 5 waits in its postponed store until it authenticates A2
  A3: { A1: 'automatically-trusted', A2: 'automatically-trusted', B1: 'automatically-trusted' },
  // Example 3 authenticated A3 (ATM-R2), Example 6 distrusted it (ATM-R5); Example 8 never reached B1
  B1: { A1: 'authenticated', A2: 'authenticated', A3: 'manually-distrusted' },
}

const opened: Network[] = []

async function storyNetwork(withBob = true): Promise<Network> {
  const net = await createNetwork({ seed: 450 })
  await net.addEndpoint('alice@example.org', { resource: 'A1', key: A1 })
  await net.addEndpoint('alice@example.org', { resource: 'A2', key: A2 })
  await net.addEndpoint('alice@example.org', { resource: 'A3', key: A3 })
  if (withBob) await net.addEndpoint('bob@example.com', { resource: 'B1', key: B1 })
  opened.push(net)
  return net
}

function shape(m: SimMessage, net: Network) {
  return {
    to: m.to,
    owners: m.message.keyOwners.map((o) => ({
      jid: o.jid,
      ...(o.trust.length > 0 ? { trust: [...o.trust] } : {}),
      ...(o.distrust.length > 0 ? { distrust: [...o.distrust] } : {}),
    })),
    allowed: m.allowedKeys.map((k) => net.keyLabel(k.owner, k.keyId)).sort(),
  }
}

const golden = (g: GoldenMessage) => ({
  to: g.to,
  owners: g.owners.map((o) => ({
    jid: o.jid,
    ...(o.trust === undefined ? {} : { trust: [...o.trust] }),
    ...(o.distrust === undefined ? {} : { distrust: [...o.distrust] }),
  })),
  allowed: g.allowed.map((n) => LABEL[n]).sort(),
})

describe('X17: the XEP-0450 story (A1, A2, A3, B1; examples 1 – 8) on the simulator', () => {
  afterEach(async () => {
    for (const n of opened.splice(0)) await n.close()
  })

  it('§2.6: the v0.1.0 hex ids are the v0.4.0 Base64 ids', () => {
    expect([A1, A2, A3, B1]).toEqual([
      parseKeyIdBase64('883dkfJVAmUkg74v1fqqoA+AhorA1R1+67GwijiS4z0='),
      parseKeyIdBase64('aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ='),
      parseKeyIdBase64('IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA='),
      parseKeyIdBase64('YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8='),
    ])
  })

  it('X17 / examples 1 – 8: every manual step sends exactly the spec’s trust messages, readable only by the allowed keys', async () => {
    const net = await storyNetwork()
    for (const [i, step] of STORY.entries()) {
      const before = net.messages.length
      await net[step.action](LABEL[step.by], LABEL[step.target])
      await net.run()
      const sent = net.messages.slice(before)
      expect(
        sent.map((m) => shape(m, net)),
        `step ${i + 1}: ${step.by} ${step.action}s ${step.target} — ${step.why}`,
      ).toEqual(step.messages.map(golden))
      for (const [j, m] of sent.entries()) {
        const g = step.messages[j] as GoldenMessage
        expect(m.message.usage, g.example).toBe('urn:xmpp:atm:1')
        expect(m.message.encryption, g.example).toBe(NS_OMEMO_2)
        // TM-21: the endpoints that decrypted it are exactly the allowed ones …
        const readers = net.reads.filter((r) => r.messageId === m.id).map((r) => r.reader)
        expect(readers.sort(), `${g.example}: readers`).toEqual(g.allowed.map((n) => LABEL[n]).sort())
        // … and every other endpoint the message reached (recipient account + sender's Carbons) could not
        const reached = net.deliveries.filter((d) => d.messageId === m.id).map((d) => d.to)
        const expected = net.endpoints
          .filter((e) => e.label !== m.from && (e.account === m.to || e.account === ALICE))
          .map((e) => e.label)
        expect(reached.sort(), `${g.example}: reached by Carbons`).toEqual(expected.sort())
      }
    }
    expect(net.stats.messagesSent, 'examples 1, 2, 3, 5, 6, 8').toBe(6)
  })

  it('X17: the final trust levels on every endpoint', async () => {
    const net = await storyNetwork()
    for (const step of STORY) {
      await net[step.action](LABEL[step.by], LABEL[step.target])
      await net.run()
    }
    const names = Object.keys(KEYS) as Name[]
    const actual: Record<string, Record<string, string>> = {}
    const expected: Record<string, Record<string, string>> = {}
    for (const r of names) {
      actual[r] = {}
      expected[r] = {}
      for (const c of names) {
        if (r === c) continue
        ;(actual[r] as Record<string, string>)[c] = await net.level(LABEL[r], LABEL[c])
        ;(expected[r] as Record<string, string>)[c] = FINAL[r][c] ?? '?'
      }
    }
    expect(actual).toEqual(expected)
    // A3 kept Example 5 for later (ATM-P1): A2 vouched for A1 and B1
    const postponed = await net.endpoint(LABEL.A3).store.getPostponed(NS_OMEMO_2)
    expect(postponed.map((p) => [p.owner, p.keyId, p.polarity, p.senderKey])).toEqual(
      expect.arrayContaining([
        [ALICE, A1, 'trust', A2],
        [BOB, B1, 'trust', A2],
      ]),
    )
  })

  it('Example 1 on the wire: serialized as XEP-0434 v0.6.0 (`urn:xmpp:tm:1`, Base64 ids)', async () => {
    const net = await storyNetwork()
    await net.authenticate(LABEL.A1, LABEL.A2)
    await net.authenticate(LABEL.A1, LABEL.B1)
    const ex1 = net.messages[0] as SimMessage
    expect(ex1.wire).toBe(
      '<trust-message xmlns="urn:xmpp:tm:1" usage="urn:xmpp:atm:1" encryption="urn:xmpp:omemo:2">' +
        '<key-owner jid="bob@example.com"><trust>YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8=</trust></key-owner>' +
        '</trust-message>',
    )
  })

  it('Examples 4 and 7 (no contact with authenticated keys): A2 → A1 only, then A1 → A2 only, both to Alice’s bare JID', async () => {
    const net = await storyNetwork(false)
    await net.authenticateMutually(LABEL.A1, LABEL.A2)
    await net.run()
    const before = net.messages.length
    await net.authenticate(LABEL.A2, LABEL.A3)
    await net.run()
    const ex4 = net.messages.slice(before).map((m) => shape(m, net))
    expect(ex4[0], 'Example 4 (ATM-S3 without contacts)').toEqual(
      golden({ example: '4', to: ALICE, owners: [{ jid: ALICE, trust: [A3] }], allowed: ['A1'] }),
    )
    // ATM-S4 to A3 (the spec shows only the ATM-S3 part here)
    expect(ex4[1]).toEqual(
      golden({ example: '-', to: ALICE, owners: [{ jid: ALICE, trust: [A1] }], allowed: ['A3'] }),
    )
    expect(await net.level(LABEL.A1, LABEL.A3), 'ATM-R3: A1 authenticates A3 by A2’s message').toBe(
      'authenticated',
    )

    const mark = net.messages.length
    await net.distrust(LABEL.A1, LABEL.A3)
    await net.run()
    expect(net.messages.slice(mark).map((m) => shape(m, net))).toEqual([
      golden({ example: '7', to: ALICE, owners: [{ jid: ALICE, distrust: [A3] }], allowed: ['A2'] }),
    ])
    expect(await net.level(LABEL.A2, LABEL.A3), 'ATM-R4').toBe('manually-distrusted')
  })
})
