/**
 * `@vouch/backend-omemo-legacy/node`: the Node provider of libsignal's primitives. X25519 key
 * pairs and agreements run in `node:crypto` (OpenSSL, ~0.03 ms each here); XEdDSA signatures,
 * which `node:crypto` does not offer, stay with libsignal's own implementation
 * (curve25519-typescript: libsignal-protocol-c's `curve25519_sign`/`curve25519_verify` compiled
 * to asm.js), so no signature code is ours. Signatures are only made and checked for signed pre
 * keys (bundle creation, rotation, session setup), never per message.
 *
 * Node-only on purpose: the package root imports nothing from `node:`, so a browser build can
 * pass its own {@link LegacyCurve} (or none: the library default).
 */
import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  getRandomValues,
  type KeyObject,
} from 'node:crypto'
import { AsyncCurve25519Wrapper } from '@privacyresearch/curve25519-typescript'
import type { LegacyCurve, LibsignalWebCrypto, RawKeyPair } from './curve.ts'

const b64url = (u: Uint8Array): string =>
  Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64url')
/**
 * A private JWK needs an `x`; Node derives the public key from `d` and never reads `x` (checked
 * by the tests against libsignal's curve: the derived public key and every agreement match).
 * JWK import costs ~0.035 ms here, PKCS#8 DER ~0.34 ms.
 */
const UNUSED_X = b64url(new Uint8Array(32))

function clamp(priv: ArrayBuffer): Uint8Array {
  const p = new Uint8Array(priv.slice(0))
  if (p.length !== 32) throw new RangeError('a Curve25519 private key is 32 bytes')
  p[0] = (p[0] as number) & 248
  p[31] = ((p[31] as number) & 127) | 64
  return p
}

function privateKeyObject(priv: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64url(priv), x: UNUSED_X }, format: 'jwk' })
}

function publicKeyObject(pub: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(pub) }, format: 'jwk' })
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
}

/** X25519 in `node:crypto`, XEdDSA from libsignal's curve25519-typescript. */
export function nodeCurve(): LegacyCurve {
  const xeddsa = new AsyncCurve25519Wrapper()
  return {
    name: 'node-x25519',
    async keyPair(privKey: ArrayBuffer): Promise<RawKeyPair> {
      const priv = clamp(privKey)
      const jwk = createPublicKey(privateKeyObject(priv)).export({ format: 'jwk' })
      const pub = new Uint8Array(Buffer.from(String(jwk.x), 'base64url'))
      return { pubKey: toArrayBuffer(pub), privKey: toArrayBuffer(priv) }
    },
    async sharedSecret(pubKey: ArrayBuffer, privKey: ArrayBuffer): Promise<ArrayBuffer> {
      const s = diffieHellman({
        privateKey: privateKeyObject(clamp(privKey)),
        publicKey: publicKeyObject(new Uint8Array(pubKey)),
      })
      return toArrayBuffer(s)
    },
    sign: (privKey, message) => xeddsa.sign(privKey, message),
    // curve25519_verify returns non-zero for an invalid signature
    verify: async (pubKey, message, sig) => !(await xeddsa.verify(pubKey, message, sig)),
  }
}

/** libsignal-protocol-typescript's own curve (asm.js), as a {@link LegacyCurve}: the figures' anchor. */
export function libsignalCurve(): LegacyCurve {
  const c = new AsyncCurve25519Wrapper()
  return {
    name: 'libsignal-asmjs',
    keyPair: (privKey) => c.keyPair(privKey),
    sharedSecret: (pubKey, privKey) => c.sharedSecret(pubKey, privKey),
    sign: (privKey, message) => c.sign(privKey, message),
    verify: async (pubKey, message, sig) => !(await c.verify(pubKey, message, sig)),
  }
}

interface RawKey {
  readonly algorithm: string
  readonly bytes: Buffer
}

const buf = (d: ArrayBuffer | ArrayBufferView): Buffer =>
  ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d)

function algorithmName(a: unknown): string {
  return typeof a === 'string' ? a : String((a as { name?: unknown }).name)
}

/**
 * The part of Web Crypto libsignal-protocol-typescript calls (its `setWebCrypto`): HMAC-SHA-256,
 * AES-CBC with PKCS#7 padding, SHA-512 and `getRandomValues` — and AES-GCM, which our payload uses — on `node:crypto`'s synchronous
 * OpenSSL calls. Node's `crypto.subtle` runs each operation as a job on the libuv thread pool;
 * a message takes about thirty of them (HKDF, chain keys, MAC, AES), and the thread hops, not the
 * arithmetic, were most of its cost here. Same algorithms, same bytes (the tests run the
 * library both ways against python-oldmemo).
 */
export function nodeWebCrypto(): LibsignalWebCrypto {
  return {
    getRandomValues: <T extends ArrayBufferView | null>(array: T): T => getRandomValues(array as never) as T,
    subtle: {
      async importKey(
        _format: string,
        key: ArrayBuffer | ArrayBufferView,
        algorithm: unknown,
      ): Promise<unknown> {
        return { algorithm: algorithmName(algorithm), bytes: Buffer.from(buf(key)) } satisfies RawKey
      },
      async sign(
        algorithm: unknown,
        key: unknown,
        data: ArrayBuffer | ArrayBufferView,
      ): Promise<ArrayBuffer> {
        const k = key as RawKey
        if (algorithmName(algorithm) !== 'HMAC' || k.algorithm !== 'HMAC')
          throw new Error('only HMAC-SHA-256 signs')
        return toArrayBuffer(createHmac('sha256', k.bytes).update(buf(data)).digest())
      },
      async encrypt(
        algorithm: unknown,
        key: unknown,
        data: ArrayBuffer | ArrayBufferView,
      ): Promise<ArrayBuffer> {
        const k = key as RawKey
        const iv = buf((algorithm as { iv: ArrayBufferView }).iv)
        if (algorithmName(algorithm) === 'AES-GCM') {
          // Web Crypto's AES-GCM: ciphertext ‖ 16-byte tag
          const c = createCipheriv(`aes-${k.bytes.length * 8}-gcm` as CipherGCMTypes, k.bytes, iv)
          const out = Buffer.concat([c.update(buf(data)), c.final(), c.getAuthTag()])
          return toArrayBuffer(out)
        }
        if (algorithmName(algorithm) !== 'AES-CBC') throw new Error('only AES-CBC and AES-GCM encrypt')
        const c = createCipheriv(`aes-${k.bytes.length * 8}-cbc`, k.bytes, iv)
        return toArrayBuffer(Buffer.concat([c.update(buf(data)), c.final()]))
      },
      async decrypt(
        algorithm: unknown,
        key: unknown,
        data: ArrayBuffer | ArrayBufferView,
      ): Promise<ArrayBuffer> {
        const k = key as RawKey
        const iv = buf((algorithm as { iv: ArrayBufferView }).iv)
        if (algorithmName(algorithm) === 'AES-GCM') {
          const sealed = buf(data)
          if (sealed.length < 16) throw new Error('AES-GCM input shorter than its tag')
          const d = createDecipheriv(`aes-${k.bytes.length * 8}-gcm` as CipherGCMTypes, k.bytes, iv)
          d.setAuthTag(sealed.subarray(sealed.length - 16))
          return toArrayBuffer(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]))
        }
        if (algorithmName(algorithm) !== 'AES-CBC') throw new Error('only AES-CBC and AES-GCM decrypt')
        const d = createDecipheriv(`aes-${k.bytes.length * 8}-cbc`, k.bytes, iv)
        return toArrayBuffer(Buffer.concat([d.update(buf(data)), d.final()]))
      },
      async digest(algorithm: unknown, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer> {
        const name = algorithmName(algorithm).toLowerCase().replace('-', '')
        return toArrayBuffer(createHash(name).update(buf(data)).digest())
      },
    },
  }
}

/** Both Node providers, to spread into `legacyOmemoBackend({ ...nodeLibsignal(), … })`. */
export function nodeLibsignal(): { readonly curve: LegacyCurve; readonly webCrypto: LibsignalWebCrypto } {
  return { curve: nodeCurve(), webCrypto: nodeWebCrypto() }
}
