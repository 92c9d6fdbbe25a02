/**
 * XEP-0384 v0.3 wire text: Base64 is read strictly (OMEMO03-XML) — the standard alphabet, padded,
 * canonical (RFC 4648 §3.5: unused bits zero) — and decodes as @scure/base does.
 */
import { base64 } from '@scure/base'
import { describe, expect, it } from 'vitest'
import { decodeBase64 } from '../src/wire.ts'

describe('OMEMO03-XML: Base64 of keys, IVs and payloads', () => {
  it('decodes every length as @scure/base does, whitespace allowed', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n))
      const text = base64.encode(bytes)
      expect(decodeBase64(text, 'x', 100)).toEqual(bytes)
      expect(decodeBase64(` ${text.slice(0, 3)}\n ${text.slice(3)}\t`, 'x', 100)).toEqual(bytes)
    }
  })

  it('rejects non-canonical padding bits, a wrong alphabet, missing padding and oversized text', () => {
    expect(decodeBase64('AA==', 'x', 10)).toEqual(new Uint8Array([0]))
    for (const bad of ['AB==', 'AAB=', 'A-8=', 'AA_=', 'AA', 'AAA', 'A===', '====', 'AA=A'])
      expect(() => decodeBase64(bad, 'x', 10), bad).toThrow(
        expect.objectContaining({ name: 'DecryptionError', rule: 'OMEMO03-XML' }),
      )
    expect(() => decodeBase64('AAAAAAAA', 'x', 3)).toThrow(
      expect.objectContaining({ name: 'LimitExceededError' }),
    )
  })
})
