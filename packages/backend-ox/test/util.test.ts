/** The hot-path helpers keep their exact semantics (Base64 strictness, XEP-0082 dates). */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBase64, parseDateTime } from '../src/util.ts'

// the previous definition, as the reference
const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const reference = (text: string): boolean => STRICT.test(text.replace(/[\s]+/g, ''))

describe('decodeBase64', () => {
  it('accepts exactly what the strict RFC 4648 pattern accepts', () => {
    for (const s of [
      '',
      'QQ==',
      'QUI=',
      'QUJD',
      'QQ',
      'Q===',
      '====',
      'QQ=A',
      'QU-_',
      'QU!D',
      ' QU\nJD ',
      '=QUJ',
    ])
      expect(decodeBase64(s) !== undefined, s).toBe(reference(s))
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9+/= \n-]{0,12}$/), (s) => {
        expect(decodeBase64(s) !== undefined).toBe(reference(s))
      }),
      { numRuns: 2000 },
    )
  })

  it('decodes', () => {
    expect(decodeBase64('aGk=\n')).toEqual(new Uint8Array([104, 105]))
  })
})

describe('parseDateTime', () => {
  it('reads years from 1 on, offsets and fractions', () => {
    expect(parseDateTime('2024-02-29T23:59:59.1234+01:30')?.toISOString()).toBe('2024-02-29T22:29:59.123Z')
    expect(parseDateTime('0050-01-01T00:00:00Z')?.getUTCFullYear()).toBe(50)
    expect(parseDateTime('0099-12-31T23:00:00-02:00')?.toISOString()).toBe('0100-01-01T01:00:00.000Z')
    expect(parseDateTime('2023-02-29T00:00:00Z')).toBeUndefined()
  })
})
