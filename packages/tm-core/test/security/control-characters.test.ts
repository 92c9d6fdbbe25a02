/**
 * Attack: characters that XML 1.0 does not allow (§2.2, production [2] Char: #x9 | #xA | #xD |
 * [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]) inside a trust message. A lenient
 * reader passes them on (or drops them, or replaces a lone surrogate with U+FFFD), so a JID or a
 * key id with an invisible control reads, displays and compares differently in another client.
 * The strict reader rejects them, raw or as character references, in text and in attribute
 * values (MalformedXmlError, rule XML).
 */
import { describe, expect, it } from 'vitest'
import { parseTrustMessageXml } from '../../src/index.ts'

const A2 = 'aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ='
const tm = (jid: string, id: string) =>
  "<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>" +
  `<key-owner jid='${jid}'><trust>${id}</trust></key-owner></trust-message>`

const rejectedAsXml = (text: string) =>
  expect(() => parseTrustMessageXml(text)).toThrowError(
    expect.objectContaining({ name: 'MalformedXmlError', rule: 'XML' }),
  )

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
/** raw code units outside Char: the C0 controls but tab, LF, CR; U+FFFE, U+FFFF; lone surrogates */
const RAW: readonly string[] = [
  ...Array.from({ length: 0x20 }, (_, i) => i)
    .filter((c) => c !== 0x9 && c !== 0xa && c !== 0xd)
    .map((c) => String.fromCharCode(c)),
  '\uFFFE',
  '\uFFFF',
  '\uD800',
  '\uDFFF',
]
const name = (s: string) => hex(s.charCodeAt(0))

describe('security: control characters (XML 1.0 §2.2 Char)', () => {
  for (const c of RAW) {
    it(`raw ${name(c)} in a key-owner jid attribute is rejected`, () => {
      rejectedAsXml(tm(`alice${c}@example.org`, A2))
    })
    it(`raw ${name(c)} in key-id text is rejected`, () => {
      rejectedAsXml(tm('alice@example.org', `${A2.slice(0, 20)}${c}${A2.slice(20)}`))
    })
  }
  // character references to code points outside Char were already refused by the old
  // tokenizer; these pin the rule for references in both places
  for (const ref of ['&#1;', '&#x0;', '&#x1F;', '&#xD800;', '&#xFFFE;', '&#xFFFF;', '&#x110000;']) {
    it(`the reference ${ref} in an attribute value is rejected`, () => {
      rejectedAsXml(tm(`alice${ref}@example.org`, A2))
    })
    it(`the reference ${ref} in text is rejected`, () => {
      rejectedAsXml(tm('alice@example.org', `${A2}${ref}`))
    })
  }
  it('a malformed character reference (&#65abc;) is rejected, not read as "A"', () => {
    rejectedAsXml(tm('&#97;lice&#64abc;@example.org', A2))
  })
  it('tab, LF and CR around a key id are allowed (control)', () => {
    const { message } = parseTrustMessageXml(tm('alice@example.org', `\t\n\r${A2}&#x9;&#xA;&#xD;`))
    expect(message.keyOwners[0]?.trust).toEqual([A2])
  })
})
