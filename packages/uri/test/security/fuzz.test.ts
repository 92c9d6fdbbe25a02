/**
 * Fuzzing the Trust Message URI parser: random strings and mutated valid URIs. Whatever happens,
 * the parser either returns a value that survives format → strict parse unchanged, or throws a
 * Vouch typed error (never a TypeError, RangeError, URIError or a hang).
 */
import { isVouchError } from '@vouch/tm-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatTrustMessageUri,
  type ParseTrustMessageUriOptions,
  parseFingerprintUri,
  parseScannedUri,
  parseTrustMessageUri,
  uriFromJson,
} from '../../src/index.ts'
import { B1, BD1, BD2, BOB_URI } from '../spec-vectors.ts'

const RUNS = 2000

function check(input: string, options: ParseTrustMessageUriOptions): void {
  let parsed: ReturnType<typeof parseTrustMessageUri>
  try {
    parsed = parseTrustMessageUri(input, options)
  } catch (e) {
    expect(isVouchError(e), `${String(e)} for ${JSON.stringify(input)}`).toBe(true)
    return
  }
  // what any mode accepts is canonical: formatting it gives a URI strict mode reads back unchanged
  expect(parseTrustMessageUri(formatTrustMessageUri(parsed), { ...options, strict: true })).toEqual(parsed)
}

const MODES: readonly ParseTrustMessageUriOptions[] = [
  {},
  { strict: false },
  { strict: false, keyIdLength: () => undefined },
]

/** Characters that matter to the parser, plus troublemakers (lone surrogate, RLO, NUL, NBSP). */
const SPICY = [
  ...'xmpp:?;=#%@/ \n\t.-_~abcdefABCDEF0123456789',
  '%2F',
  '%40',
  '%C3%A9',
  '%ED%A0%80',
  '%E2%80%AE',
  '%',
  '%0',
  'trust=',
  'distrust=',
  'encryption=',
  'trust-message',
  'xmpp://',
  '\u0000',
  '\u00a0',
  '\u202e',
  '\ud800',
  'é',
  '🙂',
]

const VALID = [
  BOB_URI,
  `xmpp:%C3%A9lo%C3%AFse%3Bx@b%C3%BCcher.example?trust-message;encryption=urn:xmpp:omemo:2;distrust=${BD2.hex}`,
  `xmpp:example.com?trust-message;encryption=urn%3Aexample;trust=${B1.hex};distrust=${BD1.hex}`,
]

type Mutation =
  | { readonly op: 'delete'; readonly at: number; readonly length: number }
  | { readonly op: 'insert'; readonly at: number; readonly text: string }
  | { readonly op: 'replace'; readonly at: number; readonly text: string }
  | { readonly op: 'swap'; readonly a: number; readonly b: number }
  | { readonly op: 'case'; readonly at: number; readonly length: number }

const arbSpicy = fc.string({ unit: fc.constantFrom(...SPICY), maxLength: 6 })
const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: arbSpicy }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text: arbSpicy }),
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('case' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 80 }) }),
)

function mutate(uri: string, mutations: readonly Mutation[]): string {
  let s = uri
  for (const m of mutations) {
    const n = s.length + 1
    switch (m.op) {
      case 'delete': {
        const at = m.at % n
        s = s.slice(0, at) + s.slice(at + m.length)
        break
      }
      case 'insert': {
        const at = m.at % n
        s = s.slice(0, at) + m.text + s.slice(at)
        break
      }
      case 'replace': {
        const at = m.at % n
        s = s.slice(0, at) + m.text + s.slice(at + m.text.length)
        break
      }
      case 'swap': {
        // swap two ;-separated segments: reorders pairs, moves encryption, etc.
        const parts = s.split(';')
        const a = m.a % parts.length
        const b = m.b % parts.length
        const pa = parts[a] ?? ''
        parts[a] = parts[b] ?? ''
        parts[b] = pa
        s = parts.join(';')
        break
      }
      case 'case': {
        const at = m.at % n
        s = s.slice(0, at) + s.slice(at, at + m.length).toUpperCase() + s.slice(at + m.length)
        break
      }
    }
  }
  return s
}

// 2000 runs per property take 3 – 5 s alone, far more on a loaded CI machine: not a hang
describe('security: fuzzing parseTrustMessageUri', { timeout: 60_000 }, () => {
  it('random Unicode strings only ever throw Vouch typed errors', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom(...MODES), (s, mode) => {
        check(s, mode)
        check(`xmpp:${s}`, mode)
      }),
      { numRuns: RUNS },
    )
  })

  it('random strings built from URI syntax only ever throw Vouch typed errors', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...SPICY), maxLength: 80 }),
        fc.constantFrom(...MODES),
        (s, mode) => {
          check(s, mode)
          check(`xmpp:bob@example.com?trust-message;${s}`, mode)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('mutated valid URIs parse to a canonical value or throw Vouch typed errors', () => {
    let accepted = 0
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID),
        fc.array(arbMutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...MODES),
        (uri, mutations, mode) => {
          const input = mutate(uri, mutations)
          try {
            parseTrustMessageUri(input, mode)
            accepted++
          } catch {
            // checked below
          }
          check(input, mode)
        },
      ),
      { numRuns: RUNS },
    )
    // the mutations are not all fatal: some still parse, so the success branch is exercised too
    expect(accepted).toBeGreaterThan(0)
  })

  it('uriFromJson on arbitrary values only ever throws Vouch typed errors', () => {
    fc.assert(
      fc.property(fc.anything(), fc.boolean(), (value, strict) => {
        try {
          uriFromJson(value, { strict })
        } catch (e) {
          expect(isVouchError(e), String(e)).toBe(true)
        }
      }),
      { numRuns: RUNS },
    )
  })
})

describe('security: fuzzing the Conversations fingerprint URI parser (CFP-1 … CFP-4)', {
  timeout: 60_000,
}, () => {
  const arbFingerprintish = fc
    .array(
      fc.oneof(
        arbSpicy,
        fc.constantFrom('omemo-sid-', 'omemo-sid-7=', `05${B1.hex}`, B1.hex, '2147483648', '0', 'name=x'),
      ),
      { maxLength: 12 },
    )
    .map((parts) => `xmpp:juliet@capulet.lit?${parts.join('')}`)

  it('random fingerprint-like URIs only ever throw Vouch typed errors, and what is accepted is canonical', () => {
    fc.assert(
      fc.property(arbFingerprintish, fc.boolean(), (s, strict) => {
        for (const parse of [() => parseFingerprintUri(s, { strict }), () => parseScannedUri(s)]) {
          let ok: unknown
          try {
            ok = parse()
          } catch (e) {
            expect(isVouchError(e), `${String(e)} for ${JSON.stringify(s)}`).toBe(true)
            continue
          }
          expect(ok).toBeDefined()
        }
        try {
          const f = parseFingerprintUri(s, { strict })
          // every accepted device: a 1 … 2^31-1 id and a 32-byte key id, no duplicates (CFP-2 … 4)
          const ids = f.devices.map((d) => d.deviceId)
          expect(new Set(ids).size).toBe(ids.length)
          for (const d of f.devices) expect(d.deviceId >= 1 && d.deviceId <= 2 ** 31 - 1).toBe(true)
          expect(new Set(f.devices.map((d) => d.keyId)).size).toBe(f.devices.length)
        } catch (e) {
          expect(isVouchError(e)).toBe(true)
        }
      }),
      { numRuns: RUNS },
    )
  })
})
