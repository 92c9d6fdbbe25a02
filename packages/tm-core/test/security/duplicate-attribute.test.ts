/**
 * Attack: duplicate attributes. `<key-owner jid='alice@…' jid='mallory@…'>` is not well-formed
 * XML (XML 1.0 §3.1, "Unique Att Spec"), yet a lenient tokenizer keeps the last value and
 * another client may keep the first: the same message would name different key owners on the
 * sender's and the receiver's screens. The strict reader rejects it (MalformedXmlError, rule
 * XML) before any trust-message rule runs, also when the duplicate hides behind two prefixes
 * bound to one namespace (XML Namespaces §6.3).
 */
import { describe, expect, it } from 'vitest'
import { parseTrustMessageXml, parseXml } from '../../src/index.ts'

const A2 = 'aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ='
const ATTRS = "usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'"
const tm = (attrs: string, owner: string) =>
  `<trust-message xmlns='urn:xmpp:tm:1' ${attrs}>${owner}</trust-message>`
const owner = (attrs: string) => `<key-owner ${attrs}><trust>${A2}</trust></key-owner>`

const rejectedAsXml = (text: string) =>
  expect(() => parseTrustMessageXml(text)).toThrowError(
    expect.objectContaining({ name: 'MalformedXmlError', rule: 'XML' }),
  )

describe('security: duplicate attributes (XML 1.0 §3.1 Unique Att Spec)', () => {
  it('TM-8: a key-owner with two jid attributes is rejected, not read as either JID', () => {
    rejectedAsXml(tm(ATTRS, owner("jid='alice@example.org' jid='mallory@evil.example'")))
  })
  it('TM-8: the same JID twice is rejected too (the rule is syntactic)', () => {
    rejectedAsXml(tm(ATTRS, owner("jid='alice@example.org' jid='alice@example.org'")))
  })
  it('TM-6: two encryption attributes on <trust-message/> are rejected', () => {
    rejectedAsXml(
      tm(
        "usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2' encryption='urn:xmpp:openpgp:0'",
        owner("jid='alice@example.org'"),
      ),
    )
  })
  it('TM-5: two usage attributes are rejected', () => {
    rejectedAsXml(
      tm(
        `usage='urn:xmpp:atm:1' usage='urn:example:other' ${ATTRS.slice(ATTRS.indexOf('encryption'))}`,
        owner("jid='a@b'"),
      ),
    )
  })
  it('TM-1: two xmlns attributes (the namespace decides which rules apply) are rejected', () => {
    rejectedAsXml(
      `<trust-message xmlns='urn:xmpp:tm:1' xmlns='urn:xmpp:tm:0' ${ATTRS}>${owner("jid='a@b'")}</trust-message>`,
    )
  })
  it('XML Namespaces §6.3: two prefixes bound to one namespace cannot name one attribute twice', () => {
    expect(() =>
      parseXml(
        "<a xmlns:p='urn:example' xmlns:q='urn:example' p:jid='alice@example.org' q:jid='mallory@evil.example'/>",
      ),
    ).toThrowError(expect.objectContaining({ name: 'MalformedXmlError', rule: 'XML' }))
  })
  it('distinct attributes still read (control)', () => {
    const { message } = parseTrustMessageXml(tm(ATTRS, owner("jid='alice@example.org'")))
    expect(message.keyOwners.map((o) => o.jid)).toEqual(['alice@example.org'])
  })
})
