/**
 * The browser crypto provider: `@noble/curves` (X25519, Ed25519, the Edwards→Montgomery maps),
 * `@noble/hashes` (HKDF, HMAC-SHA-256), `@noble/ciphers` (AES-256-CBC, constant-time equality)
 * and `crypto.getRandomValues`. Everything is synchronous and platform-neutral (no `node:`
 * import, no `Buffer`), so it runs in any runtime with Web Crypto randomness; it is the provider
 * the `browser` (and `default`) condition of `@vouch/backend-omemo/provider` selects.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { cbc } from '@noble/ciphers/aes.js'
import { equalBytes } from '@noble/ciphers/utils.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type { CryptoProvider, CryptoProviderInit } from './provider.ts'

/** `crypto.getRandomValues` fills at most 65,536 bytes per call. */
const MAX_RANDOM_CHUNK = 65_536

function webRandomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += MAX_RANDOM_CHUNK)
    globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + MAX_RANDOM_CHUNK)))
  return out
}

function check(bytes: Uint8Array, n: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== n)
    throw new RangeError(`${what} must be ${n} bytes, got ${bytes?.length}`)
}

const ZERO32 = new Uint8Array(32)

/**
 * The provider on `@noble/*`. Public keys derived from a private key are cached per key array
 * (by identity, in a WeakMap), as the Node provider caches its KeyObjects: a key array must
 * therefore never be mutated after it was used (the protocol code never does).
 */
export function browserCryptoProvider(init: CryptoProviderInit = {}): CryptoProvider {
  const random = init.random ?? webRandomBytes
  const xPub = new WeakMap<Uint8Array, Uint8Array>()
  const edPub = new WeakMap<Uint8Array, Uint8Array>()

  function edPublic(seed: Uint8Array): Uint8Array {
    let pub = edPub.get(seed)
    if (pub === undefined) {
      check(seed, 32, 'Ed25519 seed')
      pub = ed25519.getPublicKey(seed)
      edPub.set(seed, pub)
    }
    return pub
  }

  return {
    name: 'noble',
    randomBytes(n) {
      const out = random(n)
      if (!(out instanceof Uint8Array) || out.length !== n)
        throw new RangeError(`random source returned ${out?.length} bytes instead of ${n}`)
      return out
    },
    x25519PublicKey(priv) {
      let pub = xPub.get(priv)
      if (pub === undefined) {
        check(priv, 32, 'X25519 private key')
        pub = x25519.getPublicKey(priv)
        xPub.set(priv, pub)
      }
      return pub.slice()
    },
    x25519(priv, pub) {
      check(priv, 32, 'X25519 private key')
      check(pub, 32, 'X25519 public key')
      let out: Uint8Array
      try {
        out = x25519.getSharedSecret(priv, pub)
      } catch {
        // noble refuses a low-order public key by its all-zero result
        throw new RangeError('X25519 produced the all-zero output')
      }
      if (equalBytes(out, ZERO32)) throw new RangeError('X25519 produced the all-zero output')
      return out
    },
    ed25519PublicKey(seed) {
      return edPublic(seed).slice()
    },
    ed25519Sign(seed, message) {
      check(seed, 32, 'Ed25519 seed')
      return ed25519.sign(message, seed)
    },
    ed25519Verify(pub, message, signature) {
      if (signature.length !== 64 || pub.length !== 32) return false
      try {
        // zip215: false is RFC 8032's strict reading (canonical encodings), as node:crypto's
        return ed25519.verify(signature, message, pub, { zip215: false })
      } catch {
        return false
      }
    },
    edwardsToMontgomeryPublic(pub) {
      check(pub, 32, 'Ed25519 public key')
      return ed25519.utils.toMontgomery(pub)
    },
    edwardsToMontgomeryPrivate(seed) {
      check(seed, 32, 'Ed25519 seed')
      return ed25519.utils.toMontgomerySecret(seed)
    },
    hkdf(ikm, salt, info, length) {
      return hkdf(sha256, ikm, salt, info, length)
    },
    hmac(key, data) {
      return hmac(sha256, key, data)
    },
    aesCbcEncrypt(key, iv, plaintext) {
      check(key, 32, 'AES-256 key')
      return cbc(key, iv).encrypt(plaintext)
    },
    aesCbcDecrypt(key, iv, ciphertext) {
      check(key, 32, 'AES-256 key')
      return cbc(key, iv).decrypt(ciphertext)
    },
    equal(a, b) {
      return a.length === b.length && equalBytes(a, b)
    },
  }
}

/** The provider of this runtime (the `browser` and `default` conditions): {@link browserCryptoProvider}. */
export const defaultCryptoProvider: (init?: CryptoProviderInit) => CryptoProvider = browserCryptoProvider
