/**
 * Property-based round trips (fast-check): model → XML text → model for XEP-0434 v0.6.0
 * (Base64), for the legacy hex drafts through the namespace table, and for the JSON form.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { BareJid, KeyId, KeyOwner, TrustMessage } from '../src/index.ts'
import {
  Element,
  keyIdToHex,
  NS_TM_0,
  NS_TRUST_MESSAGES_0,
  parseTrustMessageXml,
  serializeTrustMessage,
  serializeTrustMessageXml,
  trustMessageFromJson,
  trustMessageToJson,
} from '../src/index.ts'

const RUNS = 1000

const namespaceName = fc.oneof(
  fc.constantFrom(
    'urn:xmpp:atm:1',
    'urn:xmpp:omemo:2',
    'urn:xmpp:openpgp:0',
    'eu.siacs.conversations.axolotl',
  ),
  fc.stringMatching(/^urn:[a-z0-9:.&<>'"-]{1,30}$/),
)
// RFC 7622 / IDNA2008: no `--` in positions 3–4 (reserved for A-labels such as xn--…)
const label = fc
  .stringMatching(/^[a-z0-9ü](?:[a-z0-9ü-]{0,10}[a-z0-9ü])?$/)
  .filter((l) => l.slice(2, 4) !== '--')
const bareJid: fc.Arbitrary<BareJid> = fc
  .tuple(
    fc.option(fc.stringMatching(/^[a-z0-9ß._+-]{1,12}$/), { nil: undefined }),
    fc.array(label, { minLength: 1, maxLength: 3 }),
  )
  .map(
    ([local, labels]) => (local === undefined ? labels.join('.') : `${local}@${labels.join('.')}`) as BareJid,
  )
const keyId: fc.Arbitrary<KeyId> = fc
  .uint8Array({ minLength: 1, maxLength: 64 })
  .map((b) => btoa(String.fromCharCode(...b)) as KeyId)
const ids = fc.uniqueArray(keyId, { maxLength: 6 })
const keyOwner: fc.Arbitrary<Omit<KeyOwner, 'jid'>> = fc
  .tuple(ids, ids)
  .filter(([t, d]) => t.length + d.length > 0)
  .map(([trust, distrust]) => ({ trust, distrust }))
const trustMessage: fc.Arbitrary<TrustMessage> = fc
  .record({
    usage: namespaceName,
    encryption: namespaceName,
    jids: fc.uniqueArray(bareJid, { minLength: 1, maxLength: 5 }),
    owners: fc.array(keyOwner, { minLength: 5, maxLength: 5 }),
  })
  .map(({ usage, encryption, jids, owners }) => ({
    usage,
    encryption,
    keyOwners: jids.map((jid, i) => ({ jid, ...owners[i]! })),
  }))

/** The same message written by an old draft: legacy namespace, hex ids, interleaved order. */
function legacyXml(m: TrustMessage, ns: string): string {
  const root = new Element('trust-message', { xmlns: ns, usage: m.usage, encryption: m.encryption })
  for (const o of m.keyOwners) {
    const el = root.c('key-owner', { jid: o.jid })
    const n = Math.max(o.trust.length, o.distrust.length)
    for (let i = 0; i < n; i++) {
      const d = o.distrust[i]
      const t = o.trust[i]
      if (d !== undefined) el.c('distrust').t(` ${keyIdToHex(d).toUpperCase()} `)
      if (t !== undefined) el.c('trust').t(keyIdToHex(t))
    }
  }
  return root.toString()
}

describe('round trips (fast-check)', () => {
  it('TM-4 / D-1: model → serialize → XML text → parse is the identity', () => {
    fc.assert(
      fc.property(trustMessage, (m) => {
        const text = serializeTrustMessage(m).toString()
        const back = parseTrustMessageXml(text)
        expect(back.namespace).toBe('urn:xmpp:tm:1')
        expect(back.message).toEqual(m)
      }),
      { numRuns: RUNS },
    )
  })

  it('D-1: serializeTrustMessageXml writes exactly what the element tree writes', () => {
    fc.assert(
      fc.property(trustMessage, (m) => {
        expect(serializeTrustMessageXml(m)).toBe(serializeTrustMessage(m).toString())
      }),
      { numRuns: RUNS },
    )
  })

  it('TM-4 / TM-10: a legacy hex draft of the same message reads as the same model (legacy: true)', () => {
    fc.assert(
      fc.property(trustMessage, fc.constantFrom(NS_TM_0, NS_TRUST_MESSAGES_0), (m, ns) => {
        const back = parseTrustMessageXml(legacyXml(m, ns), { legacy: true })
        expect(back).toEqual({ namespace: ns, legacy: true, message: m })
      }),
      { numRuns: RUNS },
    )
  })

  it('JSON: model → JSON text → model is the identity', () => {
    fc.assert(
      fc.property(trustMessage, (m) => {
        const json = JSON.stringify(
          trustMessageToJson({ namespace: 'urn:xmpp:tm:1', legacy: false, message: m }),
        )
        expect(trustMessageFromJson(JSON.parse(json)).message).toEqual(m)
      }),
      { numRuns: RUNS },
    )
  })
})
