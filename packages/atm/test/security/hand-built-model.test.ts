/**
 * Attack (hardening item 7): the engine trusted its caller to hand it only models the XEP-0434
 * codec produced. A hand-built `TrustMessage` whose key owner is `Alice@example.org` (our account,
 * not normalised) slipped past the own-account checks (X8: no decision about our own key), and
 * one naming `alice@example.org/x` made a full JID a key owner in the store; owner arguments of
 * the other entry points had the same hole. The engine now applies the codec's validation to
 * every model and every owner/key list it is handed, with the codec's errors, and rejects
 * non-canonical JIDs and key ids (TM-8, TM-10) instead of normalising them, before the store is
 * touched.
 */
import type { BareJid, KeyId, TrustMessage } from '@vouch/tm-core'
import { NS_OMEMO_2, parseTrustMessageXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import type { Atm } from '../../src/index.ts'
import { createAtm, NS_ATM } from '../../src/index.ts'
import { A1, A2, ALICE, ALICE_LAPTOP, B1, BOB, BOB_PHONE, OMEMO, seed, testClock } from '../helpers.ts'
import { endpoint, levels, STORES } from '../stores.ts'
import { untouchedStore } from './untouched-store.ts'

const NS = NS_OMEMO_2
const LIMITS = { maxKeyOwners: 2, maxKeyIdsPerOwner: 3 } as const

/** The typed error `p` rejects with, as `name rule` (the suites compare names, never classes). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    const { name, rule } = e as { name: string; rule?: string }
    return `${name} ${rule}`
  }
  return 'resolved'
}

function isolated(): { atm: Atm; calls: string[] } {
  const { store, calls } = untouchedStore()
  const atm = createAtm({ account: ALICE, store, backends: [OMEMO], now: testClock().now, limits: LIMITS })
  return { atm, calls }
}

const model = (jid: string, trust: readonly string[], distrust: readonly string[] = []): TrustMessage => ({
  usage: NS_ATM,
  encryption: NS,
  keyOwners: [{ jid: jid as BareJid, trust: trust as KeyId[], distrust: distrust as KeyId[] }],
})

const fromOwnLaptop = (message: TrustMessage) => ({
  message,
  senderJid: ALICE_LAPTOP,
  senderKey: A2,
  carrier: NS,
  encrypted: true,
  sceTime: 1_000,
})

describe('attack: a hand-built trust message model handed to the engine', () => {
  it.each([
    ['our account in another spelling', 'Alice@example.org'],
    ['a full JID', 'alice@example.org/x'],
  ])('X8, TM-8: a key owner that is %s is rejected before the store is touched', async (_, owner) => {
    const { atm, calls } = isolated()
    const message = model(owner, [A1]) // a decision about our own key, A1
    expect(await failure(atm.handleTrustMessage(fromOwnLaptop(message)))).toBe('InvalidJidError TM-8')
    const [r] = await atm.handleTrustMessages([fromOwnLaptop(message)])
    expect(r?.outcome).toBe('rejected')
    expect(r?.error).toMatchObject({ name: 'InvalidJidError', rule: 'TM-8' })
    expect(calls).toEqual([])
  })

  it.each(STORES)(
    'X8, TM-8: on $name nothing changes, no key is stored under another spelling of our account',
    async (store) => {
      const ep = await endpoint({ store, ownKeys: { [NS]: A1 } })
      await seed(ep.store, NS, ALICE, [A2], 'authenticated') // the sending laptop is authenticated
      const before = await levels(ep.store)
      const outcomes: string[] = []
      for (const owner of ['Alice@example.org', 'alice@example.org/x'])
        for (const m of [model(owner, [A1]), model(owner, [], [A1])])
          outcomes.push(await failure(ep.atm.handleTrustMessage(fromOwnLaptop(m))))
      // before the fix: our own key A1 authenticated under 'Alice@example.org' and under the full JID
      expect(await levels(ep.store)).toEqual(before)
      expect(outcomes).toEqual(Array(4).fill('InvalidJidError TM-8'))
      expect(await ep.store.getPostponed(NS)).toEqual([])
      await ep.close()
    },
  )

  // Each model is the XML next to it, built by hand: the engine rejects it with the error the
  // codec throws for that XML.
  const A1_NOT_CANONICAL = `${A1.slice(0, 42)}1=` // non-zero padding bits: not canonical Base64
  const vectors: readonly { comment: string; message: TrustMessage; xml: string }[] = [
    {
      comment: 'TM-5: empty usage',
      message: { usage: '', encryption: NS, keyOwners: [{ jid: BOB, trust: [B1], distrust: [] }] },
      xml: `<trust-message xmlns='urn:xmpp:tm:1' usage='' encryption='${NS}'><key-owner jid='${BOB}'><trust>${B1}</trust></key-owner></trust-message>`,
    },
    {
      comment: 'TM-7: no key owner',
      message: { usage: NS_ATM, encryption: NS, keyOwners: [] },
      xml: `<trust-message xmlns='urn:xmpp:tm:1' usage='${NS_ATM}' encryption='${NS}'/>`,
    },
    {
      comment: 'TM-8: two key owners for one JID',
      message: {
        usage: NS_ATM,
        encryption: NS,
        keyOwners: [
          { jid: BOB, trust: [B1], distrust: [] },
          { jid: BOB, trust: [], distrust: [A1] },
        ],
      },
      xml: `<trust-message xmlns='urn:xmpp:tm:1' usage='${NS_ATM}' encryption='${NS}'><key-owner jid='${BOB}'><trust>${B1}</trust></key-owner><key-owner jid='${BOB}'><distrust>${A1}</distrust></key-owner></trust-message>`,
    },
    {
      comment: 'TM-8: malformed JID',
      message: model('bob@', [B1]),
      xml: `<trust-message xmlns='urn:xmpp:tm:1' usage='${NS_ATM}' encryption='${NS}'><key-owner jid='bob@'><trust>${B1}</trust></key-owner></trust-message>`,
    },
    {
      comment: 'TM-8: full JID',
      message: model(`${BOB}/phone`, [B1]),
      xml: `<trust-message xmlns='urn:xmpp:tm:1' usage='${NS_ATM}' encryption='${NS}'><key-owner jid='${BOB}/phone'><trust>${B1}</trust></key-owner></trust-message>`,
    },
    {
      comment: 'TM-9: a key owner with no key id',
      message: model(BOB, []),
      xml: `<trust-message xmlns='urn:xmpp:tm:1' usage='${NS_ATM}' encryption='${NS}'><key-owner jid='${BOB}'/></trust-message>`,
    },
    {
      comment: 'TM-10: not Base64',
      message: model(BOB, ['not*base64']),
      xml: `<trust-message xmlns='urn:xmpp:tm:1' usage='${NS_ATM}' encryption='${NS}'><key-owner jid='${BOB}'><trust>not*base64</trust></key-owner></trust-message>`,
    },
    {
      comment: 'TM-10: not canonical Base64',
      message: model(BOB, [A1_NOT_CANONICAL]),
      xml: `<trust-message xmlns='urn:xmpp:tm:1' usage='${NS_ATM}' encryption='${NS}'><key-owner jid='${BOB}'><trust>${A1_NOT_CANONICAL}</trust></key-owner></trust-message>`,
    },
    {
      comment: 'TM-10: one key id twice as trust',
      message: model(BOB, [B1, B1]),
      xml: `<trust-message xmlns='urn:xmpp:tm:1' usage='${NS_ATM}' encryption='${NS}'><key-owner jid='${BOB}'><trust>${B1}</trust><trust>${B1}</trust></key-owner></trust-message>`,
    },
  ]
  for (const [i, v] of vectors.entries())
    it(`invalid #${i}: ${v.comment} — the codec's error, before the store is touched`, async () => {
      const codec = await failure(
        (async () => parseTrustMessageXml(v.xml, { limits: LIMITS, keyIdLength: () => 32 }))(),
      )
      expect(codec, 'the XML is invalid for the codec').not.toBe('resolved')
      const { atm, calls } = isolated()
      const sent = { ...fromOwnLaptop(v.message), senderJid: BOB_PHONE, senderKey: B1 }
      expect(await failure(atm.handleTrustMessage(sent))).toBe(codec)
      expect(calls).toEqual([])
    })
})

describe('attack: a sender JID that is not a JID', () => {
  it('the stanza sender must parse as a JID: rejected before any other check, the store untouched', async () => {
    const { atm, calls } = isolated()
    // a plaintext message (X2) used to be ignored without the sender being looked at
    for (const encrypted of [false, true]) {
      const input = {
        ...fromOwnLaptop(model(BOB, [B1])),
        senderJid: 'bob@example.com/' as BareJid,
        encrypted,
      }
      expect(await failure(atm.handleTrustMessage(input))).toBe('InvalidJidError JID')
    }
    expect(calls).toEqual([])
  })
})

describe('attack: owner arguments in another spelling', () => {
  const calls: readonly [string, (atm: Atm) => Promise<unknown>][] = [
    ['authenticate, owner in capitals', (atm) => atm.authenticate(NS, 'Bob@Example.com' as BareJid, [B1])],
    ['distrust, a full JID', (atm) => atm.distrust(NS, `${BOB}/phone` as BareJid, [B1])],
    [
      'decide, our account in capitals',
      (atm) => atm.decide({ encryption: NS, owner: 'ALICE@example.org' as BareJid, distrust: [A1] }),
    ],
    [
      'keysDiscovered, our account in capitals',
      (atm) => atm.keysDiscovered(NS, 'Alice@example.org' as BareJid, [A1]),
    ],
    [
      'keysDiscovered with no keys, a full JID',
      (atm) => atm.keysDiscovered(NS, `${BOB}/phone` as BareJid, []),
    ],
    ['resetToakafa, owner in capitals', (atm) => atm.resetToakafa(NS, 'Bob@example.com' as BareJid)],
    [
      'applyUri, owner in capitals',
      (atm) =>
        atm.applyUri(
          { jid: 'Bob@example.com' as BareJid, encryption: NS, trust: [B1], distrust: [] },
          { uriSource: 'scan', confirm: async () => true },
        ),
    ],
  ]
  it.each(calls)('TM-8: %s is rejected (not normalised) before the store is touched', async (_, call) => {
    const { atm, calls: storeCalls } = isolated()
    expect(await failure(call(atm))).toBe('InvalidJidError TM-8')
    expect(storeCalls).toEqual([])
  })

  it('TM-10: a key id of a local decision that is not canonical Base64 is rejected before the store is touched', async () => {
    const { atm, calls } = isolated()
    expect(await failure(atm.authenticate(NS, BOB, [` ${B1}` as KeyId]))).toBe('InvalidKeyIdError TM-10')
    expect(calls).toEqual([])
  })
})
