/**
 * TM-5 for XEP-0434's first draft (`urn:xmpp:trust-messages:0`, v0.1.x): it predates the `usage`
 * attribute (added in v0.2.0), so the namespace table supplies the usage that draft implied
 * (`urn:xmpp:atm:0`) when reading with `legacy: true`. Fixtures: the draft's Listings 5 and 6 in
 * `protocol-cases/xep0434/` (copied into the repo from the seed).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  NS_ATM_0,
  NS_OMEMO_LEGACY,
  NS_TRUST_MESSAGES_0,
  parseTrustMessageXml,
  TRUST_MESSAGE_NAMESPACES,
} from '../src/index.ts'

const DIR = join(import.meta.dirname, 'protocol-cases', 'xep0434')
const fixture = (name: string): string => readFileSync(join(DIR, `${name}.xml`), 'utf8')
const HEX = '623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f'
const tm = (ns: string, usage?: string): string =>
  `<trust-message xmlns='${ns}'${usage === undefined ? '' : ` usage='${usage}'`} encryption='${NS_OMEMO_LEGACY}'><key-owner jid='bob@example.com'><trust>${HEX}</trust></key-owner></trust-message>`

describe('XEP-0434 first draft (urn:xmpp:trust-messages:0): implied usage', () => {
  it('TM-5: Listing 5 (no usage attribute) reads with legacy: true as usage urn:xmpp:atm:0, marked usageImplied', () => {
    const parsed = parseTrustMessageXml(fixture('xep0434-early-draft-listing-5-unencrypted'), {
      legacy: true,
    })
    expect(parsed).toMatchObject({ namespace: NS_TRUST_MESSAGES_0, legacy: true, usageImplied: true })
    expect(parsed.message.usage).toBe(NS_ATM_0)
    expect(parsed.message.encryption).toBe(NS_OMEMO_LEGACY)
  })

  it('TM-5: Listing 6 (inside the sce:0 envelope) reads the same way', () => {
    const parsed = parseTrustMessageXml(fixture('xep0434-early-draft-listing-6-sce-envelope'), {
      legacy: true,
    })
    expect(parsed.usageImplied).toBe(true)
    expect(parsed.message.usage).toBe(NS_ATM_0)
  })

  it('TM-4: without the legacy option the draft is still refused', () => {
    expect(() => parseTrustMessageXml(fixture('xep0434-early-draft-listing-5-unencrypted'))).toThrowError(
      expect.objectContaining({ name: 'InvalidTrustMessageError', rule: 'TM-4' }),
    )
  })

  it('TM-5: a usage attribute that is present wins over the implied one (XEP-0450 v0.1.0 examples)', () => {
    const parsed = parseTrustMessageXml(tm(NS_TRUST_MESSAGES_0, 'urn:xmpp:example'), { legacy: true })
    expect(parsed.message.usage).toBe('urn:xmpp:example')
    expect(parsed.usageImplied).toBeUndefined()
  })

  it('TM-5: an empty usage attribute is still invalid, even in the first draft', () => {
    expect(() => parseTrustMessageXml(tm(NS_TRUST_MESSAGES_0, ''), { legacy: true })).toThrowError(
      expect.objectContaining({ name: 'InvalidTrustMessageError', rule: 'TM-5' }),
    )
  })

  it('TM-5: only the first draft implies a usage; urn:xmpp:tm:0 and urn:xmpp:tm:1 without usage stay invalid', () => {
    for (const ns of ['urn:xmpp:tm:0', 'urn:xmpp:tm:1'])
      expect(() => parseTrustMessageXml(tm(ns), { legacy: true }), ns).toThrowError(
        expect.objectContaining({ name: 'InvalidTrustMessageError', rule: 'TM-5' }),
      )
    const implied = [...TRUST_MESSAGE_NAMESPACES.values()].filter((e) => e.impliedUsage !== undefined)
    expect(implied.map((e) => [e.namespace, e.impliedUsage])).toEqual([[NS_TRUST_MESSAGES_0, NS_ATM_0]])
  })
})
