/**
 * Attack: JID confusables. An attacker names (in a trust message, a URI, an SCE affix) or
 * registers a spelling of an address that the server treats as the victim's account, e.g.
 * `ａlice@example.org` (FULLWIDTH a), `alice@ｅxample．org`, `alice@xn--bcher-kva.example`
 * for `alice@bücher.example`. If Vouch keys that spelling apart from the victim's, decisions
 * about one account are split over two keys: a key trusted "for ａlice" is the key of the
 * server's alice, and a distrust of alice's key under a second spelling is missed. RFC 7622
 * (PRECIS UsernameCaseMapped, UTS #46 to U-labels, OpaqueString) makes every such spelling one
 * canonical JID; spellings that RFC 7622 forbids (compatibility characters such as KELVIN SIGN
 * or ROMAN NUMERAL FOUR, bidi-ambiguous localparts) are rejected with InvalidJidError.
 */
import { describe, expect, it } from 'vitest'
import { parseBareJid, parseFullJid, parseTrustMessageXml, sameBareJid } from '../../src/index.ts'

const A2 = 'aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ='
const A3 = 'IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA='
const tm = (owners: string) =>
  `<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>${owners}</trust-message>`
const owner = (jid: string, body: string) => `<key-owner jid='${jid}'>${body}</key-owner>`

/** [victim, spelling the server treats as the victim, what the spelling uses] */
const SAME_ACCOUNT: readonly [string, string, string][] = [
  [
    'alice@example.org',
    '\uFF41lice@example.org',
    'FULLWIDTH LATIN SMALL LETTER A in the localpart (width mapping)',
  ],
  ['alice@example.org', '\uFF21\uFF2C\uFF29\uFF23\uFF25@example.org', 'fullwidth capitals in the localpart'],
  [
    'alice@example.org',
    'alice@\uFF45xample\uFF0Eorg',
    'fullwidth letters and FULLWIDTH FULL STOP in the domainpart',
  ],
  ['alice@example.org', 'alice@example\u3002org', 'IDEOGRAPHIC FULL STOP as the label separator'],
  ['alice@example.org', 'alice@example\uFF61org', 'HALFWIDTH IDEOGRAPHIC FULL STOP as the label separator'],
  [
    'alice@example.org',
    'alice@\u24D4xample.org',
    'CIRCLED LATIN SMALL LETTER E in the domainpart (UTS #46 mapping)',
  ],
  [
    'alice@b\u00FCcher.example',
    'alice@xn--bcher-kva.example',
    'the A-label of the victim\u2019s U-label domain',
  ],
]

describe('security: JID confusables (RFC 7622)', () => {
  for (const [victim, spelling, what] of SAME_ACCOUNT) {
    it(`TM-8 / D-3: ${what} is the victim's bare JID`, () => {
      expect(parseBareJid(spelling, 'TM-8')).toBe(parseBareJid(victim, 'TM-8'))
      expect(sameBareJid(spelling, victim)).toBe(true)
    })
  }

  it('TM-8: a key-owner under a look-alike spelling is read as the victim', () => {
    const { message } = parseTrustMessageXml(
      tm(owner('\uFF41lice@\uFF45xample\uFF0Eorg', `<trust>${A2}</trust>`)),
    )
    expect(message.keyOwners[0]?.jid).toBe('alice@example.org')
  })

  it('TM-8: two key-owners for one account under two spellings are rejected (no split decision)', () => {
    const text = tm(
      owner('alice@example.org', `<trust>${A2}</trust>`) +
        owner('\uFF41lice@example.org', `<distrust>${A3}</distrust>`),
    )
    expect(() => parseTrustMessageXml(text)).toThrowError(
      expect.objectContaining({ name: 'InvalidTrustMessageError', rule: 'TM-8' }),
    )
  })

  it('TM-8: the A-label and the U-label of one domain are one key-owner', () => {
    const text = tm(
      owner('alice@xn--bcher-kva.example', `<trust>${A2}</trust>`) +
        owner('alice@b\u00FCcher.example', `<trust>${A3}</trust>`),
    )
    expect(() => parseTrustMessageXml(text)).toThrowError(
      expect.objectContaining({ name: 'InvalidTrustMessageError', rule: 'TM-8' }),
    )
  })

  it('SCE-3 / D-3: a full JID whose resource uses IDEOGRAPHIC SPACE is the one with U+0020 (OpaqueString)', () => {
    expect(parseFullJid('alice@example.org/my\u3000phone')).toBe(parseFullJid('alice@example.org/my phone'))
  })

  const FORBIDDEN: readonly [string, string][] = [
    ['\u212Aeys@example.org', 'KELVIN SIGN, which NFC alone turns into K'],
    ['\u212Bngstr\u00F6m@example.org', 'ANGSTROM SIGN, which NFC alone turns into \u00C5'],
    ['henry\u2163@example.org', 'ROMAN NUMERAL FOUR (a compatibility character)'],
    ['\uFB01nance@example.org', 'LATIN SMALL LIGATURE FI'],
    ['\u05D0lice@example.org', 'a Hebrew letter before Latin ones (Bidi Rule)'],
    ['a\u00B7b@example.org', 'MIDDLE DOT outside l\u00B7l (CONTEXTO)'],
  ]
  for (const [jid, what] of FORBIDDEN) {
    it(`TM-8: a localpart with ${what} is rejected, not mapped onto another account`, () => {
      expect(() => parseBareJid(jid, 'TM-8')).toThrowError(
        expect.objectContaining({ name: 'InvalidJidError', rule: 'TM-8' }),
      )
      expect(() => parseTrustMessageXml(tm(owner(jid, `<trust>${A2}</trust>`)))).toThrowError(
        expect.objectContaining({ name: 'InvalidJidError', rule: 'TM-8' }),
      )
    })
  }
})
