/**
 * The crypto provider of the runtime comes from the package's `exports` conditions: `node` →
 * node:crypto, `browser` → noble. This file runs in Node (the package's project) and in Chromium
 * (tooling/browser-tests), so each side checks its own pick.
 */
import { defaultCryptoProvider as fromRoot } from '@vouch/backend-omemo'
import { defaultCryptoProvider } from '@vouch/backend-omemo/provider'
import { describe, expect, it } from 'vitest'
import { browserCryptoProvider } from '../src/provider-browser.ts'

const inBrowser = typeof window !== 'undefined'

describe('crypto provider selection (exports conditions)', () => {
  it(`the ${inBrowser ? 'browser' : 'node'} condition picks the ${inBrowser ? 'noble' : 'node:crypto'} provider`, () => {
    expect(defaultCryptoProvider().name).toBe(inBrowser ? 'noble' : 'node:crypto')
    expect(fromRoot).toBe(defaultCryptoProvider)
  })

  it('the browser provider draws more than one getRandomValues call allows (65,536 bytes)', () => {
    const bytes = browserCryptoProvider().randomBytes(200_000)
    expect(bytes).toHaveLength(200_000)
    // every chunk was filled: no 65,536-byte run of zeros anywhere
    for (let i = 0; i + 65_536 <= bytes.length; i += 65_536)
      expect(bytes.subarray(i, i + 65_536).some((b) => b !== 0)).toBe(true)
  })

  it('a replaced random source is checked for its length', () => {
    const p = browserCryptoProvider({ random: (n) => new Uint8Array(n - 1) })
    expect(() => p.randomBytes(32)).toThrow(RangeError)
  })
})
