/**
 * One OMEMO 2 session with one remote device: X3DH + the Double Ratchet, the key exchange that
 * rides on every message until the peer answered (XEP-0384 v0.9 §"Key exchange"), and a compact
 * serialization for the store.
 */
import { base64 } from '@scure/base'
import { DecryptionError } from '@vouch/tm-core'
import type { CryptoProvider } from './provider.ts'
import { decodeOmemoKeyExchange, encodeOmemoKeyExchange, type OmemoKeyExchange } from './proto.ts'
import {
  DEFAULT_RATCHET_LIMITS,
  initActive,
  initPassive,
  type RatchetLimits,
  type RatchetState,
  ratchetDecrypt,
  ratchetEncrypt,
} from './ratchet.ts'
import {
  type IdentityKeyPair,
  type PreKeyBundle,
  type X25519KeyPair,
  x3dhActive,
  x3dhPassive,
  x25519KeyPair,
} from './x3dh.ts'

/** The key exchange fields of OMEMOKeyExchange, without the message. */
export interface KeyExchangeInfo {
  readonly pkId: number
  readonly spkId: number
  readonly ik: Uint8Array
  readonly ek: Uint8Array
}

export interface Session {
  readonly initiation: 'active' | 'passive'
  /** the peer's Ed25519 identity key */
  readonly peerIk: Uint8Array
  /** AD = IK_initiator ‖ IK_responder */
  readonly ad: Uint8Array
  /** active: the key exchange we attach; passive: the one that built the session */
  readonly kex: KeyExchangeInfo
  /** active: the peer answered (stop attaching kex); passive: always true */
  confirmed: boolean
  readonly ratchet: RatchetState
}

/**
 * Starts a session with a device from its bundle (we are the initiator). `choice` fixes the
 * pre key and the random keys (known-answer tests); by default they are random.
 */
export async function createActiveSession(
  p: CryptoProvider,
  own: IdentityKeyPair,
  bundle: PreKeyBundle,
  choice: {
    readonly preKeyId?: number
    readonly ephemeral?: X25519KeyPair
    readonly ratchet?: X25519KeyPair
  } = {},
): Promise<Session> {
  if (bundle.preKeys.length === 0) throw new DecryptionError('OMEMO-KEX', 'the bundle holds no pre key')
  const preKeyId =
    choice.preKeyId ?? (bundle.preKeys[randomIndex(p, bundle.preKeys.length)] as { id: number }).id
  // the two fresh key pairs side by side (an asynchronous provider makes them at once)
  const [ephemeral, ratchetKey] = await Promise.all([
    choice.ephemeral ?? x25519KeyPair(p),
    choice.ratchet ?? x25519KeyPair(p),
  ])
  const agreement = await x3dhActive(p, own, bundle, { preKeyId, ephemeral })
  const ratchet = await initActive(p, agreement.sk, bundle.spk, ratchetKey)
  return {
    initiation: 'active',
    peerIk: bundle.ik,
    ad: agreement.ad,
    kex: { pkId: agreement.pkId, spkId: agreement.spkId, ik: own.edPub, ek: agreement.ek },
    confirmed: false,
    ratchet,
  }
}

function randomIndex(p: CryptoProvider, n: number): number {
  const b = p.randomBytes(4)
  return (
    ((((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>>
      0) %
    n
  )
}

/** What one encrypted `<key/>` holds. */
export interface EncryptedKey {
  readonly bytes: Uint8Array
  /** true when `bytes` is an OMEMOKeyExchange (`kex='true'`) */
  readonly kex: boolean
}

/** Encrypts key material for the peer; attaches the key exchange until the peer answered. */
export function sessionEncrypt(p: CryptoProvider, s: Session, keyMaterial: Uint8Array): EncryptedKey {
  const message = ratchetEncrypt(p, s.ratchet, keyMaterial, s.ad)
  if (s.initiation === 'active' && !s.confirmed)
    return { bytes: encodeOmemoKeyExchange({ ...s.kex, message }), kex: true }
  return { bytes: message, kex: false }
}

/** Decrypts an OMEMOAuthenticatedMessage on an existing session (state changes only on success). */
export async function sessionDecrypt(
  p: CryptoProvider,
  s: Session,
  bytes: Uint8Array,
  limits: RatchetLimits = DEFAULT_RATCHET_LIMITS,
): Promise<Uint8Array> {
  const plaintext = await ratchetDecrypt(p, s.ratchet, bytes, s.ad, limits)
  s.confirmed = true
  return plaintext
}

export function parseKeyExchange(bytes: Uint8Array): OmemoKeyExchange {
  try {
    return decodeOmemoKeyExchange(bytes)
  } catch (e) {
    throw new DecryptionError('OMEMO-PROTO', `malformed OMEMOKeyExchange: ${(e as Error).message}`, {
      cause: e,
    })
  }
}

export function sameKeyExchange(a: KeyExchangeInfo, b: KeyExchangeInfo): boolean {
  return a.pkId === b.pkId && a.spkId === b.spkId && eq(a.ik, b.ik) && eq(a.ek, b.ek)
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Builds the responder's session from a received key exchange and decrypts its message. Nothing
 * is kept on failure (the caller stores the session only after this returns).
 */
export async function acceptKeyExchange(
  p: CryptoProvider,
  own: IdentityKeyPair,
  kex: OmemoKeyExchange,
  keys: { readonly spk: X25519KeyPair; readonly pkPriv: Uint8Array },
  limits: RatchetLimits = DEFAULT_RATCHET_LIMITS,
): Promise<{ readonly session: Session; readonly plaintext: Uint8Array }> {
  const { sk, ad } = await x3dhPassive(
    p,
    own,
    { spkPriv: keys.spk.priv, pkPriv: keys.pkPriv },
    kex.ik,
    kex.ek,
  )
  const session: Session = {
    initiation: 'passive',
    peerIk: kex.ik,
    ad,
    kex: { pkId: kex.pkId, spkId: kex.spkId, ik: kex.ik, ek: kex.ek },
    confirmed: true,
    ratchet: initPassive(sk, keys.spk),
  }
  const plaintext = await ratchetDecrypt(p, session.ratchet, kex.message, ad, limits)
  return { session, plaintext }
}

// ——— serialization (JSON, Base64 for bytes; versioned) ———

const b64 = (u: Uint8Array): string => base64.encode(u)
const unb64 = (s: unknown): Uint8Array => {
  if (typeof s !== 'string') throw new TypeError('bad session record')
  return base64.decode(s)
}
const opt = (s: unknown): Uint8Array | undefined => (s === null || s === undefined ? undefined : unb64(s))
const num = (v: unknown): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TypeError('bad session record')
  return v
}

export function serializeSession(s: Session): Uint8Array {
  const r = s.ratchet
  return new TextEncoder().encode(
    JSON.stringify({
      v: 1,
      i: s.initiation === 'active' ? 1 : 0,
      pik: b64(s.peerIk),
      ad: b64(s.ad),
      kex: [s.kex.pkId, s.kex.spkId, b64(s.kex.ik), b64(s.kex.ek)],
      c: s.confirmed ? 1 : 0,
      rk: b64(r.rk),
      dsk: b64(r.dhsPriv),
      dsp: b64(r.dhsPub),
      dr: r.dhr === undefined ? null : b64(r.dhr),
      cks: r.cks === undefined ? null : b64(r.cks),
      ckr: r.ckr === undefined ? null : b64(r.ckr),
      ns: r.ns,
      nr: r.nr,
      pn: r.pn,
      rs: r.receivedSinceSend,
      sk: r.skipped.map((k) => [b64(k.dh), k.n, b64(k.mk)]),
      pd: r.previousDhr.map(b64),
    }),
  )
}

export function deserializeSession(bytes: Uint8Array): Session {
  const o = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
  if (o.v !== 1) throw new TypeError('unknown session record version')
  const kex = o.kex as unknown[]
  return {
    initiation: o.i === 1 ? 'active' : 'passive',
    peerIk: unb64(o.pik),
    ad: unb64(o.ad),
    kex: { pkId: num(kex[0]), spkId: num(kex[1]), ik: unb64(kex[2]), ek: unb64(kex[3]) },
    confirmed: o.c === 1,
    ratchet: {
      rk: unb64(o.rk),
      dhsPriv: unb64(o.dsk),
      dhsPub: unb64(o.dsp),
      dhr: opt(o.dr),
      cks: opt(o.cks),
      ckr: opt(o.ckr),
      ns: num(o.ns),
      nr: num(o.nr),
      pn: num(o.pn),
      receivedSinceSend: num(o.rs),
      skipped: (o.sk as unknown[][]).map((k) => ({ dh: unb64(k[0]), n: num(k[1]), mk: unb64(k[2]) })),
      previousDhr: (o.pd as unknown[]).map(unb64),
    },
  }
}
