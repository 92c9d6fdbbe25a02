/**
 * The crypto provider of the runtime comes from the package's `exports` conditions: `node` →
 * node:crypto, `browser` → the browser provider (WebCrypto curves, noble otherwise). This file runs in Node (the package's project) and in Chromium
 * (tooling/browser-tests), so each side checks its own pick.
 */
import { defaultCryptoProvider as fromRoot } from '@vouch/backend-omemo'
import { defaultCryptoProvider } from '@vouch/backend-omemo/provider'
import { describe, expect, it } from 'vitest'
import { browserCryptoProvider, webCryptoCurves } from '../src/provider-browser.ts'

const inBrowser = typeof window !== 'undefined'

describe('crypto provider selection (exports conditions)', () => {
  it(`the ${inBrowser ? 'browser' : 'node'} condition picks the ${inBrowser ? 'webcrypto' : 'node:crypto'} provider`, () => {
    expect(defaultCryptoProvider().name).toBe(inBrowser ? 'webcrypto' : 'node:crypto')
    expect(fromRoot).toBe(defaultCryptoProvider)
  })

  it('the browser provider draws more than one getRandomValues call allows (65,536 bytes)', () => {
    const bytes = browserCryptoProvider().randomBytes(200_000)
    expect(bytes).toHaveLength(200_000)
    // every chunk was filled: no 65,536-byte run of zeros anywhere
    for (let i = 0; i + 65_536 <= bytes.length; i += 65_536)
      expect(bytes.subarray(i, i + 65_536).some((b) => b !== 0)).toBe(true)
  })

  it('feature detection: Chromium and Node 20 have X25519 and Ed25519 in WebCrypto (so the webcrypto provider runs them there)', async () => {
    expect(await webCryptoCurves()).toEqual({ x25519: true, ed25519: true })
    expect(browserCryptoProvider({ webCrypto: false }).name).toBe('noble')
  })

  it('the webcrypto provider returns promises for the curves, the noble one plain values, with the same results', async () => {
    const priv = new Uint8Array(32).fill(3)
    const web = browserCryptoProvider().x25519PublicKey(priv)
    const noble = browserCryptoProvider({ webCrypto: false }).x25519PublicKey(priv)
    expect(web).toBeInstanceOf(Promise)
    expect(noble).toBeInstanceOf(Uint8Array)
    expect(await web).toEqual(noble)
  })

  it('a replaced random source is checked for its length', () => {
    const p = browserCryptoProvider({ random: (n) => new Uint8Array(n - 1) })
    expect(() => p.randomBytes(32)).toThrow(RangeError)
  })
})
