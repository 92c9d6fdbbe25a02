/**
 * The hot-path helpers keep their exact semantics (Base64 strictness). XEP-0082 dates are
 * `@vouch/tm-core`'s, tested there (packages/tm-core/test/xep0082.test.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBase64 } from '../src/util.ts'

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

  it('decodes the same bytes as Node’s Buffer wherever it accepts (padding bits ignored alike)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9+/= \n]{0,16}$/), (s) => {
        const bytes = decodeBase64(s)
        if (bytes !== undefined) expect(bytes).toEqual(new Uint8Array(Buffer.from(s, 'base64')))
      }),
      { numRuns: 2000 },
    )
    expect(decodeBase64('QR==')).toEqual(new Uint8Array([0x41]))
  })

  it('decodes', () => {
    expect(decodeBase64('aGk=\n')).toEqual(new Uint8Array([104, 105]))
  })
})
