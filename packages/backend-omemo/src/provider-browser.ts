/**
 * The browser crypto provider: X25519 and Ed25519 through WebCrypto (`crypto.subtle`, asynchronous)
 * where the runtime has them, else `@noble/curves` (synchronous); `@noble/curves` also for the
 * Edwards→Montgomery maps (WebCrypto has none), `@noble/hashes` (HKDF, HMAC-SHA-256),
 * `@noble/ciphers` (AES-256-CBC, constant-time equality) and `crypto.getRandomValues`. No `node:`
 * import, no `Buffer`: it runs in any runtime with Web Crypto randomness, and it is the provider
 * the `browser` (and `default`) condition of `@vouch/backend-omemo/provider` selects.
 *
 * The symmetric primitives stay on noble: on OMEMO's few dozen bytes WebCrypto's per-call floor is
 * far above their work (README, Performance). The curves are the other way round: one X25519 on
 * WebCrypto costs about a fifth of noble's in Chromium.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { cbc } from '@noble/ciphers/aes.js'
import { equalBytes } from '@noble/ciphers/utils.js'
import { base64urlnopad } from '@scure/base'
import { expand } from '@noble/hashes/hkdf.js'
import { type _HMAC, hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { hexToBytes } from '@noble/hashes/utils.js'
import {
  type CryptoProvider,
  type CryptoProviderInit,
  checkedRandom,
  checkLength,
  type MaybePromise,
  strictEd25519PublicKey,
} from './provider.ts'

/** Options of {@link browserCryptoProvider}. */
export interface BrowserCryptoProviderInit extends CryptoProviderInit {
  /**
   * X25519 and Ed25519 through WebCrypto where the runtime has them (default `true`); `false`:
   * `@noble/curves` only (the fallback, also for tests that run both paths).
   */
  readonly webCrypto?: boolean
}

/** `crypto.getRandomValues` fills at most 65,536 bytes per call. */
const MAX_RANDOM_CHUNK = 65_536

function webRandomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += MAX_RANDOM_CHUNK)
    globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + MAX_RANDOM_CHUNK)))
  return out
}

const ZERO32 = new Uint8Array(32)
const ALL_ZERO = 'X25519 produced the all-zero output'

// ——— WebCrypto curves ———

type Curve = 'X25519' | 'Ed25519'

/**
 * PKCS#8 (RFC 8410) of a raw 32-byte private key: `SEQUENCE { INTEGER 0, SEQUENCE { OID
 * 1.3.101.n }, OCTET STRING { OCTET STRING (32 bytes) } }`, n = 110 for X25519, 112 for Ed25519.
 */
const OID_LAST: Record<Curve, number> = { X25519: 0x6e, Ed25519: 0x70 }
const PKCS8_HEAD = hexToBytes('302e020100300506032b65')
const PKCS8_KEY = hexToBytes('04220420')

function pkcs8(curve: Curve, key: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(48)
  out.set(PKCS8_HEAD, 0)
  out[11] = OID_LAST[curve]
  out.set(PKCS8_KEY, 12)
  out.set(key, 16)
  return out
}

type Subtle = (typeof globalThis.crypto)['subtle']

/** A copy on its own `ArrayBuffer` (what WebCrypto's `BufferSource` type wants). */
const own = (u: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(u)

/** Which curves this runtime's WebCrypto has (private key import, DH, signing): detected once. */
export interface WebCurves {
  readonly x25519: boolean
  readonly ed25519: boolean
}

let detected: WebCurves | undefined
let detecting: Promise<WebCurves> | undefined

async function works(curve: Curve): Promise<boolean> {
  try {
    const subtle = globalThis.crypto?.subtle
    if (subtle === undefined) return false
    const dh = curve === 'X25519'
    const key = pkcs8(curve, new Uint8Array(32).fill(7))
    const priv = await subtle.importKey('pkcs8', key, { name: curve }, true, dh ? ['deriveBits'] : ['sign'])
    const raw = fromB64url((await subtle.exportKey('jwk', priv)).x)
    const pub = await subtle.importKey('raw', raw, curve, true, dh ? [] : ['verify'])
    if (dh) return (await subtle.deriveBits({ name: curve, public: pub }, priv, 256)).byteLength === 32
    return await subtle.verify(curve, pub, await subtle.sign(curve, priv, ZERO32), ZERO32)
  } catch {
    return false
  }
}

/**
 * Feature detection, once per page (or process): which curves this runtime's WebCrypto has (a
 * PKCS#8 private key import, its JWK export, and a DH or a signature that verifies).
 */
export function webCryptoCurves(): Promise<WebCurves> {
  detecting ??= Promise.all([works('X25519'), works('Ed25519')]).then(([x, ed]) => {
    detected = { x25519: x, ed25519: ed }
    return detected
  })
  return detecting
}

function fromB64url(s: string | undefined): Uint8Array<ArrayBuffer> {
  return own(base64urlnopad.decode(s ?? ''))
}

/** Memoises `make(key)` per key array (by identity): a key array is never mutated once used. */
function memo<V>(make: (key: Uint8Array) => V): (key: Uint8Array) => V {
  const cache = new WeakMap<Uint8Array, V>()
  return (key) => {
    let v = cache.get(key)
    if (v === undefined) {
      v = make(key)
      cache.set(key, v)
    }
    return v
  }
}

/** The curve operations, asynchronous, on WebCrypto; keys imported once per key array. */
function webCurves(subtle: Subtle) {
  const xPriv = memo((priv) =>
    subtle.importKey('pkcs8', pkcs8('X25519', priv), { name: 'X25519' }, true, ['deriveBits']),
  )
  const xPub = memo((pub) => subtle.importKey('raw', own(pub), { name: 'X25519' }, false, []))
  const edPriv = memo((seed) =>
    subtle.importKey('pkcs8', pkcs8('Ed25519', seed), { name: 'Ed25519' }, true, ['sign']),
  )
  const edPub = memo((pub) => subtle.importKey('raw', own(pub), { name: 'Ed25519' }, false, ['verify']))
  const xPublicOf = memo(async (priv) => fromB64url((await subtle.exportKey('jwk', await xPriv(priv))).x))
  const edPublicOf = memo(async (seed) => fromB64url((await subtle.exportKey('jwk', await edPriv(seed))).x))
  return {
    async x25519PublicKey(priv: Uint8Array): Promise<Uint8Array> {
      return (await xPublicOf(priv)).slice()
    },
    async x25519(priv: Uint8Array, pub: Uint8Array): Promise<Uint8Array> {
      let out: Uint8Array
      try {
        out = new Uint8Array(
          await subtle.deriveBits({ name: 'X25519', public: await xPub(pub) }, await xPriv(priv), 256),
        )
      } catch (e) {
        // WebCrypto refuses a low-order public key by its all-zero result (an OperationError)
        throw new RangeError(ALL_ZERO, { cause: e })
      }
      if (equalBytes(out, ZERO32)) throw new RangeError(ALL_ZERO)
      return out
    },
    async ed25519PublicKey(seed: Uint8Array): Promise<Uint8Array> {
      return (await edPublicOf(seed)).slice()
    },
    async ed25519Sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
      return new Uint8Array(await subtle.sign('Ed25519', await edPriv(seed), own(message)))
    },
    async ed25519Verify(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
      if (!strictEd25519PublicKey(pub)) return false // BoringSSL takes non-canonical and small-order keys
      try {
        return await subtle.verify('Ed25519', await edPub(pub), own(signature), own(message))
      } catch {
        return false
      }
    },
  }
}

// ——— noble curves (the fallback) ———

function nobleCurves() {
  const xPublicOf = memo((priv) => x25519.getPublicKey(priv))
  const edPublicOf = memo((seed) => ed25519.getPublicKey(seed))
  return {
    x25519PublicKey: (priv: Uint8Array): Uint8Array => xPublicOf(priv).slice(),
    x25519(priv: Uint8Array, pub: Uint8Array): Uint8Array {
      let out: Uint8Array
      try {
        out = x25519.getSharedSecret(priv, pub)
      } catch (e) {
        // noble refuses a low-order public key by its all-zero result
        throw new RangeError(ALL_ZERO, { cause: e })
      }
      if (equalBytes(out, ZERO32)) throw new RangeError(ALL_ZERO)
      return out
    },
    ed25519PublicKey: (seed: Uint8Array): Uint8Array => edPublicOf(seed).slice(),
    ed25519Sign: (seed: Uint8Array, message: Uint8Array): Uint8Array => ed25519.sign(message, seed),
    ed25519Verify(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
      try {
        // zip215: false: RFC 8032's strict decoding and no small-order key (strictEd25519PublicKey)
        return ed25519.verify(signature, message, pub, { zip215: false })
      } catch {
        return false
      }
    },
  }
}

type Curves = ReturnType<typeof nobleCurves> | ReturnType<typeof webCurves>

/**
 * The browser provider. Keys derived from a private key, and WebCrypto's imported keys, are cached
 * per key array (by identity, in WeakMaps), as the Node provider caches its KeyObjects: a key array
 * must therefore never be mutated after it was used (the protocol code never does). Private keys
 * stay raw bytes (the session state is stored as bytes); WebCrypto imports each one once, as
 * PKCS#8, when it is first used.
 *
 * With `webCrypto` (the default) the curve operations return promises: the first waits for the
 * feature detection (once per page), then X25519 and Ed25519 each go to WebCrypto when the runtime
 * has that curve, else to noble.
 */
export function browserCryptoProvider(init: BrowserCryptoProviderInit = {}): CryptoProvider {
  const random = checkedRandom(init.random ?? webRandomBytes)
  const noble = nobleCurves()
  const subtle = init.webCrypto === false ? undefined : globalThis.crypto?.subtle
  const web = subtle === undefined ? undefined : webCurves(subtle)
  const pick = (which: keyof WebCurves, support: WebCurves): Curves =>
    web !== undefined && support[which] ? web : noble
  /** The implementation of curve `which`: noble, WebCrypto, or (before detection) a promise of one. */
  function curve(which: keyof WebCurves): Curves | Promise<Curves> {
    if (web === undefined) return noble
    if (detected !== undefined) return pick(which, detected)
    return webCryptoCurves().then((support) => pick(which, support))
  }
  function on<R>(which: keyof WebCurves, run: (c: Curves) => MaybePromise<R>): MaybePromise<R> {
    const c = curve(which)
    return c instanceof Promise ? c.then(run) : run(c)
  }

  /**
   * HMAC-SHA-256 keyed (the key's ipad and opad blocks hashed: two of the four SHA-256
   * compressions of a short message) once, then cloned per use into one scratch instance, which
   * digest() wipes. An HKDF salt is keyed once per salt array (the protocol's salts are constants;
   * cached by identity, like the curve keys), an HMAC key for the next call only, if it passes the
   * same key bytes again (the chain key's two HMACs; compared by content, so a reused buffer is
   * safe); that keyed state is wiped at the next call, and a second use spends it. Measured in Node on noble: a message round trip (bench/, core: same
   * direction) 0.190 → 0.171 ms.
   */
  type Keyed = _HMAC<ReturnType<typeof sha256.create>>
  const salts = memo((salt): Keyed => hmac.create(sha256, salt))
  let scratch: Keyed | undefined
  let lastKey: Uint8Array | undefined
  let lastKeyed: Keyed | undefined
  function keyedHmac(keyed: Keyed, data: Uint8Array): Uint8Array {
    const h = keyed._cloneInto(scratch)
    scratch = h
    return h.update(data).digest() // digest() wipes the scratch
  }

  return {
    name: web === undefined ? 'noble' : 'webcrypto',
    randomBytes: random,
    x25519PublicKey(priv) {
      checkLength(priv, 32, 'X25519 private key')
      return on('x25519', (c) => c.x25519PublicKey(priv))
    },
    x25519(priv, pub) {
      checkLength(priv, 32, 'X25519 private key')
      checkLength(pub, 32, 'X25519 public key')
      return on('x25519', (c) => c.x25519(priv, pub))
    },
    ed25519PublicKey(seed) {
      checkLength(seed, 32, 'Ed25519 seed')
      return on('ed25519', (c) => c.ed25519PublicKey(seed))
    },
    ed25519Sign(seed, message) {
      checkLength(seed, 32, 'Ed25519 seed')
      return on('ed25519', (c) => c.ed25519Sign(seed, message))
    },
    ed25519Verify(pub, message, signature) {
      if (signature.length !== 64 || pub.length !== 32) return false
      return on('ed25519', (c) => c.ed25519Verify(pub, message, signature))
    },
    edwardsToMontgomeryPublic(pub) {
      checkLength(pub, 32, 'Ed25519 public key')
      return ed25519.utils.toMontgomery(pub)
    },
    edwardsToMontgomeryPrivate(seed) {
      checkLength(seed, 32, 'Ed25519 seed')
      return ed25519.utils.toMontgomerySecret(seed)
    },
    hkdf(ikm, salt, info, length) {
      // noble's hkdf() with the salt's keyed HMAC cloned: extract, then expand, which takes the
      // extract's (spent) HMAC for its worker hash and wipes the PRK
      const h = salts(salt)._cloneInto(scratch)
      scratch = h
      return expand(sha256, h.update(ikm).digest(), info, length, h)
    },
    hmac(key, data) {
      const prevKey = lastKey
      const prev = lastKeyed
      lastKey = lastKeyed = undefined
      if (prev !== undefined) {
        // the same key bytes (not only the same array: a caller may reuse a buffer)
        if (prevKey !== undefined && equalBytes(key, prevKey)) return prev.update(data).digest() // its second use spends and wipes it
        prev.destroy()
      }
      lastKey = key.slice()
      lastKeyed = hmac.create(sha256, key)
      return keyedHmac(lastKeyed, data)
    },
    aesCbcEncrypt(key, iv, plaintext) {
      checkLength(key, 32, 'AES-256 key')
      return cbc(key, iv).encrypt(plaintext)
    },
    aesCbcDecrypt(key, iv, ciphertext) {
      checkLength(key, 32, 'AES-256 key')
      return cbc(key, iv).decrypt(ciphertext)
    },
    equal(a, b) {
      return a.length === b.length && equalBytes(a, b)
    },
  }
}

/** The provider of this runtime (the `browser` and `default` conditions): {@link browserCryptoProvider}. */
export const defaultCryptoProvider: (init?: CryptoProviderInit) => CryptoProvider = browserCryptoProvider
