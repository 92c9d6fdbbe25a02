/**
 * RFC 7622 (XMPP Address Format) vectors, run through parseJid: the §3.5 examples and one or
 * more vectors per rule of the profiles RFC 7622 uses (PRECIS IdentifierClass/FreeformClass,
 * UsernameCaseMapped, OpaqueString, the CONTEXTO rules, the Bidi Rule, UTS #46 for domains).
 * Invalid vectors must fail with InvalidJidError under the rule given by the caller.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseBareJid, parseJid, sameBareJid } from '../src/index.ts'

interface Vector {
  readonly result: 'valid' | 'invalid'
  readonly input: string
  readonly expected?: { local: string | null; domain: string; resource: string | null }
  readonly comment: string
}
const { vectors } = JSON.parse(
  readFileSync(new URL('./vectors/rfc7622-jid.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] }

const orNull = (s: string | undefined) => s ?? null

describe('RFC 7622 JID vectors (vectors/rfc7622-jid.json)', () => {
  for (const [i, v] of vectors.entries())
    it(`${v.result} #${i}: ${v.comment}`, () => {
      if (v.result === 'invalid') {
        expect(() => parseJid(v.input, 'TM-8'), v.input).toThrowError(
          expect.objectContaining({ name: 'InvalidJidError', rule: 'TM-8' }),
        )
        return
      }
      const p = parseJid(v.input, 'TM-8')
      expect({ local: orNull(p.local), domain: p.domain, resource: orNull(p.resource) }).toEqual(v.expected)
      // enforcement is idempotent: the canonical form parses to itself
      const bare = p.local === undefined ? p.domain : `${p.local}@${p.domain}`
      expect(parseBareJid(bare)).toBe(bare)
      expect(sameBareJid(v.input, bare)).toBe(true)
    })
})

describe('RFC 7622 §3.2–3.4: each part is at most 1023 bytes of UTF-8', () => {
  const cases: [string, string, string][] = [
    ['localpart', `${'ü'.repeat(511)}@example.org`, `${'ü'.repeat(512)}@example.org`],
    // 16 labels of 63 bytes (the first one with 31 × ü): 1023 bytes; then one more byte
    [
      'domainpart',
      `a@${'ü'.repeat(31)}b.${`${'b'.repeat(63)}.`.repeat(14)}${'b'.repeat(63)}`,
      `a@${'ü'.repeat(31)}b.${`${'b'.repeat(63)}.`.repeat(14)}${'b'.repeat(30)}.${'b'.repeat(33)}`,
    ],
    ['resourcepart', `a@b/${'é'.repeat(511)}`, `a@b/${'é'.repeat(512)}`],
  ]
  for (const [part, fits, over] of cases)
    it(`${part}: 1022 or 1023 bytes pass, 1024 bytes fail`, () => {
      expect(() => parseJid(fits, 'TM-8')).not.toThrow()
      expect(() => parseJid(over, 'TM-8')).toThrowError(
        expect.objectContaining({ name: 'InvalidJidError', rule: 'TM-8' }),
      )
    })
})
