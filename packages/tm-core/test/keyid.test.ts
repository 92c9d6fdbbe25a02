import { describe, expect, it } from 'vitest'
import type { KeyId } from '../src/index.ts'
import {
  keyIdByteLength,
  keyIdFromBytes,
  keyIdToBytes,
  keyIdToHex,
  parseKeyIdBase64,
  parseKeyIdHex,
} from '../src/index.ts'

// TM-ATM.md §2.6: the same bytes in the hex (URI, old drafts) and Base64 (v0.6.0) examples
const VECTORS: readonly [string, string, string][] = [
  [
    'Alice A2',
    'aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ=',
    '6850019d7ed0feb6d3823072498ceb4f616c6025586f8f666dc6b9c81ef7e0a4',
  ],
  [
    'Alice A3',
    'IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA=',
    '221a4f8e228b72182b006e5ca527d3bddccf8d9e6feaf4ce96e1c451e8648020',
  ],
  [
    'Alice A1',
    '883dkfJVAmUkg74v1fqqoA+AhorA1R1+67GwijiS4z0=',
    'f3cddd91f25502652483be2fd5faaaa00f80868ac0d51d7eebb1b08a3892e33d',
  ],
  [
    'Bob B1',
    'YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8=',
    '623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f',
  ],
  [
    'Bob distrusted 1',
    'tCP1CI3pqSTVGzFYFyPYUMfMZ9Ck/msmfD0wH/VtJBM=',
    'b423f5088de9a924d51b31581723d850c7cc67d0a4fe6b267c3d301ff56d2413',
  ],
  [
    'Bob distrusted 2',
    '2fhJtrgoMJxfLI3084/YkYh9paqiSiLFDVL2m0qAgX4=',
    'd9f849b6b828309c5f2c8df4f38fd891887da5aaa24a22c50d52f69b4a80817e',
  ],
]

describe('key ids (TM-10, URI-8, §2.6 vectors)', () => {
  for (const [role, b64, hex] of VECTORS) {
    it(`§2.6 ${role}: Base64 and Base16 are the same bytes`, () => {
      expect(parseKeyIdHex(hex)).toBe(b64)
      expect(parseKeyIdHex(hex.toUpperCase())).toBe(b64)
      expect(keyIdToHex(parseKeyIdBase64(b64))).toBe(hex)
    })
  }
  it('TM-10: rejects non-Base64 and non-canonical Base64', () => {
    expect(() => parseKeyIdBase64('not base64!')).toThrowError(
      expect.objectContaining({ name: 'InvalidKeyIdError', rule: 'TM-10' }),
    )
    expect(() => parseKeyIdBase64('QR==')).toThrowError(expect.objectContaining({ rule: 'TM-10' }))
    expect(() => parseKeyIdBase64('')).toThrowError(expect.objectContaining({ rule: 'TM-10' }))
  })
  it('URI-8: rejects odd-length and non-hex Base16', () => {
    expect(() => parseKeyIdHex('abc')).toThrowError(
      expect.objectContaining({ name: 'InvalidKeyIdError', rule: 'URI-8' }),
    )
    expect(() => parseKeyIdHex('zz')).toThrowError(expect.objectContaining({ rule: 'URI-8' }))
  })
  it('TM-10: bytes, Base64 and length agree for every padding (1, 2, 3 and 32 bytes)', () => {
    for (const n of [1, 2, 3, 32]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff)
      const id = keyIdFromBytes(bytes)
      expect(parseKeyIdBase64(id)).toBe(id)
      expect(keyIdByteLength(id)).toBe(n)
      expect(keyIdToBytes(id)).toEqual(bytes)
    }
  })
  it('TM-10: a malformed key id made by a cast is an InvalidKeyIdError, not a crash or a guess', () => {
    // non-zero padding bits; missing padding
    for (const bad of ['QR==', 'QUJ'] as KeyId[]) {
      expect(() => keyIdToBytes(bad)).toThrowError(
        expect.objectContaining({ name: 'InvalidKeyIdError', rule: 'TM-10' }),
      )
    }
    expect(() => keyIdByteLength('QUJ' as KeyId)).toThrowError(
      expect.objectContaining({ name: 'InvalidKeyIdError' }),
    )
  })
})
