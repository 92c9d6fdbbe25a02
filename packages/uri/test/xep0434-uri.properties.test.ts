import { keyIdFromBytes, keyIdToHex, NS_OMEMO_2, NS_OMEMO_LEGACY, NS_OX, parseBareJid } from '@vouch/tm-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatTrustMessageUri,
  parseTrustMessageUri,
  type TrustMessageUri,
  uriFromJson,
  uriToJson,
} from '../src/index.ts'

const RUNS = 1000

/**
 * Localpart characters: RFC 7622 §3.3 (PRECIS IdentifierClass) allows printable ASCII but
 * `"&'/:<>@` and letters and digits of any script, so URI-reserved characters (`?;#%=+` …) and
 * non-ASCII ones are fair game and must be encoded. (Symbols such as emoji are not allowed.)
 */
const LOCAL_CHARS = [...'abcXYZ019-._~', ...'?;#%=+!$()*,[]{}|\\^`', ...'éüßøñжЖ中日한π']
const DOMAIN_CHARS = [...'abcdefxyz0129-', 'ü', 'é', '例']

const arbLocal = fc.string({ unit: fc.constantFrom(...LOCAL_CHARS), minLength: 1, maxLength: 16 })
const arbLabel = fc
  .string({ unit: fc.constantFrom(...DOMAIN_CHARS), minLength: 1, maxLength: 10 })
  // IDNA2008 (UTS #46 CheckHyphens): no hyphen first or last, none in positions 3 and 4
  .filter((l) => !l.startsWith('-') && !l.endsWith('-') && l.slice(2, 4) !== '--')
const arbDomain = fc.array(arbLabel, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'))
const arbJid = fc
  .tuple(fc.option(arbLocal, { nil: undefined }), arbDomain)
  .map(([local, domain]) => parseBareJid(local === undefined ? domain : `${local}@${domain}`))

/** Any namespace without whitespace or controls, or one of the known ones (with their id length). */
const arbEncryption = fc.oneof(
  fc.constantFrom(NS_OMEMO_2, NS_OX, NS_OMEMO_LEGACY),
  fc.string({ unit: fc.constantFrom(...'urn:xmp.0-9;=?#%/&+é'), minLength: 1, maxLength: 24 }),
)
const LENGTHS: Readonly<Record<string, number>> = { [NS_OMEMO_2]: 32, [NS_OX]: 20, [NS_OMEMO_LEGACY]: 32 }

const arbUri: fc.Arbitrary<TrustMessageUri> = fc
  .tuple(arbJid, arbEncryption, fc.integer({ min: 1, max: 64 }))
  .chain(([jid, encryption, freeLength]) => {
    const length = LENGTHS[encryption] ?? freeLength
    return fc
      .tuple(
        fc.uniqueArray(fc.uint8Array({ minLength: length, maxLength: length }), {
          minLength: 1,
          maxLength: 12,
          selector: (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''),
        }),
        fc.nat(),
      )
      .map(([keys, split]): TrustMessageUri => {
        const ids = keys.map(keyIdFromBytes)
        const at = split % (ids.length + 1)
        return { jid, encryption, trust: ids.slice(0, at), distrust: ids.slice(at) }
      })
  })

describe('X14 round trips (fast-check)', () => {
  it('X14: parse(format(x)) equals x for random bare JIDs, namespaces and key sets', () => {
    fc.assert(
      fc.property(arbUri, (x) => {
        expect(parseTrustMessageUri(formatTrustMessageUri(x))).toEqual(x)
      }),
      { numRuns: RUNS },
    )
  })

  it('URI-5: the formatted path is pure ASCII with one unencoded "@" at most', () => {
    fc.assert(
      fc.property(arbUri, (x) => {
        const path = formatTrustMessageUri(x).slice('xmpp:'.length).split('?')[0] ?? ''
        expect(path).toMatch(/^[A-Za-z0-9\-._~%@]+$/)
        expect(path.split('@').length).toBeLessThanOrEqual(2)
      }),
      { numRuns: RUNS },
    )
  })

  it('URI-8: upper-casing every key id gives the same value (lenient and strict agree)', () => {
    fc.assert(
      fc.property(arbUri, (x) => {
        let text = formatTrustMessageUri(x)
        for (const id of [...x.trust, ...x.distrust])
          text = text.replace(`=${keyIdToHex(id)}`, `=${keyIdToHex(id).toUpperCase()}`)
        expect(parseTrustMessageUri(text)).toEqual(x)
        expect(parseTrustMessageUri(text, { strict: false })).toEqual(x)
      }),
      { numRuns: RUNS },
    )
  })

  it('X14: uriFromJson(JSON round trip of uriToJson(x)) equals x', () => {
    fc.assert(
      fc.property(arbUri, (x) => {
        expect(uriFromJson(JSON.parse(JSON.stringify(uriToJson(x))))).toEqual(x)
      }),
      { numRuns: RUNS },
    )
  })
})
