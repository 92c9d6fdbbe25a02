/**
 * One OMEMO 2 session with one remote device: X3DH + the Double Ratchet, the key exchange that
 * rides on every message until the peer answered (XEP-0384 v0.9 §"Key exchange"), and a compact
 * serialization for the store.
 */
import { DecryptionError } from '@vouch/tm-core'
import { decodeOmemoKeyExchange, encodeOmemoKeyExchange } from './proto.js'
import { DEFAULT_RATCHET_LIMITS, initActive, initPassive, ratchetDecrypt, ratchetEncrypt } from './ratchet.js'
import { x3dhActive, x3dhPassive, x25519KeyPair } from './x3dh.js'
/**
 * Starts a session with a device from its bundle (we are the initiator). `choice` fixes the
 * pre key and the random keys (known-answer tests); by default they are random.
 */
export function createActiveSession(p, own, bundle, choice = {}) {
  if (bundle.preKeys.length === 0) throw new DecryptionError('OMEMO-KEX', 'the bundle holds no pre key')
  const preKeyId = choice.preKeyId ?? bundle.preKeys[randomIndex(p, bundle.preKeys.length)].id
  const ephemeral = choice.ephemeral ?? x25519KeyPair(p)
  const agreement = x3dhActive(p, own, bundle, { preKeyId, ephemeral })
  const ratchet = initActive(p, agreement.sk, bundle.spk, choice.ratchet ?? x25519KeyPair(p))
  return {
    initiation: 'active',
    peerIk: bundle.ik,
    ad: agreement.ad,
    kex: { pkId: agreement.pkId, spkId: agreement.spkId, ik: own.edPub, ek: agreement.ek },
    confirmed: false,
    ratchet,
  }
}
function randomIndex(p, n) {
  const b = p.randomBytes(4)
  return (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) % n
}
/** Encrypts key material for the peer; attaches the key exchange until the peer answered. */
export function sessionEncrypt(p, s, keyMaterial) {
  const message = ratchetEncrypt(p, s.ratchet, keyMaterial, s.ad)
  if (s.initiation === 'active' && !s.confirmed)
    return { bytes: encodeOmemoKeyExchange({ ...s.kex, message }), kex: true }
  return { bytes: message, kex: false }
}
/** Decrypts an OMEMOAuthenticatedMessage on an existing session (state changes only on success). */
export function sessionDecrypt(p, s, bytes, limits = DEFAULT_RATCHET_LIMITS) {
  const plaintext = ratchetDecrypt(p, s.ratchet, bytes, s.ad, limits)
  s.confirmed = true
  return plaintext
}
export function parseKeyExchange(bytes) {
  try {
    return decodeOmemoKeyExchange(bytes)
  } catch (e) {
    throw new DecryptionError('OMEMO-PROTO', `malformed OMEMOKeyExchange: ${e.message}`, {
      cause: e,
    })
  }
}
export function sameKeyExchange(a, b) {
  return a.pkId === b.pkId && a.spkId === b.spkId && eq(a.ik, b.ik) && eq(a.ek, b.ek)
}
function eq(a, b) {
  return Buffer.compare(a, b) === 0
}
/**
 * Builds the responder's session from a received key exchange and decrypts its message. Nothing
 * is kept on failure (the caller stores the session only after this returns).
 */
export function acceptKeyExchange(p, own, kex, keys, limits = DEFAULT_RATCHET_LIMITS) {
  const { sk, ad } = x3dhPassive(p, own, { spkPriv: keys.spk.priv, pkPriv: keys.pkPriv }, kex.ik, kex.ek)
  const session = {
    initiation: 'passive',
    peerIk: kex.ik,
    ad,
    kex: { pkId: kex.pkId, spkId: kex.spkId, ik: kex.ik, ek: kex.ek },
    confirmed: true,
    ratchet: initPassive(sk, keys.spk),
  }
  const plaintext = ratchetDecrypt(p, session.ratchet, kex.message, ad, limits)
  return { session, plaintext }
}
// ——— serialization (JSON, Base64 for bytes; versioned) ———
const b64 = (u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64')
const unb64 = (s) => {
  if (typeof s !== 'string') throw new TypeError('bad session record')
  return new Uint8Array(Buffer.from(s, 'base64'))
}
const opt = (s) => (s === null || s === undefined ? undefined : unb64(s))
const num = (v) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TypeError('bad session record')
  return v
}
export function serializeSession(s) {
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
export function deserializeSession(bytes) {
  const o = JSON.parse(new TextDecoder().decode(bytes))
  if (o.v !== 1) throw new TypeError('unknown session record version')
  const kex = o.kex
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
      skipped: o.sk.map((k) => ({ dh: unb64(k[0]), n: num(k[1]), mk: unb64(k[2]) })),
      previousDhr: o.pd.map(unb64),
    },
  }
}
//# sourceMappingURL=session.js.map
