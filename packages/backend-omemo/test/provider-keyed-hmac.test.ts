/**
 * The browser provider keys an HMAC once and reuses it (an HKDF salt per salt array, an HMAC key
 * for the next call with the same key bytes): every provider's HMAC and HKDF must equal noble's
 * stateless one-shot functions whatever the order of the calls — the same key twice and three
 * times, another key between, a salt that is also an HMAC key, every HKDF length path.
 */
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { providers, toHex } from './helpers.ts'

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)
const refHmac = (k: Uint8Array, d: Uint8Array) => toHex(hmac(sha256, k, d))
const refHkdf = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, n: number) =>
  toHex(hkdf(sha256, ikm, salt, info, n))

for (const p of providers)
  describe(`provider ${p.name}: keyed HMAC reuse`, () => {
    it('HMAC: the same key array once, twice, three times, with other keys and HKDFs between', () => {
      const k1 = bytes(32, 1)
      const k2 = bytes(32, 2)
      const long = bytes(100, 3) // longer than a block: hashed first
      const one = Uint8Array.of(1)
      const two = Uint8Array.of(2)
      const msg = bytes(150, 4)
      const salt = new Uint8Array(32)
      const info = bytes(13, 5)
      const calls: [string, () => Uint8Array, string][] = [
        ['k1·2', () => p.hmac(k1, two), refHmac(k1, two)],
        ['k1·1', () => p.hmac(k1, one), refHmac(k1, one)],
        ['k1·msg', () => p.hmac(k1, msg), refHmac(k1, msg)],
        ['k1·2 again', () => p.hmac(k1, two), refHmac(k1, two)],
        ['k2·1', () => p.hmac(k2, one), refHmac(k2, one)],
        ['hkdf between', () => p.hkdf(k1, salt, info, 80), refHkdf(k1, salt, info, 80)],
        ['k2·2 after hkdf', () => p.hmac(k2, two), refHmac(k2, two)],
        ['k1·1', () => p.hmac(k1, one), refHmac(k1, one)],
        ['k2·msg', () => p.hmac(k2, msg), refHmac(k2, msg)],
        ['k1·msg', () => p.hmac(k1, msg), refHmac(k1, msg)],
        ['long·msg', () => p.hmac(long, msg), refHmac(long, msg)],
        ['long·1', () => p.hmac(long, one), refHmac(long, one)],
        ['salt as HMAC key', () => p.hmac(salt, msg), refHmac(salt, msg)],
        ['empty key', () => p.hmac(new Uint8Array(0), msg), refHmac(new Uint8Array(0), msg)],
      ]
      for (let round = 0; round < 2; round++)
        for (const [what, run, want] of calls) expect(toHex(run()), `${what} (round ${round})`).toBe(want)
    })

    it('HMAC: one buffer reused for new key bytes (same array, other contents) is keyed anew', () => {
      const buf = bytes(32, 8)
      const msg = bytes(40, 9)
      const first = refHmac(buf, msg)
      expect(toHex(p.hmac(buf, msg))).toBe(first)
      buf.set(bytes(32, 10)) // the caller writes the next key into the same buffer
      expect(toHex(p.hmac(buf, msg))).toBe(refHmac(buf, msg))
      expect(refHmac(buf, msg)).not.toBe(first)
    })

    it('HKDF: the same salt array again and again, every length path, other salts between', () => {
      const zero = new Uint8Array(32)
      const rk = bytes(32, 6)
      const empty = new Uint8Array(0)
      const info = bytes(26, 7)
      for (let round = 0; round < 3; round++)
        for (const n of [0, 1, 16, 32, 33, 64, 80, 100]) {
          const ikm = bytes(32, round * 8 + n)
          for (const salt of [zero, rk, empty]) {
            expect(toHex(p.hkdf(ikm, salt, info, n)), `salt ${salt.length} length ${n}`).toBe(
              refHkdf(ikm, salt, info, n),
            )
            expect(toHex(p.hmac(salt, ikm)), 'an HMAC under the salt between').toBe(refHmac(salt, ikm))
          }
        }
    })
  })
