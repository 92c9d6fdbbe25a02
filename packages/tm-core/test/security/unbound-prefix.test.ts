/**
 * Attack: unbound namespace prefixes (XML Namespaces 1.0 §5, "Prefix Declared"). `<p:trust>`
 * or `p:jid='…'` without an `xmlns:p` in scope has no namespace; readers disagree on what it
 * means (ignore it, treat `p` as a namespace, match the local name), so one message could list a
 * key as trusted in one client and not in another. The strict reader rejects any prefix that is
 * not declared in scope (MalformedXmlError, rule XML). `xml:` is predeclared; `xmlns:p='…'`
 * binds `p` for the element and its descendants only.
 */
import { describe, expect, it } from 'vitest'
import { parseTrustMessageXml } from '../../src/index.ts'

const A2 = 'aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ='
const A3 = 'IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA='
const OPEN = "<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'"
const tm = (body: string, rootAttrs = '') => `${OPEN}${rootAttrs}>${body}</trust-message>`

const rejectedAsXml = (text: string) =>
  expect(() => parseTrustMessageXml(text)).toThrowError(
    expect.objectContaining({ name: 'MalformedXmlError', rule: 'XML' }),
  )

describe('security: unbound namespace prefixes (XML Namespaces §5)', () => {
  it('TM-9: an element with an unbound prefix (<p:distrust/>) is rejected, not ignored', () => {
    rejectedAsXml(
      tm(`<key-owner jid='alice@example.org'><trust>${A2}</trust><p:distrust>${A3}</p:distrust></key-owner>`),
    )
  })
  it('TM-1: a root element with an unbound prefix is rejected', () => {
    rejectedAsXml(
      `<tm:trust-message usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'><tm:key-owner jid='a@b'><tm:trust>${A2}</tm:trust></tm:key-owner></tm:trust-message>`,
    )
  })
  it('TM-8: an attribute with an unbound prefix (p:jid) is rejected', () => {
    rejectedAsXml(
      tm(`<key-owner jid='alice@example.org' p:jid='mallory@evil.example'><trust>${A2}</trust></key-owner>`),
    )
  })
  it('a prefix declared on a sibling is not in scope', () => {
    rejectedAsXml(
      tm(
        `<key-owner jid='alice@example.org' xmlns:p='urn:example'><trust>${A2}</trust></key-owner>` +
          `<key-owner jid='bob@example.com'><trust>${A2}</trust><p:x/></key-owner>`,
      ),
    )
  })
  it("xmlns:p='' (undeclaring a prefix) is rejected in XML 1.0", () => {
    rejectedAsXml(tm(`<key-owner jid='alice@example.org'><trust>${A2}</trust></key-owner>`, " xmlns:p=''"))
  })
  it('xml: is predeclared and declared prefixes bind for descendants (control)', () => {
    const text =
      "<tm:trust-message xmlns:tm='urn:xmpp:tm:1' xml:lang='en' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>" +
      `<tm:key-owner jid='alice@example.org' xmlns:x='urn:example' x:note='1'><tm:trust>${A2}</tm:trust><x:extra/></tm:key-owner>` +
      '</tm:trust-message>'
    const { message } = parseTrustMessageXml(text)
    expect(message.keyOwners).toEqual([{ jid: 'alice@example.org', trust: [A2], distrust: [] }])
  })
})
