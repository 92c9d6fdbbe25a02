import { describe, expect, it } from 'vitest'
import { randomBytes } from '../src/index.ts'

describe('randomBytes (the default CSPRNG, Web Crypto getRandomValues)', () => {
  it('returns n bytes, past the 65,536-byte quota of one getRandomValues call', () => {
    for (const n of [0, 1, 32, 65_536, 65_537, 200_000]) expect(randomBytes(n)).toHaveLength(n)
  })
  it('fills every chunk: no 64 KiB run of zeros in a 200,000-byte draw', () => {
    const bytes = randomBytes(200_000)
    for (let i = 0; i < bytes.length; i += 65_536) {
      const chunk = bytes.subarray(i, i + 65_536)
      expect(chunk.some((b) => b !== 0)).toBe(true)
    }
  })
  it('two draws differ', () => {
    expect(randomBytes(32)).not.toEqual(randomBytes(32))
  })
})
