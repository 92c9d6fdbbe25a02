/**
 * `@vouch/backend-omemo-legacy/node`: the Node provider of the curve operations. X25519 key
 * pairs and agreements run in `node:crypto` (OpenSSL, ~0.03 ms each here); XEdDSA signatures,
 * which `node:crypto` does not offer, stay with libsignal's own implementation
 * (curve25519-typescript: libsignal-protocol-c's `curve25519_sign`/`curve25519_verify` compiled
 * to asm.js), so no signature code is ours. Signatures are only made and checked for signed pre
 * keys (bundle creation, rotation, session setup), never per message.
 *
 * Node-only on purpose: the package root imports nothing from `node:`, so a browser build can
 * pass its own {@link LegacyCurve} (or none: the library default).
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto'
import { AsyncCurve25519Wrapper } from '@privacyresearch/curve25519-typescript'
import type { LegacyCurve, RawKeyPair } from './curve.ts'

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
