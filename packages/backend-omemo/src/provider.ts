/**
 * The crypto provider: every primitive OMEMO 2 needs, behind one small interface, so the protocol
 * code (X3DH, Double Ratchet, payload scheme) never touches a crypto library.
 *
 * The symmetric primitives (HKDF, HMAC, AES-CBC) are synchronous: OMEMO's inputs are a few dozen
 * bytes, where an asynchronous call costs more than the work. The curve operations (X25519,
 * Ed25519) may return a promise ({@link MaybePromise}), so a provider can hand them to WebCrypto:
 * X3DH, the ratchet's DH step and key generation are asynchronous functions that await them (for a
 * synchronous provider that costs a microtask per await; measured in the README, Performance).
 *
 * Two implementations, chosen through the package's `exports` conditions on
 * `@vouch/backend-omemo/provider` (`defaultCryptoProvider`):
 * - `node` → `provider-node.ts`, {@link nodeCryptoProvider}: `node:crypto` KeyObjects, synchronous;
 * - `browser` (and any other runtime) → `provider-browser.ts`, `browserCryptoProvider`: X25519
 *   and Ed25519 through WebCrypto (asynchronous) where the runtime has them, else `@noble/curves`;
 *   the symmetric primitives on `@noble/hashes` and `@noble/ciphers`.
 */
import { ed25519 } from '@noble/curves/ed25519.js'

/** A value, or a promise of it: what a provider's curve operations return. */
export type MaybePromise<T> = T | Promise<T>

/** Options of the providers: a replacement for the CSPRNG (deterministic tests). */
export interface CryptoProviderInit {
  readonly random?: (n: number) => Uint8Array
}

/**
 * Every primitive the protocol uses. Keys are raw bytes (32 bytes each); outputs are fresh. Key,
 * salt and public-key arrays passed in are not changed afterwards: a provider may remember work
 * per array (the browser provider imports a curve key into WebCrypto once per array and keys an
 * HKDF salt once per array); new key bytes come in a new array, as the protocol code does.
 */
export interface CryptoProvider {
  readonly name: string
  /** CSPRNG bytes. */
  randomBytes(n: number): Uint8Array
  /** RFC 7748 X25519 public key of a (clamped internally) 32-byte private scalar. */
  x25519PublicKey(priv: Uint8Array): MaybePromise<Uint8Array>
  /** RFC 7748 X25519(priv, pub). Throws (or rejects) on an all-zero output (a low-order public key). */
  x25519(priv: Uint8Array, pub: Uint8Array): MaybePromise<Uint8Array>
  /** RFC 8032 Ed25519 public key of a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): MaybePromise<Uint8Array>
  /** RFC 8032 Ed25519 signature (64 bytes). */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): MaybePromise<Uint8Array>
  /**
   * RFC 8032 Ed25519 verification; the public key must decode strictly ({@link strictEd25519PublicKey}).
   * Never throws (or rejects).
   */
  ed25519Verify(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): MaybePromise<boolean>
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

/** Checks that `bytes` is a `Uint8Array` of `n` bytes. */
export function checkLength(bytes: Uint8Array, n: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== n)
    throw new RangeError(`${what} must be ${n} bytes, got ${bytes?.length}`)
}

/** `random`, checked: a replaced random source that returns the wrong length is refused. */
export function checkedRandom(random: (n: number) => Uint8Array): (n: number) => Uint8Array {
  return (n) => {
    const out = random(n)
    if (!(out instanceof Uint8Array) || out.length !== n)
      throw new RangeError(`random source returned ${out?.length} bytes instead of ${n}`)
    return out
  }
}

const strictKeys = new WeakMap<Uint8Array, boolean>()

/**
 * Whether `pub` is an Ed25519 public key that RFC 8032 §5.1.3 decodes (canonical y < p, a point
 * on the curve) and is not of small order (FIPS 186-5's and noble's strict reading, `zip215:
 * false`). noble's verification checks this itself; OpenSSL (`node:crypto`, Node's WebCrypto) and
 * BoringSSL (Chromium's WebCrypto) take non-canonical and small-order keys, for which a trivial
 * signature verifies, so those providers check it first: every provider refuses the same keys.
 * Cached per key array (never mutated once used).
 */
export function strictEd25519PublicKey(pub: Uint8Array): boolean {
  let ok = strictKeys.get(pub)
  if (ok === undefined) {
    try {
      ok = !ed25519.Point.fromBytes(pub, false).isSmallOrder()
    } catch {
      ok = false
    }
    strictKeys.set(pub, ok)
  }
  return ok
}
