/**
 * The Node crypto provider: curve and symmetric work with `node:crypto` KeyObjects (raw keys
 * imported through JWK); `@noble/curves` only for the Edwards→Montgomery conversion, which
 * `node:crypto` lacks. Selected by the `node` condition of `@vouch/backend-omemo/provider`.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  timingSafeEqual,
} from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import {
  type CryptoProvider,
  type CryptoProviderInit,
  checkedRandom,
  checkLength as check,
  strictEd25519PublicKey,
} from './provider.ts'

const ZERO32 = new Uint8Array(32)

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/**
 * KeyObjects are cached per key array (by identity, in a WeakMap): a session keeps the same
 * arrays while it lives in memory, so each key is imported once. A key array must therefore never
 * be mutated after it was used (the protocol code never does).
 */
export function nodeCryptoProvider(init: CryptoProviderInit = {}): CryptoProvider {
  const random = checkedRandom(init.random ?? ((n: number) => u8(nodeRandomBytes(n))))
  const xPriv = new WeakMap<Uint8Array, KeyObject>()
  const xPub = new WeakMap<Uint8Array, KeyObject>()
  const edPriv = new WeakMap<Uint8Array, KeyObject>()
  const edPub = new WeakMap<Uint8Array, KeyObject>()

  function xPrivKey(priv: Uint8Array): KeyObject {
    let k = xPriv.get(priv)
    if (k === undefined) {
      check(priv, 32, 'X25519 private key')
      // Node derives the public key from `d` (the `x` member is required by the JWK parser but
      // not used for a private key); 16× cheaper than a PKCS#8 DER import.
      k = createPrivateKey({
        key: { kty: 'OKP', crv: 'X25519', d: b64url(priv), x: b64url(ZERO32) },
        format: 'jwk',
      })
      xPriv.set(priv, k)
    }
    return k
  }
  function xPubKey(pub: Uint8Array): KeyObject {
    let k = xPub.get(pub)
    if (k === undefined) {
      check(pub, 32, 'X25519 public key')
      k = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(pub) }, format: 'jwk' })
      xPub.set(pub, k)
    }
    return k
  }
  function edPrivKey(seed: Uint8Array): KeyObject {
    let k = edPriv.get(seed)
    if (k === undefined) {
      check(seed, 32, 'Ed25519 seed')
      const pub = createPublicKey(
        createPrivateKey({
          key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(ZERO32) },
          format: 'jwk',
        }),
      ).export({ format: 'jwk' }).x as string
      k = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: pub }, format: 'jwk' })
      edPriv.set(seed, k)
    }
    return k
  }
  function edPubKey(pub: Uint8Array): KeyObject {
    let k = edPub.get(pub)
    if (k === undefined) {
      check(pub, 32, 'Ed25519 public key')
      k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pub) }, format: 'jwk' })
      edPub.set(pub, k)
    }
    return k
  }

  return {
    name: 'node:crypto',
    randomBytes: random,
    x25519PublicKey(priv) {
      const x = createPublicKey(xPrivKey(priv)).export({ format: 'jwk' }).x as string
      return u8(Buffer.from(x, 'base64url'))
    },
    x25519(priv, pub) {
      const out = u8(diffieHellman({ privateKey: xPrivKey(priv), publicKey: xPubKey(pub) }))
      if (timingSafeEqual(out, ZERO32)) throw new RangeError('X25519 produced the all-zero output')
      return out
    },
    ed25519PublicKey(seed) {
      const x = createPublicKey(edPrivKey(seed)).export({ format: 'jwk' }).x as string
      return u8(Buffer.from(x, 'base64url'))
    },
    ed25519Sign(seed, message) {
      return u8(nodeSign(null, message, edPrivKey(seed)))
    },
    ed25519Verify(pub, message, signature) {
      // OpenSSL takes non-canonical and small-order keys: refused first, as noble's strict mode does
      if (signature.length !== 64 || pub.length !== 32 || !strictEd25519PublicKey(pub)) return false
      try {
        return nodeVerify(null, message, edPubKey(pub), signature)
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
      return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length))
    },
    hmac(key, data) {
      return u8(createHmac('sha256', key).update(data).digest())
    },
    aesCbcEncrypt(key, iv, plaintext) {
      const c = createCipheriv('aes-256-cbc', key, iv)
      return u8(Buffer.concat([c.update(plaintext), c.final()]))
    },
    aesCbcDecrypt(key, iv, ciphertext) {
      const d = createDecipheriv('aes-256-cbc', key, iv)
      return u8(Buffer.concat([d.update(ciphertext), d.final()]))
    },
    equal(a, b) {
      return a.length === b.length && timingSafeEqual(a, b)
    },
  }
}

/** The provider of this runtime (the `node` condition): {@link nodeCryptoProvider}. */
export const defaultCryptoProvider: (init?: CryptoProviderInit) => CryptoProvider = nodeCryptoProvider
