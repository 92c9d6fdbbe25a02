import type { KeyId } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  formatTrustMessageUri,
  parseTrustMessageUri,
  type TrustMessageUri,
  uriFromJson,
  uriToJson,
} from '../src/index.ts'
import { B1, BD1, BD2, BOB_URI } from './spec-vectors.ts'

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected the call to throw')
}

function expectRejected(fn: () => unknown, name: string, rule: string): void {
  const e = thrown(fn) as { name?: unknown; rule?: unknown; message?: unknown }
  expect({ name: e.name, rule: e.rule }, String(e.message)).toEqual({ name, rule })
  expect(String(e.message).startsWith(`${rule}: `)).toBe(true)
}

const Q = 'trust-message;encryption=urn:xmpp:omemo:2'
const T = `trust=${B1.hex}`
const D = `distrust=${BD1.hex}`
const uri = (path: string, query = `${Q};${T}`): string => `xmpp:${path}?${query}`
const lenient = { strict: false } as const

describe('XEP-0434 §9.1.1 Trust Message URI: parse', () => {
  describe('X14 spec golden example (Listing 3, TM-ATM §2.6)', () => {
    it("X14: parses Bob's URI to the §2.6 bytes", () => {
      expect(parseTrustMessageUri(BOB_URI)).toEqual({
        jid: 'bob@example.com',
        encryption: 'urn:xmpp:omemo:2',
        trust: [B1.base64],
        distrust: [BD1.base64, BD2.base64],
      })
    })
    it('X14: serialise → parse gives the same value, and the same text', () => {
      const parsed = parseTrustMessageUri(BOB_URI)
      expect(formatTrustMessageUri(parsed)).toBe(BOB_URI)
      expect(parseTrustMessageUri(formatTrustMessageUri(parsed))).toEqual(parsed)
    })
    it('X14: rejects a URI with zero trust and distrust ids (TM-9), in both modes', () => {
      expectRejected(() => parseTrustMessageUri(uri('bob@example.com', Q)), 'InvalidUriError', 'TM-9')
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `${Q};foo=bar`), lenient),
        'InvalidUriError',
        'TM-9',
      )
    })
  })

  describe('URI-1 one key owner, xmpp: scheme, query type trust-message', () => {
    it('URI-1: yields exactly one owner and nothing else', () => {
      const parsed = parseTrustMessageUri(BOB_URI)
      expect(Object.keys(parsed).sort()).toEqual(['distrust', 'encryption', 'jid', 'trust'])
      expect(typeof parsed.jid).toBe('string')
      expect(Object.isFrozen(parsed) && Object.isFrozen(parsed.trust)).toBe(true)
    })
    it('URI-1: accepts the scheme in any case (RFC 3986 §3.1)', () => {
      expect(parseTrustMessageUri(BOB_URI.replace('xmpp:', 'XMPP:'))).toEqual(parseTrustMessageUri(BOB_URI))
    })
    it('URI-1: rejects another scheme', () => {
      expectRejected(
        () => parseTrustMessageUri(BOB_URI.replace('xmpp:', 'https:')),
        'InvalidUriError',
        'URI-1',
      )
      expectRejected(() => parseTrustMessageUri('bob@example.com?trust-message'), 'InvalidUriError', 'URI-1')
    })
    it('URI-1: rejects a URI without a query or with another query type', () => {
      expectRejected(() => parseTrustMessageUri('xmpp:bob@example.com'), 'InvalidUriError', 'URI-1')
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `message;body=hi`)),
        'InvalidUriError',
        'URI-1',
      )
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `Trust-Message;${T}`)),
        'InvalidUriError',
        'URI-1',
      )
    })
    it('URI-1: rejects a fragment in strict mode and drops it in lenient mode', () => {
      expectRejected(() => parseTrustMessageUri(`${BOB_URI}#x`), 'InvalidUriError', 'URI-1')
      expect(parseTrustMessageUri(`${BOB_URI}#x`, lenient)).toEqual(parseTrustMessageUri(BOB_URI))
    })
    it('URI-1: trims surrounding whitespace, rejects inner whitespace in strict mode', () => {
      expect(parseTrustMessageUri(` \n${BOB_URI}\r\n`)).toEqual(parseTrustMessageUri(BOB_URI))
      const wrapped = BOB_URI.replace(';distrust', ';\ndistrust')
      expectRejected(() => parseTrustMessageUri(wrapped), 'InvalidUriError', 'URI-1')
      expect(parseTrustMessageUri(wrapped, lenient)).toEqual(parseTrustMessageUri(BOB_URI))
    })
  })

  describe("URI-5 path = the key owner's bare JID", () => {
    it('URI-5: rejects a full JID', () => {
      expectRejected(() => parseTrustMessageUri(uri('bob@example.com/phone')), 'InvalidJidError', 'URI-5')
      expectRejected(() => parseTrustMessageUri(uri('bob@example.com%2Fphone')), 'InvalidJidError', 'URI-5')
    })
    it('URI-5: rejects a malformed JID', () => {
      for (const path of ['', '@example.com', 'bob@', 'a@b@example.com', 'bob@exa..mple.com'])
        expectRejected(() => parseTrustMessageUri(uri(path)), 'InvalidJidError', 'URI-5')
    })
    it('URI-5: rejects an authority component (xmpp://), in both modes', () => {
      expectRejected(() => parseTrustMessageUri(uri('//bob@example.com')), 'InvalidUriError', 'URI-5')
      expectRejected(
        () => parseTrustMessageUri(uri('//mallory@evil.example/bob@example.com'), lenient),
        'InvalidUriError',
        'URI-5',
      )
    })
    it('URI-5: percent-decodes the JID as UTF-8 (RFC 5122 §2.7.2)', () => {
      expect(parseTrustMessageUri(uri('%C3%A9lo%C3%AFse@example.com')).jid).toBe('éloïse@example.com')
      expect(parseTrustMessageUri(uri('a%3Bb%3Fc%23d%25e%3Df@example.com')).jid).toBe(
        'a;b?c#d%e=f@example.com',
      )
      expect(parseTrustMessageUri(uri('bob@%E4%BE%8B%E3%81%88.example')).jid).toBe('bob@例え.example')
    })
    it('URI-5: accepts unencoded non-ASCII characters (IRI form, RFC 3987)', () => {
      expect(parseTrustMessageUri(uri('éloïse@example.com')).jid).toBe('éloïse@example.com')
    })
    it('URI-5: normalises the JID (lower-case localpart and domainpart)', () => {
      expect(parseTrustMessageUri(uri('Bob@Example.COM')).jid).toBe('bob@example.com')
    })
    it('URI-5: rejects bad percent-encoding and non-UTF-8 escapes', () => {
      for (const path of [
        'bob%@example.com',
        'bob%4@example.com',
        'b%C3@example.com',
        'b%FF@example.com',
        'b%C0%AF@example.com',
      ])
        expectRejected(() => parseTrustMessageUri(uri(path)), 'InvalidUriError', 'URI-5')
    })
    it('URI-5: rejects characters a URI path cannot hold unencoded in strict mode', () => {
      expectRejected(() => parseTrustMessageUri(uri('a"b@example.com')), 'InvalidUriError', 'URI-5')
      expectRejected(() => parseTrustMessageUri(uri('a"b@example.com'), lenient), 'InvalidJidError', 'URI-5')
    })
    it('URI-5: expectedJid (TM-ATM §9.2 item 6) accepts the same bare JID, rejects another', () => {
      expect(parseTrustMessageUri(BOB_URI, { expectedJid: 'Bob@EXAMPLE.com' }).jid).toBe('bob@example.com')
      expectRejected(
        () => parseTrustMessageUri(BOB_URI, { expectedJid: 'alice@example.com' }),
        'InvalidUriError',
        'URI-5',
      )
    })
  })

  describe('URI-6 first key-value pair = encryption', () => {
    const trustFirst = `trust-message;${T};encryption=urn:xmpp:omemo:2`
    it('URI-6: rejects a URI whose first pair is not encryption', () => {
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', trustFirst)),
        'InvalidUriError',
        'URI-6',
      )
    })
    it('URI-6: lenient mode accepts encryption anywhere', () => {
      expect(parseTrustMessageUri(uri('bob@example.com', trustFirst), lenient)).toEqual({
        jid: 'bob@example.com',
        encryption: 'urn:xmpp:omemo:2',
        trust: [B1.base64],
        distrust: [],
      })
    })
    it('URI-6: rejects a URI without encryption, in both modes', () => {
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `trust-message;${T}`)),
        'InvalidUriError',
        'URI-6',
      )
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `trust-message;${T}`), lenient),
        'InvalidUriError',
        'URI-6',
      )
    })
    it('URI-6: rejects a second encryption pair, in both modes', () => {
      const twice = `${Q};${T};encryption=urn:xmpp:openpgp:0`
      expectRejected(() => parseTrustMessageUri(uri('bob@example.com', twice)), 'InvalidUriError', 'URI-6')
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', twice), lenient),
        'InvalidUriError',
        'URI-6',
      )
    })
    it('URI-6: rejects an empty encryption value', () => {
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `trust-message;encryption=;${T}`)),
        'InvalidUriError',
        'URI-6',
      )
    })
    it('URI-6: percent-decodes the namespace', () => {
      const encoded = `trust-message;encryption=urn%3Axmpp%3Aomemo%3A2;${T}`
      expect(parseTrustMessageUri(uri('bob@example.com', encoded)).encryption).toBe('urn:xmpp:omemo:2')
    })
  })

  describe('URI-7 remaining pairs are trust / distrust', () => {
    it('URI-7: rejects an unknown pair in strict mode, ignores it in lenient mode', () => {
      const q = `${Q};${T};omemo-sid-1=abc`
      expectRejected(() => parseTrustMessageUri(uri('bob@example.com', q)), 'InvalidUriError', 'URI-7')
      expect(parseTrustMessageUri(uri('bob@example.com', q), lenient).trust).toEqual([B1.base64])
    })
    it('URI-7: key names are case-sensitive', () => {
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `${Q};TRUST=${B1.hex}`)),
        'InvalidUriError',
        'URI-7',
      )
    })
    it('URI-7: rejects an id listed twice in strict mode; lenient dedupes and lets distrust win (D-8)', () => {
      const q = `${Q};${T};${T};distrust=${B1.hex};${D}`
      expectRejected(() => parseTrustMessageUri(uri('bob@example.com', q)), 'InvalidUriError', 'URI-7')
      expect(parseTrustMessageUri(uri('bob@example.com', q), lenient)).toMatchObject({
        trust: [],
        distrust: [B1.base64, BD1.base64],
      })
    })
    it('URI-7: keeps trust and distrust in URI order, interleaved or not', () => {
      const q = `${Q};distrust=${BD2.hex};${T};${D}`
      expect(parseTrustMessageUri(uri('bob@example.com', q))).toMatchObject({
        trust: [B1.base64],
        distrust: [BD2.base64, BD1.base64],
      })
    })
  })

  describe('URI-8 key ids are Base16', () => {
    it('URI-8: accepts upper-case hex as the same bytes', () => {
      const upper = uri(
        'bob@example.com',
        `${Q};trust=${B1.hex.toUpperCase()};distrust=${BD1.hex.toUpperCase()};distrust=${BD2.hex.toUpperCase()}`,
      )
      expect(parseTrustMessageUri(upper)).toEqual(parseTrustMessageUri(BOB_URI))
    })
    it('URI-8: rejects odd-length hex', () => {
      expectRejected(
        () =>
          parseTrustMessageUri(uri('bob@example.com', `${Q};trust=${B1.hex}0`), {
            keyIdLength: () => undefined,
          }),
        'InvalidKeyIdError',
        'URI-8',
      )
    })
    it('URI-8: rejects non-hex characters', () => {
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `${Q};trust=${B1.hex.slice(0, -2)}zz`)),
        'InvalidKeyIdError',
        'URI-8',
      )
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `${Q};trust=${B1.base64.replace('=', '%3D')}`)),
        'InvalidKeyIdError',
        'URI-8',
      )
    })
    it('URI-8: rejects an empty id', () => {
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `${Q};trust=`)),
        'InvalidKeyIdError',
        'URI-8',
      )
    })
    it('URI-8: emits lower-case hex', () => {
      const upper = uri('bob@example.com', `${Q};trust=${B1.hex.toUpperCase()}`)
      expect(formatTrustMessageUri(parseTrustMessageUri(upper))).toBe(uri('bob@example.com', `${Q};${T}`))
    })
  })

  describe('TM-11 key-id length per encryption protocol', () => {
    const short = `trust=${B1.hex.slice(0, 62)}`
    it('TM-11: by default an OMEMO 2 id must be 32 bytes', () => {
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `${Q};${short}`)),
        'InvalidKeyIdError',
        'TM-11',
      )
    })
    it('TM-11: by default an OX id must be 20 bytes, an unknown namespace is not checked', () => {
      const ox = 'trust-message;encryption=urn:xmpp:openpgp:0'
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `${ox};${T}`)),
        'InvalidKeyIdError',
        'TM-11',
      )
      expect(
        parseTrustMessageUri(uri('bob@example.com', `${ox};trust=${B1.hex.slice(0, 40)}`)).trust,
      ).toHaveLength(1)
      expect(
        parseTrustMessageUri(uri('bob@example.com', `trust-message;encryption=urn:example:x;${short}`)).trust,
      ).toHaveLength(1)
    })
    it('TM-11: keyIdLength as a number or a function overrides the default', () => {
      expectRejected(() => parseTrustMessageUri(BOB_URI, { keyIdLength: 33 }), 'InvalidKeyIdError', 'TM-11')
      const seen: string[] = []
      const parsed = parseTrustMessageUri(uri('bob@example.com', `${Q};${short}`), {
        keyIdLength: (ns) => {
          seen.push(ns)
          return 31
        },
      })
      expect(parsed.trust).toHaveLength(1)
      expect(seen).toEqual(['urn:xmpp:omemo:2'])
    })
    it('TM-11: rejects a keyIdLength that is not a positive integer (programming error)', () => {
      expect(() => parseTrustMessageUri(BOB_URI, { keyIdLength: 0 })).toThrow(RangeError)
      expect(() => parseTrustMessageUri(BOB_URI, { maxKeys: 1.5 })).toThrow(RangeError)
    })
  })

  describe('URI-9 key = element or attribute name, value = content', () => {
    it('URI-9: maps encryption to the attribute and trust / distrust to the elements', () => {
      const parsed = parseTrustMessageUri(BOB_URI)
      expect([parsed.encryption, parsed.trust.length, parsed.distrust.length]).toEqual([
        'urn:xmpp:omemo:2',
        1,
        2,
      ])
    })
    it('URI-9: rejects a pair without "=", in both modes', () => {
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `${Q};${T};trust`)),
        'InvalidUriError',
        'URI-9',
      )
      expectRejected(
        () => parseTrustMessageUri(uri('bob@example.com', `${Q};${T};trust`), lenient),
        'InvalidUriError',
        'URI-9',
      )
    })
    it('URI-9: rejects empty pairs in strict mode and skips them in lenient mode', () => {
      for (const q of [`${Q};;${T}`, `${Q};${T};`]) {
        expectRejected(() => parseTrustMessageUri(uri('bob@example.com', q)), 'InvalidUriError', 'URI-9')
        expect(parseTrustMessageUri(uri('bob@example.com', q), lenient).trust).toEqual([B1.base64])
      }
    })
    it('URI-9: rejects characters XEP-0147 does not allow unencoded in a value (strict)', () => {
      const q = `trust-message;encryption=urn:xmpp:omemo:2!;${T}`
      expectRejected(() => parseTrustMessageUri(uri('bob@example.com', q)), 'InvalidUriError', 'URI-9')
      expect(parseTrustMessageUri(uri('bob@example.com', q), lenient).encryption).toBe('urn:xmpp:omemo:2!')
    })
  })

  describe('LIMIT resource caps', () => {
    it('LIMIT: rejects a URI longer than maxLength', () => {
      expectRejected(() => parseTrustMessageUri(BOB_URI, { maxLength: 100 }), 'LimitExceededError', 'LIMIT')
      expectRejected(() => parseTrustMessageUri(`xmpp:${'a'.repeat(5000)}`), 'LimitExceededError', 'LIMIT')
    })
    it('LIMIT: rejects more ids than maxKeys', () => {
      expectRejected(() => parseTrustMessageUri(BOB_URI, { maxKeys: 2 }), 'LimitExceededError', 'LIMIT')
      expect(parseTrustMessageUri(BOB_URI, { maxKeys: 3 }).distrust).toHaveLength(2)
    })
    it('LIMIT: rejects an id over maxKeyIdBytes', () => {
      expectRejected(
        () => parseTrustMessageUri(BOB_URI, { maxKeyIdBytes: 31 }),
        'LimitExceededError',
        'LIMIT',
      )
    })
  })
})

describe('XEP-0434 §9.1.1 Trust Message URI: format', () => {
  const base: TrustMessageUri = parseTrustMessageUri(BOB_URI)
  it('URI-6/URI-7: writes encryption first, then every trust, then every distrust', () => {
    const interleaved = parseTrustMessageUri(uri('bob@example.com', `${Q};distrust=${BD2.hex};${T};${D}`))
    expect(formatTrustMessageUri(interleaved)).toBe(
      uri('bob@example.com', `${Q};${T};distrust=${BD2.hex};${D}`),
    )
  })
  it('URI-5: percent-encodes reserved and non-ASCII characters of the JID, keeps "@"', () => {
    const jid = 'é?;#%=+!x@bücher.example' as TrustMessageUri['jid']
    const text = formatTrustMessageUri({ ...base, jid })
    expect(text.startsWith('xmpp:%C3%A9%3F%3B%23%25%3D%2B%21x@b%C3%BCcher.example?trust-message;')).toBe(true)
    expect(parseTrustMessageUri(text).jid).toBe(jid)
  })
  it('URI-6: percent-encodes the namespace except ":"', () => {
    const text = formatTrustMessageUri({ ...base, encryption: 'urn:x;y=z/é%' })
    expect(text).toContain('encryption=urn:x%3By%3Dz%2F%C3%A9%25;')
    expect(parseTrustMessageUri(text).encryption).toBe('urn:x;y=z/é%')
  })
  it('X14: refuses to write what the parser would reject', () => {
    expectRejected(
      () => formatTrustMessageUri({ ...base, trust: [], distrust: [] }),
      'InvalidUriError',
      'TM-9',
    )
    expectRejected(
      () => formatTrustMessageUri({ ...base, jid: 'bob@example.com/phone' as TrustMessageUri['jid'] }),
      'InvalidJidError',
      'URI-5',
    )
    expectRejected(
      () => formatTrustMessageUri({ ...base, trust: ['not base64!' as KeyId] }),
      'InvalidKeyIdError',
      'URI-8',
    )
    expectRejected(() => formatTrustMessageUri({ ...base, trust: base.distrust }), 'InvalidUriError', 'URI-7')
    expectRejected(() => formatTrustMessageUri({ ...base, encryption: '' }), 'InvalidUriError', 'URI-6')
  })
})

describe('JSON form for the CLI', () => {
  const bob = parseTrustMessageUri(BOB_URI)
  it('URI-8: uriToJson gives hex ids in a stable key order', () => {
    expect(JSON.stringify(uriToJson(bob))).toBe(
      `{"jid":"bob@example.com","encryption":"urn:xmpp:omemo:2","trust":["${B1.hex}"],"distrust":["${BD1.hex}","${BD2.hex}"]}`,
    )
  })
  it('X14: uriFromJson(uriToJson(x)) equals x', () => {
    expect(uriFromJson(JSON.parse(JSON.stringify(uriToJson(bob))))).toEqual(bob)
  })
  it('URI-1: uriFromJson rejects a value that is not an object', () => {
    for (const v of [null, 'xmpp:bob@example.com', 42, [bob]])
      expectRejected(() => uriFromJson(v), 'InvalidUriError', 'URI-1')
  })
  it('URI-7: uriFromJson rejects unknown properties and non-array lists in strict mode', () => {
    const json = uriToJson(bob)
    expectRejected(() => uriFromJson({ ...json, usage: 'urn:xmpp:atm:1' }), 'InvalidUriError', 'URI-7')
    expectRejected(() => uriFromJson({ ...json, trust: B1.hex }), 'InvalidUriError', 'URI-7')
    expectRejected(
      () => uriFromJson({ jid: json.jid, encryption: json.encryption, trust: json.trust }),
      'InvalidUriError',
      'URI-7',
    )
    expect(
      uriFromJson({ jid: json.jid, encryption: json.encryption, trust: json.trust }, lenient).distrust,
    ).toEqual([])
  })
  it('URI-5/URI-6/URI-8/TM-9: uriFromJson applies the URI checks', () => {
    const json = uriToJson(bob)
    expectRejected(() => uriFromJson({ ...json, jid: 'bob@example.com/x' }), 'InvalidJidError', 'URI-5')
    expectRejected(() => uriFromJson({ ...json, jid: 7 }), 'InvalidUriError', 'URI-5')
    expectRejected(() => uriFromJson({ ...json, encryption: '' }), 'InvalidUriError', 'URI-6')
    expectRejected(() => uriFromJson({ ...json, trust: ['abc'] }), 'InvalidKeyIdError', 'URI-8')
    expectRejected(() => uriFromJson({ ...json, trust: [1] }), 'InvalidKeyIdError', 'URI-8')
    expectRejected(() => uriFromJson({ ...json, trust: [], distrust: [] }), 'InvalidUriError', 'TM-9')
    expectRejected(() => uriFromJson(json, { expectedJid: 'alice@example.com' }), 'InvalidUriError', 'URI-5')
    expectRejected(() => uriFromJson(json, { maxKeys: 2 }), 'LimitExceededError', 'LIMIT')
  })
})
