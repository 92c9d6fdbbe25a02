/**
 * The Curve25519 operations libsignal-protocol-typescript runs (X25519 key pairs and agreements,
 * XEdDSA signatures), as one small provider interface. The library keeps one curve per process
 * (`setCurve`); {@link installCurve} hands it ours. Without it, the library's own asm.js curve
 * (curve25519-typescript, compiled from libsignal's C code) does everything: correct, but about
 * 2.8 ms per X25519 on this machine kind. `@vouch/backend-omemo-legacy/node` supplies a
 * `node:crypto` X25519 (~0.03 ms) that keeps the library's XEdDSA; a browser build can supply
 * its own (WebCrypto X25519) without touching this module.
 */
import { AsyncCurve25519Wrapper } from '@privacyresearch/curve25519-typescript'
import { setCurve, setWebCrypto } from '@privacyresearch/libsignal-protocol-typescript'

/** A Curve25519 key pair, raw: 32-byte private scalar (clamped) and 32-byte public u-coordinate. */
export interface RawKeyPair {
  readonly pubKey: ArrayBuffer
  readonly privKey: ArrayBuffer
}

/** The curve operations the Signal protocol needs (raw 32-byte keys, no 0x05 prefix). */
export interface LegacyCurve {
  /** a short name for figures and logs (`libsignal-asmjs`, `node-x25519`) */
  readonly name: string
  /** the public key of `privKey` (clamped as RFC 7748 says) */
  keyPair(privKey: ArrayBuffer): Promise<RawKeyPair>
  /** X25519(privKey, pubKey) */
  sharedSecret(pubKey: ArrayBuffer, privKey: ArrayBuffer): Promise<ArrayBuffer>
  /** an XEdDSA signature (64 bytes, the Edwards sign bit in bit 7 of byte 63, as libsignal does) */
  sign(privKey: ArrayBuffer, message: ArrayBuffer): Promise<ArrayBuffer>
  /** true when `sig` is a valid XEdDSA signature of `message` by the Curve25519 key `pubKey` */
  verify(pubKey: ArrayBuffer, message: ArrayBuffer, sig: ArrayBuffer): Promise<boolean>
}

/**
 * The part of Web Crypto libsignal-protocol-typescript uses (HMAC-SHA-256, AES-CBC, SHA-512,
 * `getRandomValues`) and our payload (AES-GCM); default `globalThis.crypto`.
 */
export interface LibsignalWebCrypto {
  getRandomValues<T extends ArrayBufferView | null>(array: T): T
  readonly subtle: {
    importKey(
      format: string,
      key: ArrayBuffer | ArrayBufferView,
      algorithm: unknown,
      extractable: boolean,
      usages: string[],
    ): Promise<unknown>
    sign(algorithm: unknown, key: unknown, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer>
    encrypt(algorithm: unknown, key: unknown, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer>
    decrypt(algorithm: unknown, key: unknown, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer>
    digest(algorithm: unknown, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer>
  }
}

let installedWebCrypto: LibsignalWebCrypto | undefined

/** The Web Crypto in use: the installed one, else `globalThis.crypto` (our payload's AES-GCM runs on it too). */
export function webCryptoInUse(): LibsignalWebCrypto {
  return installedWebCrypto ?? (globalThis.crypto as unknown as LibsignalWebCrypto)
}

/** Makes `wc` the Web Crypto libsignal-protocol-typescript uses in this process (its `setWebCrypto`). */
export function installWebCrypto(wc: LibsignalWebCrypto): void {
  if (installedWebCrypto === wc) return
  setWebCrypto(wc as never)
  installedWebCrypto = wc
}

let installed: LegacyCurve | undefined

/**
 * Makes `curve` the one libsignal-protocol-typescript uses in this process (its `setCurve`).
 * Idempotent for the same object. The library's verify convention (a truthy result means
 * *invalid*) is adapted here, in one place.
 */
export function installCurve(curve: LegacyCurve): void {
  if (installed === curve) return
  setCurve({
    keyPair: (priv: ArrayBuffer) => curve.keyPair(priv),
    sharedSecret: (pub: ArrayBuffer, priv: ArrayBuffer) => curve.sharedSecret(pub, priv),
    sign: (priv: ArrayBuffer, msg: ArrayBuffer) => curve.sign(priv, msg),
    // libsignal's curve25519_verify returns non-zero for a bad signature; the library expects that
    verify: async (pub: ArrayBuffer, msg: ArrayBuffer, sig: ArrayBuffer) =>
      !(await curve.verify(pub, msg, sig)),
  })
  installed = curve
}

/** The curve installed by {@link installCurve}, if any (else the library's default). */
export function installedCurve(): LegacyCurve | undefined {
  return installed
}

let fallback: AsyncCurve25519Wrapper | undefined

/**
 * XEdDSA verification with the curve libsignal uses (the installed one, else the library's
 * default): `pub` is the raw 32-byte Curve25519 key.
 */
export async function verifySignature(
  pub: Uint8Array,
  message: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  if (pub.length !== 32 || sig.length !== 64) return false
  const p = copy(pub)
  const m = copy(message)
  const s = copy(sig)
  if (installed !== undefined) return installed.verify(p, m, s)
  fallback ??= new AsyncCurve25519Wrapper()
  // curve25519_verify answers non-zero for an invalid signature
  return !(await fallback.verify(p, m, s))
}

/**
 * The key pair of a Curve25519 private key with the curve libsignal uses (the installed one, else
 * the library's default): `priv` clamped (RFC 7748), `pub` the raw 32-byte u-coordinate.
 */
export async function curveKeyPair(priv: Uint8Array): Promise<{ pub: Uint8Array; priv: Uint8Array }> {
  if (installed === undefined) fallback ??= new AsyncCurve25519Wrapper()
  const kp = await (installed ?? (fallback as AsyncCurve25519Wrapper)).keyPair(copy(priv))
  return { pub: new Uint8Array(kp.pubKey), priv: new Uint8Array(kp.privKey) }
}

function copy(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer
}
