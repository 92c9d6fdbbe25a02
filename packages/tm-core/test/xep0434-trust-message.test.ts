/**
 * XEP-0434 v0.6.0 §4 Trust Message Structure, §5.2 Encrypted Trust Message: one test (or more)
 * per rule of TM-ATM.md §2.1 / §2.2 the codec enforces, and the D-1 / D-7 decisions.
 */
import { describe, expect, it } from 'vitest'
import type { TrustMessage } from '../src/index.ts'
import {
  Element,
  encryptedMessageStanza,
  findTrustMessage,
  NS_ATM_1,
  NS_TM_1,
  parseTrustMessage,
  parseTrustMessageXml,
  parseXml,
  readTrustMessage,
  serializeTrustMessage,
  trustMessageFromJson,
  validateTrustMessage,
} from '../src/index.ts'

// TM-ATM.md §2.6 vectors
const A2 = 'aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ='
const A3 = 'IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA='
const B1 = 'YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8='
const BD1 = 'tCP1CI3pqSTVGzFYFyPYUMfMZ9Ck/msmfD0wH/VtJBM='
const BD2 = '2fhJtrgoMJxfLI3084/YkYh9paqiSiLFDVL2m0qAgX4='
const A2_HEX = '6850019d7ed0feb6d3823072498ceb4f616c6025586f8f666dc6b9c81ef7e0a4'
const OX_FPR = 'AAECAwQFBgcICQoLDA0ODxAREhM=' // 20 bytes 00..13

const ATTRS = `usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'`
const tm = (body: string, attrs = ATTRS, ns = NS_TM_1): string =>
  `<trust-message xmlns='${ns}' ${attrs}>${body}</trust-message>`
const owner = (jid: string, body: string): string => `<key-owner jid='${jid}'>${body}</key-owner>`
const VALID = tm(owner('alice@example.org', `<trust>${A2}</trust>`))

const err = (name: string, rule: string) => expect.objectContaining({ name, rule })
const parse = (xml: string, options: Parameters<typeof parseTrustMessageXml>[1] = {}) =>
  parseTrustMessageXml(xml, options)

describe('XEP-0434 §4 trust message structure', () => {
  describe('TM-1: exactly one <trust-message/> direct child of the <message/>', () => {
    const msg = (inner: string) =>
      parseXml(`<message xmlns='jabber:client' to='bob@example.com'>${inner}</message>`)
    it('TM-1: finds the one trust message of a message', () => {
      const found = findTrustMessage(msg(`<store xmlns='urn:xmpp:hints'/>${VALID}`))
      expect(found.message.keyOwners[0]?.trust).toEqual([A2])
    })
    it('TM-1: rejects a message without a trust message', () => {
      expect(() => findTrustMessage(msg(`<body>hi</body>`))).toThrowError(
        err('InvalidTrustMessageError', 'TM-1'),
      )
    })
    it('TM-1: rejects a message with two trust messages', () => {
      expect(() => findTrustMessage(msg(VALID + VALID))).toThrowError(err('InvalidTrustMessageError', 'TM-1'))
    })
    it('TM-1: counts a legacy-namespace trust message as a second one', () => {
      const legacy = tm(owner('alice@example.org', `<trust>${A2_HEX}</trust>`), ATTRS, 'urn:xmpp:tm:0')
      expect(() => findTrustMessage(msg(VALID + legacy), { legacy: true })).toThrowError(
        err('InvalidTrustMessageError', 'TM-1'),
      )
    })
    it('TM-1: does not look below the direct children', () => {
      expect(() => findTrustMessage(msg(`<x xmlns='urn:example'>${VALID}</x>`))).toThrowError(
        err('InvalidTrustMessageError', 'TM-1'),
      )
    })
    it('TM-1: accepts a message written without a namespace (inherited from the stream)', () => {
      expect(findTrustMessage(parseXml(`<message>${VALID}</message>`)).namespace).toBe(NS_TM_1)
    })
    it('TM-1: rejects a container that is neither a message nor SCE content', () => {
      expect(() => findTrustMessage(parseXml(`<iq xmlns='jabber:client'>${VALID}</iq>`))).toThrowError(
        err('InvalidTrustMessageError', 'TM-1'),
      )
    })
    it('TM-1: parseTrustMessage refuses an element that is not <trust-message/>', () => {
      expect(() => parseTrustMessage(parseXml(`<key-owner xmlns='${NS_TM_1}'/>`))).toThrowError(
        err('InvalidTrustMessageError', 'TM-1'),
      )
    })
  })

  describe('TM-4: namespace urn:xmpp:tm:1 (legacy drafts only behind the option)', () => {
    it('TM-4: reads urn:xmpp:tm:1 and reports it', () => {
      expect(parse(VALID)).toMatchObject({ namespace: NS_TM_1, legacy: false })
    })
    for (const ns of ['urn:xmpp:tm:0', 'urn:xmpp:trust-messages:0'])
      it(`TM-4: refuses legacy ${ns} by default, reads its hex ids with legacy: true`, () => {
        const xml = tm(owner('alice@example.org', `<trust>${A2_HEX}</trust>`), ATTRS, ns)
        expect(() => parse(xml)).toThrowError(err('InvalidTrustMessageError', 'TM-4'))
        expect(parse(xml, { legacy: true })).toMatchObject({
          namespace: ns,
          legacy: true,
          message: { keyOwners: [{ jid: 'alice@example.org', trust: [A2], distrust: [] }] },
        })
      })
    it('TM-4: refuses an unknown namespace even with legacy: true', () => {
      expect(() => parse(VALID.replace(NS_TM_1, 'urn:xmpp:tm:2'), { legacy: true })).toThrowError(
        err('InvalidTrustMessageError', 'TM-4'),
      )
    })
    it('TM-4: refuses a trust message without a namespace', () => {
      expect(() => parse(VALID.replace(`xmlns='${NS_TM_1}' `, ''))).toThrowError(
        err('InvalidTrustMessageError', 'TM-4'),
      )
    })
    it('TM-4: a message with a lone trust message in a foreign namespace gets TM-4', () => {
      const xml = `<message>${VALID.replace(NS_TM_1, 'urn:example:other')}</message>`
      expect(() => parse(xml)).toThrowError(err('InvalidTrustMessageError', 'TM-4'))
    })
    it('TM-4: a legacy namespace is not read as Base64 (the table decides the encoding)', () => {
      const xml = tm(owner('alice@example.org', `<trust>${A2}</trust>`), ATTRS, 'urn:xmpp:tm:0')
      expect(() => parse(xml, { legacy: true })).toThrowError(err('InvalidKeyIdError', 'TM-10'))
    })
    it('TM-4: accepts a prefixed element bound to urn:xmpp:tm:1', () => {
      const xml = `<t:trust-message xmlns:t='${NS_TM_1}' ${ATTRS}><t:key-owner jid='a@b'><t:trust>${A2}</t:trust></t:key-owner></t:trust-message>`
      expect(parse(xml).message.keyOwners[0]?.jid).toBe('a@b')
    })
  })

  describe('TM-5: usage', () => {
    it('TM-5: rejects a missing usage', () => {
      expect(() =>
        parse(tm(owner('a@b', `<trust>${A2}</trust>`), `encryption='urn:xmpp:omemo:2'`)),
      ).toThrowError(err('InvalidTrustMessageError', 'TM-5'))
    })
    it('TM-5: rejects an empty or blank usage', () => {
      for (const usage of ['', ' ', 'urn:xmpp: atm:1'])
        expect(() =>
          parse(tm(owner('a@b', `<trust>${A2}</trust>`), `usage='${usage}' encryption='urn:xmpp:omemo:2'`)),
        ).toThrowError(err('InvalidTrustMessageError', 'TM-5'))
    })
    it('TM-5: keeps any usage (deciding what is "for ATM" is the caller\'s job)', () => {
      const xml = tm(owner('a@b', `<trust>${A2}</trust>`), `usage='urn:example:other' encryption='x'`)
      expect(parse(xml).message.usage).toBe('urn:example:other')
    })
  })

  describe('TM-6: encryption', () => {
    it('TM-6: rejects a missing encryption', () => {
      expect(() => parse(tm(owner('a@b', `<trust>${A2}</trust>`), `usage='${NS_ATM_1}'`))).toThrowError(
        err('InvalidTrustMessageError', 'TM-6'),
      )
    })
    it('TM-6: rejects an empty encryption', () => {
      expect(() =>
        parse(tm(owner('a@b', `<trust>${A2}</trust>`), `usage='${NS_ATM_1}' encryption=''`)),
      ).toThrowError(err('InvalidTrustMessageError', 'TM-6'))
    })
  })

  describe('TM-7: at least one <key-owner/>', () => {
    it('TM-7: rejects a trust message without key owners', () => {
      expect(() => parse(tm(''))).toThrowError(err('InvalidTrustMessageError', 'TM-7'))
    })
    it('TM-7: foreign-namespace children are ignored, so they do not count', () => {
      expect(() =>
        parse(tm(`<key-owner xmlns='urn:example' jid='a@b'><trust>${A2}</trust></key-owner>`)),
      ).toThrowError(err('InvalidTrustMessageError', 'TM-7'))
      const withForeign = tm(`<x xmlns='urn:example'/>${owner('a@b', `<trust>${A2}</trust>`)}`)
      expect(parse(withForeign).message.keyOwners).toHaveLength(1)
    })
    it('TM-7: rejects an unknown child in the trust-message namespace', () => {
      expect(() => parse(tm(`${owner('a@b', `<trust>${A2}</trust>`)}<owner/>`))).toThrowError(
        err('InvalidTrustMessageError', 'TM-7'),
      )
    })
  })

  describe('TM-8: key-owner jid is a bare JID', () => {
    it('TM-8: rejects a key-owner without jid', () => {
      expect(() => parse(tm(`<key-owner><trust>${A2}</trust></key-owner>`))).toThrowError(
        err('InvalidTrustMessageError', 'TM-8'),
      )
    })
    it('TM-8: rejects a full JID as key-owner', () => {
      expect(() => parse(tm(owner('alice@example.org/phone', `<trust>${A2}</trust>`)))).toThrowError(
        err('InvalidJidError', 'TM-8'),
      )
    })
    it('TM-8: rejects a malformed JID', () => {
      for (const jid of ['@example.org', 'alice@', 'a b@example.org', 'alice@exa..mple'])
        expect(() => parse(tm(owner(jid, `<trust>${A2}</trust>`)))).toThrowError(
          err('InvalidJidError', 'TM-8'),
        )
    })
    it('TM-8: normalises the JID (lower case)', () => {
      expect(parse(tm(owner('Alice@Example.ORG', `<trust>${A2}</trust>`))).message.keyOwners[0]?.jid).toBe(
        'alice@example.org',
      )
    })
    it('TM-8: rejects two key-owner elements for the same bare JID (after normalisation)', () => {
      const xml = tm(
        owner('alice@example.org', `<trust>${A2}</trust>`) +
          owner('ALICE@example.org', `<trust>${A3}</trust>`),
      )
      expect(() => parse(xml)).toThrowError(err('InvalidTrustMessageError', 'TM-8'))
    })
  })

  describe('TM-9: each key-owner has ≥1 <trust/> or <distrust/>', () => {
    it('TM-9: rejects an empty key-owner', () => {
      expect(() => parse(tm(owner('a@b', '')))).toThrowError(err('InvalidTrustMessageError', 'TM-9'))
    })
    it('TM-9: a key-owner with only foreign children is empty', () => {
      expect(() => parse(tm(owner('a@b', `<trust xmlns='urn:example'>${A2}</trust>`)))).toThrowError(
        err('InvalidTrustMessageError', 'TM-9'),
      )
    })
    it('TM-9: rejects an unknown child in the trust-message namespace', () => {
      expect(() =>
        parse(tm(owner('a@b', `<trust>${A2}</trust><authenticate>${A3}</authenticate>`))),
      ).toThrowError(err('InvalidTrustMessageError', 'TM-9'))
    })
    it('TM-9: a distrust-only key owner is fine', () => {
      expect(parse(tm(owner('a@b', `<distrust>${BD1}</distrust>`))).message.keyOwners[0]).toEqual({
        jid: 'a@b',
        trust: [],
        distrust: [BD1],
      })
    })
  })

  describe('TM-10: exactly one Base64 key identifier per element', () => {
    const one = (inner: string) => tm(owner('a@b', `<trust>${inner}</trust>`))
    it('TM-10: rejects an empty identifier', () => {
      expect(() => parse(one(''))).toThrowError(err('InvalidKeyIdError', 'TM-10'))
      expect(() => parse(one('   '))).toThrowError(err('InvalidKeyIdError', 'TM-10'))
    })
    it('TM-10: rejects non-Base64 and hex in urn:xmpp:tm:1', () => {
      expect(() => parse(one('not base64!'))).toThrowError(err('InvalidKeyIdError', 'TM-10'))
      expect(() => parse(one(A2_HEX.slice(0, 62)))).toThrowError(err('InvalidKeyIdError', 'TM-10'))
    })
    it('TM-10: rejects non-canonical Base64 (non-zero padding bits)', () => {
      expect(() => parse(one('QR=='))).toThrowError(err('InvalidKeyIdError', 'TM-10'))
      expect(() => parse(one('QUJ='))).toThrowError(err('InvalidKeyIdError', 'TM-10'))
    })
    it('TM-10: rejects two identifiers in one element', () => {
      expect(() => parse(one('AAAA BBBB'))).toThrowError(err('InvalidKeyIdError', 'TM-10'))
    })
    it('TM-10: rejects child elements inside <trust/>', () => {
      expect(() => parse(one(`<b xmlns='urn:example'/>${A2}`))).toThrowError(
        err('InvalidTrustMessageError', 'TM-10'),
      )
    })
    it('TM-10: ignores whitespace around the identifier', () => {
      expect(parse(one(`\n   ${A2}\n  `)).message.keyOwners[0]?.trust).toEqual([A2])
    })
    it('TM-10: rejects the same key id twice with the same polarity', () => {
      expect(() => parse(tm(owner('a@b', `<trust>${A2}</trust><trust>${A2}</trust>`)))).toThrowError(
        err('InvalidKeyIdError', 'TM-10'),
      )
    })
    it('TM-10 / D-8: keeps a key id under both trust and distrust (the engine lets distrust win)', () => {
      expect(
        parse(tm(owner('a@b', `<trust>${A2}</trust><distrust>${A2}</distrust>`))).message.keyOwners[0],
      ).toEqual({
        jid: 'a@b',
        trust: [A2],
        distrust: [A2],
      })
    })
  })

  describe('TM-11: identifier kind of the encryption protocol', () => {
    const keyIdLength = (encryption: string) =>
      encryption === 'urn:xmpp:omemo:2' ? 32 : encryption === 'urn:xmpp:openpgp:0' ? 20 : undefined
    it('TM-11: rejects a 20-byte id for OMEMO 2 (32-byte keys)', () => {
      expect(() => parse(tm(owner('a@b', `<trust>${OX_FPR}</trust>`)), { keyIdLength })).toThrowError(
        err('InvalidKeyIdError', 'TM-11'),
      )
    })
    it('TM-11: accepts a 20-byte fingerprint for OX and a 32-byte key for OMEMO 2', () => {
      const ox = tm(
        owner('a@b', `<trust>${OX_FPR}</trust>`),
        `usage='${NS_ATM_1}' encryption='urn:xmpp:openpgp:0'`,
      )
      expect(parse(ox, { keyIdLength }).message.keyOwners[0]?.trust).toEqual([OX_FPR])
      expect(parse(VALID, { keyIdLength }).message.keyOwners[0]?.trust).toEqual([A2])
    })
    it('TM-11: without a length for the encryption, any length within the cap is accepted', () => {
      const other = tm(
        owner('a@b', `<trust>${OX_FPR}</trust>`),
        `usage='${NS_ATM_1}' encryption='urn:example:e2ee'`,
      )
      expect(parse(other, { keyIdLength }).message.encryption).toBe('urn:example:e2ee')
    })
    it('TM-11: applies to the JSON form and to serialization too', () => {
      const json = {
        usage: NS_ATM_1,
        encryption: 'urn:xmpp:omemo:2',
        keyOwners: [{ jid: 'a@b', trust: [OX_FPR] }],
      }
      expect(() => trustMessageFromJson(json, { keyIdLength })).toThrowError(
        err('InvalidKeyIdError', 'TM-11'),
      )
      expect(() => serializeTrustMessage(json as unknown as TrustMessage, { keyIdLength })).toThrowError(
        err('InvalidKeyIdError', 'TM-11'),
      )
    })
  })
})

describe('resource caps (LIMIT), checked before decoding', () => {
  it('LIMIT: more key owners than maxKeyOwners', () => {
    const xml = tm(owner('a@b', `<trust>${A2}</trust>`) + owner('c@d', `<trust>${A3}</trust>`))
    expect(() => parse(xml, { limits: { maxKeyOwners: 1 } })).toThrowError(
      expect.objectContaining({ name: 'LimitExceededError', rule: 'LIMIT', max: 1, actual: 2 }),
    )
  })
  it('LIMIT: the owner cap is checked before any JID is parsed', () => {
    const xml = tm(owner('a@b', `<trust>${A2}</trust>`) + owner('not/bare@x', `<trust>${A3}</trust>`))
    expect(() => parse(xml, { limits: { maxKeyOwners: 1 } })).toThrowError(err('LimitExceededError', 'LIMIT'))
  })
  it('LIMIT: more ids per owner than maxKeyIdsPerOwner (trust + distrust), before decoding them', () => {
    const xml = tm(owner('a@b', `<trust>${A2}</trust><distrust>bad!</distrust>`))
    expect(() => parse(xml, { limits: { maxKeyIdsPerOwner: 1 } })).toThrowError(
      expect.objectContaining({ name: 'LimitExceededError', rule: 'LIMIT', actual: 2 }),
    )
  })
  it('LIMIT: a key id longer than maxKeyIdBytes, checked on the text before decoding', () => {
    const long = btoa(String.fromCharCode(...new Uint8Array(65).fill(7)))
    expect(() => parse(tm(owner('a@b', `<trust>${long}</trust>`)))).toThrowError(
      err('LimitExceededError', 'LIMIT'),
    )
    const huge = 'A'.repeat(10_000)
    expect(() => parse(tm(owner('a@b', `<trust>${huge}</trust>`)))).toThrowError(
      expect.objectContaining({ name: 'LimitExceededError', limit: 'key id characters' }),
    )
    expect(
      parse(tm(owner('a@b', `<trust>${btoa(String.fromCharCode(...new Uint8Array(64).fill(7)))}</trust>`))),
    ).toBeTruthy()
  })
  it('LIMIT: a JID longer than maxJidLength', () => {
    expect(() => parse(VALID, { limits: { maxJidLength: 8 } })).toThrowError(
      err('LimitExceededError', 'LIMIT'),
    )
  })
  it('LIMIT: usage/encryption longer than 1024 characters', () => {
    const xml = tm(owner('a@b', `<trust>${A2}</trust>`), `usage='urn:${'x'.repeat(1100)}' encryption='e'`)
    expect(() => parse(xml)).toThrowError(err('LimitExceededError', 'LIMIT'))
  })
})

describe('TM-16: SCE content holds the trust message as a direct child', () => {
  const envelope = (content: string, ns = 'urn:xmpp:sce:1') =>
    `<envelope xmlns='${ns}'><rpad>AAAA</rpad><time stamp='2020-01-01T00:00:00Z'/>${content}</envelope>`
  it('TM-16: reads envelope → content → trust-message', () => {
    const parsed = parse(envelope(`<content>${VALID}</content>`))
    expect(parsed.message.keyOwners[0]?.trust).toEqual([A2])
  })
  it('TM-16: findTrustMessage accepts the SCE <content/> element itself', () => {
    const content = parseXml(`<content xmlns='urn:xmpp:sce:1'>${VALID}</content>`)
    expect(findTrustMessage(content).namespace).toBe(NS_TM_1)
  })
  it('TM-16: rejects SCE content with no or two trust messages', () => {
    expect(() => parse(envelope(`<content><body xmlns='jabber:client'>hi</body></content>`))).toThrowError(
      err('InvalidTrustMessageError', 'TM-16'),
    )
    expect(() => parse(envelope(`<content>${VALID}${VALID}</content>`))).toThrowError(
      err('InvalidTrustMessageError', 'TM-16'),
    )
  })
  it('TM-16: rejects a trust message nested below the content', () => {
    expect(() => parse(envelope(`<content><x xmlns='urn:example'>${VALID}</x></content>`))).toThrowError(
      err('InvalidTrustMessageError', 'TM-16'),
    )
  })
  it('TM-16: rejects an envelope with no or two content elements', () => {
    expect(() => parse(envelope(''))).toThrowError(err('InvalidTrustMessageError', 'TM-16'))
    expect(() => parse(envelope(`<content>${VALID}</content><content>${VALID}</content>`))).toThrowError(
      err('InvalidTrustMessageError', 'TM-16'),
    )
  })
  it('TM-16: legacy SCE urn:xmpp:sce:0 (<payload/>) only with legacy: true', () => {
    const xml = envelope(`<payload>${VALID}</payload>`, 'urn:xmpp:sce:0')
    expect(() => parse(xml)).toThrowError(err('InvalidTrustMessageError', 'TM-16'))
    expect(parse(xml, { legacy: true }).namespace).toBe(NS_TM_1)
  })
  it('TM-1: readTrustMessage refuses an unrelated root element', () => {
    expect(() => parse(`<presence xmlns='jabber:client'/>`)).toThrowError(
      err('InvalidTrustMessageError', 'TM-1'),
    )
  })
})

describe('D-1: any order in, trust then distrust out', () => {
  const interleaved = tm(
    owner('bob@example.com', `<distrust>${BD1}</distrust><trust>${B1}</trust><distrust>${BD2}</distrust>`),
  )
  it('D-1: parses interleaved <trust/> and <distrust/>, keeping each list in document order', () => {
    expect(parse(interleaved).message.keyOwners[0]).toEqual({
      jid: 'bob@example.com',
      trust: [B1],
      distrust: [BD1, BD2],
    })
  })
  it('D-1: serializes all <trust/> of an owner before its <distrust/>', () => {
    const out = serializeTrustMessage(parse(interleaved).message)
    expect(
      out
        .getChild('key-owner')
        ?.getChildElements()
        .map((c) => c.name),
    ).toEqual(['trust', 'distrust', 'distrust'])
    expect(out.toString()).toBe(
      `<trust-message xmlns="${NS_TM_1}" usage="${NS_ATM_1}" encryption="urn:xmpp:omemo:2"><key-owner jid="bob@example.com"><trust>${B1}</trust><distrust>${BD1}</distrust><distrust>${BD2}</distrust></key-owner></trust-message>`,
    )
  })
  it('TM-4: serialization always emits urn:xmpp:tm:1, also for a message read from a legacy draft', () => {
    const legacy = parse(tm(owner('a@b', `<trust>${A2_HEX}</trust>`), ATTRS, 'urn:xmpp:trust-messages:0'), {
      legacy: true,
    })
    const out = serializeTrustMessage(legacy.message)
    expect(out.attrs.xmlns).toBe(NS_TM_1)
    expect(out.getChild('key-owner')?.getChildText('trust')).toBe(A2)
  })
})

describe('serializer validates its input (never emits an invalid trust message)', () => {
  const base = { usage: NS_ATM_1, encryption: 'urn:xmpp:omemo:2' }
  const cases: [string, unknown, string, string][] = [
    [
      'TM-5: no usage',
      { encryption: 'e', keyOwners: [{ jid: 'a@b', trust: [A2], distrust: [] }] },
      'InvalidTrustMessageError',
      'TM-5',
    ],
    ['TM-7: no owners', { ...base, keyOwners: [] }, 'InvalidTrustMessageError', 'TM-7'],
    [
      'TM-8: full JID',
      { ...base, keyOwners: [{ jid: 'a@b/c', trust: [A2], distrust: [] }] },
      'InvalidJidError',
      'TM-8',
    ],
    [
      'TM-9: empty owner',
      { ...base, keyOwners: [{ jid: 'a@b', trust: [], distrust: [] }] },
      'InvalidTrustMessageError',
      'TM-9',
    ],
    [
      'TM-10: bad id',
      { ...base, keyOwners: [{ jid: 'a@b', trust: ['nope!'], distrust: [] }] },
      'InvalidKeyIdError',
      'TM-10',
    ],
  ]
  for (const [name, model, errName, rule] of cases)
    it(`${name} is refused by serializeTrustMessage`, () => {
      expect(() => serializeTrustMessage(model as TrustMessage)).toThrowError(err(errName, rule))
    })
  it('TM-8: validateTrustMessage returns the JIDs normalised', () => {
    const m = validateTrustMessage({
      ...base,
      keyOwners: [{ jid: 'A@B', trust: [A2], distrust: [] }],
    } as unknown as TrustMessage)
    expect(m.keyOwners[0]?.jid).toBe('a@b')
  })
})

describe('TM-12, TM-13, D-7: the outer stanza of every encrypted message', () => {
  const encrypted = () => new Element('encrypted', { xmlns: 'urn:xmpp:omemo:2' })
  it('TM-12: type chat', () => {
    const m = encryptedMessageStanza({
      to: 'bob@example.com',
      encrypted: encrypted(),
      encryptionNamespace: 'urn:xmpp:omemo:2',
    })
    expect(m.attrs.type).toBe('chat')
    expect(m.attrs.to).toBe('bob@example.com')
  })
  it('TM-13: a <store xmlns="urn:xmpp:hints"/> hint', () => {
    const m = encryptedMessageStanza({
      to: 'bob@example.com',
      encrypted: encrypted(),
      encryptionNamespace: 'urn:xmpp:omemo:2',
    })
    expect(m.getChild('store', 'urn:xmpp:hints')).toBeDefined()
  })
  it('D-7: the XEP-0380 marker, the encrypted element, optional id and fallback body', () => {
    const m = encryptedMessageStanza({
      to: 'Bob@Example.com/Phone',
      id: 'm1',
      encrypted: encrypted(),
      encryptionNamespace: 'urn:xmpp:omemo:2',
      encryptionName: 'OMEMO',
      fallbackBody: 'This message is encrypted.',
    })
    expect(m.toString()).toBe(
      `<message to="bob@example.com/Phone" type="chat" id="m1"><encrypted xmlns="urn:xmpp:omemo:2"/><encryption xmlns="urn:xmpp:eme:0" namespace="urn:xmpp:omemo:2" name="OMEMO"/><store xmlns="urn:xmpp:hints"/><body>This message is encrypted.</body></message>`,
    )
    const bare = encryptedMessageStanza({
      to: 'bob@example.com',
      encrypted: encrypted(),
      encryptionNamespace: 'urn:xmpp:omemo:2',
    })
    expect(bare.getChild('body')).toBeUndefined()
    expect(bare.attrs.id).toBeUndefined()
    expect(bare.getChild('encryption', 'urn:xmpp:eme:0')?.attrs.name).toBeUndefined()
  })
  it('D-7: a trust message and a chat get the same outer shape', () => {
    const shape = (el: Element) => [
      el.name,
      Object.keys(el.attrs).sort(),
      el.getChildElements().map((c) => `${c.name}|${c.getNS()}`),
    ]
    const a = encryptedMessageStanza({
      to: 'alice@example.org',
      encrypted: encrypted(),
      encryptionNamespace: 'urn:xmpp:omemo:2',
    })
    const b = encryptedMessageStanza({
      to: 'bob@example.com',
      encrypted: encrypted(),
      encryptionNamespace: 'urn:xmpp:omemo:2',
    })
    expect(shape(a)).toEqual(shape(b))
  })
  it('D-7: rejects an encrypted element of another namespace, and a bad recipient', () => {
    expect(() =>
      encryptedMessageStanza({
        to: 'bob@example.com',
        encrypted: encrypted(),
        encryptionNamespace: 'urn:xmpp:openpgp:0',
      }),
    ).toThrowError(err('InvalidTrustMessageError', 'D-7'))
    expect(() =>
      encryptedMessageStanza({ to: 'bob@', encrypted: encrypted(), encryptionNamespace: 'urn:xmpp:omemo:2' }),
    ).toThrowError(expect.objectContaining({ name: 'InvalidJidError' }))
  })
})

describe('readTrustMessage on the whole stanza (CLI input)', () => {
  it('TM-1: reads a <message/> holding a trust message', () => {
    const root = parseXml(`<message to='bob@example.com' type='chat'>${VALID}</message>`)
    expect(readTrustMessage(root).message.keyOwners).toHaveLength(1)
  })
})
