/**
 * The crypto provider: every primitive OMEMO 2 needs, behind one small synchronous interface, so
 * the protocol code (X3DH, Double Ratchet, payload scheme) never touches a crypto library. The
 * Node provider does the curve and symmetric work with `node:crypto` KeyObjects (raw keys
 * imported through JWK) and uses `@noble/curves` only for the Edwards→Montgomery conversion,
 * which `node:crypto` lacks. A browser provider can be built on `@noble/curves` + `@noble/hashes`
 * + `@noble/ciphers` (synchronous); WebCrypto would need an asynchronous variant and costs
 * about 15× the symmetric floor (OMEMO.md, performance facts), so the interface stays sync.
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

/** Every primitive the protocol uses. Keys are raw bytes (32 bytes each); outputs are fresh. */
export interface CryptoProvider {
  readonly name: string
  /** CSPRNG bytes. */
  randomBytes(n: number): Uint8Array
  /** RFC 7748 X25519 public key of a (clamped internally) 32-byte private scalar. */
  x25519PublicKey(priv: Uint8Array): Uint8Array
  /** RFC 7748 X25519(priv, pub). Throws on an all-zero output (a low-order public key). */
  x25519(priv: Uint8Array, pub: Uint8Array): Uint8Array
  /** RFC 8032 Ed25519 public key of a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array
  /** RFC 8032 Ed25519 signature (64 bytes). */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array
  /** RFC 8032 Ed25519 verification (cofactorless, canonical encodings). Never throws. */
  ed25519Verify(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
  /** Edwards→Montgomery public key (RFC 7748 §4.1: u = (1+y)/(1−y)). Throws for an invalid point. */
  edwardsToMontgomeryPublic(edPub: Uint8Array): Uint8Array
  /** The X25519 private scalar of an Ed25519 seed (clamped SHA-512(seed)[0..32]). */
  edwardsToMontgomeryPrivate(seed: Uint8Array): Uint8Array
  /** RFC 5869 HKDF-SHA-256. */
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array
  /** RFC 2104 HMAC-SHA-256. */
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array
  /** AES-256-CBC with PKCS#7 padding. */
  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array
  /** AES-256-CBC with PKCS#7 padding; throws on a bad length or padding. */
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array
  /** Constant-time equality. */
  equal(a: Uint8Array, b: Uint8Array): boolean
}

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
export function nodeCryptoProvider(
  init: { readonly random?: (n: number) => Uint8Array } = {},
): CryptoProvider {
  const random = init.random ?? ((n: number) => u8(nodeRandomBytes(n)))
  const xPriv = new WeakMap<Uint8Array, KeyObject>()
  const xPub = new WeakMap<Uint8Array, KeyObject>()
  const edPriv = new WeakMap<Uint8Array, KeyObject>()
  const edPub = new WeakMap<Uint8Array, KeyObject>()

  function check(bytes: Uint8Array, n: number, what: string): void {
    if (!(bytes instanceof Uint8Array) || bytes.length !== n)
      throw new RangeError(`${what} must be ${n} bytes, got ${bytes?.length}`)
  }
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
    randomBytes(n) {
      const out = random(n)
      if (!(out instanceof Uint8Array) || out.length !== n)
        throw new RangeError(`random source returned ${out?.length} bytes instead of ${n}`)
      return out
    },
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
      if (signature.length !== 64 || pub.length !== 32) return false
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
