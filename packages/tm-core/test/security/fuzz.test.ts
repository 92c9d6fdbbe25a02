/**
 * Fuzzing (fast-check): random text, mutated valid trust messages and random JSON values go
 * through the strict XML reader and the codec. Whatever happens, anything thrown must be a Vouch
 * typed error (`isVouchError`), never a TypeError, RangeError or a stack overflow; anything
 * accepted must serialize and read back to the same model.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  isVouchError,
  parseTrustMessageXml,
  parseXml,
  readTrustMessage,
  serializeTrustMessage,
  trustMessageFromJson,
} from '../../src/index.ts'

const A2 = 'aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ='
const B1 = 'YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8='
const HEX = '6850019d7ed0feb6d3823072498ceb4f616c6025586f8f666dc6b9c81ef7e0a4'
const SEEDS = [
  `<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'><key-owner jid='alice@example.org'><trust>${A2}</trust></key-owner><key-owner jid='bob@example.com'><trust>${B1}</trust><distrust>${A2}</distrust></key-owner></trust-message>`,
  `<message xmlns='jabber:client' to='bob@example.com' type='chat'><store xmlns='urn:xmpp:hints'/><trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'><key-owner jid='bob@example.com'><distrust>${B1}</distrust></key-owner></trust-message></message>`,
  `<envelope xmlns='urn:xmpp:sce:1'><rpad>AAAA</rpad><time stamp='2020-01-01T00:00:00Z'/><content><trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'><key-owner jid='alice@example.org'><trust>${A2}</trust></key-owner></trust-message></content></envelope>`,
  `<content xmlns='urn:xmpp:sce:0'><payload><trust-message xmlns='urn:xmpp:trust-messages:0' usage='urn:xmpp:atm:0' encryption='urn:xmpp:omemo:1'><key-owner jid='bob@example.com'><trust>${HEX}</trust></key-owner></trust-message></payload></content>`,
]
const FRAGMENTS = [
  '<',
  '>',
  '/>',
  '</',
  "'",
  '"',
  '=',
  '&',
  '&amp;',
  '&#0;',
  '&#x10FFFF;',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '<?x?>',
  '<trust>',
  '</trust>',
  '<distrust>',
  '<key-owner>',
  "<key-owner jid='a@b'>",
  '</key-owner>',
  'xmlns=',
  "xmlns=''",
  "xmlns:p='urn:xmpp:tm:1'",
  'p:',
  'urn:xmpp:tm:0',
  'urn:xmpp:sce:0',
  'jid=',
  "jid='a@b/c'",
  '@',
  '/',
  '=',
  '==',
  '\u0000',
  '\uFEFF',
  '\uD800',
  'é',
  '\n',
  ' ',
  'A',
  A2,
  HEX,
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
]

/** Applies one random edit: insert a fragment, delete a slice, duplicate a slice, or swap two slices. */
const mutation = fc.tuple(
  fc.constantFrom('insert', 'delete', 'duplicate', 'replace'),
  fc.nat(),
  fc.nat({ max: 40 }),
  fc.constantFrom(...FRAGMENTS),
)
type Mutation = [string, number, number, string]
function mutate(seed: string, edits: readonly Mutation[]): string {
  let s = seed
  for (const [kind, at, len, frag] of edits) {
    const i = at % (s.length + 1)
    if (kind === 'insert') s = s.slice(0, i) + frag + s.slice(i)
    else if (kind === 'delete') s = s.slice(0, i) + s.slice(i + len)
    else if (kind === 'duplicate') s = s.slice(0, i + len) + s.slice(i, i + len) + s.slice(i + len)
    else s = s.slice(0, i) + frag + s.slice(i + frag.length)
  }
  return s
}

function check(run: () => unknown): void {
  let result: unknown
  try {
    result = run()
  } catch (e) {
    if (!isVouchError(e)) throw new Error(`not a typed error: ${String(e)}`, { cause: e })
    return
  }
  // accepted: it must also be writable and read back the same (nothing half-valid gets through)
  const parsed = result as { message: Parameters<typeof serializeTrustMessage>[0] }
  const again = readTrustMessage(parseXml(serializeTrustMessage(parsed.message).toString()))
  expect(again.message).toEqual(parsed.message)
}

describe('security: fuzzing the codec', () => {
  it('random text: only typed errors', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.boolean(), (s, legacy) => {
        check(() => parseTrustMessageXml(s, { legacy }))
      }),
      { numRuns: 3000 },
    )
  })
  it('random fragment soup: only typed errors', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }), (parts) => {
        check(() => parseTrustMessageXml(parts.join(''), { legacy: true }))
      }),
      { numRuns: 3000 },
    )
  })
  it('mutated valid trust messages: only typed errors, and whatever is accepted round-trips', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (seed, edits, legacy) => {
          check(() => parseTrustMessageXml(mutate(seed, edits as Mutation[]), { legacy }))
        },
      ),
      { numRuns: 5000 },
    )
  })
  it('random JSON values: only typed errors', () => {
    const owner = fc.record(
      {
        jid: fc.oneof(fc.string(), fc.constant('a@b'), fc.jsonValue()),
        trust: fc.oneof(fc.array(fc.oneof(fc.constant(A2), fc.string())), fc.jsonValue()),
        distrust: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    const message = fc.record(
      {
        namespace: fc.oneof(fc.constant('urn:xmpp:tm:1'), fc.constant('urn:xmpp:tm:0'), fc.jsonValue()),
        usage: fc.oneof(fc.constant('urn:xmpp:atm:1'), fc.jsonValue()),
        encryption: fc.oneof(fc.constant('urn:xmpp:omemo:2'), fc.jsonValue()),
        keyOwners: fc.oneof(fc.array(owner, { maxLength: 3 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(fc.oneof(message, fc.jsonValue()), fc.boolean(), (value, legacy) => {
        check(() => trustMessageFromJson(value, { legacy }))
      }),
      { numRuns: 3000 },
    )
  })
})
