/**
 * The Double Ratchet (Signal spec rev. 1) with OMEMO 2's choices (XEP-0384 v0.9 §"Double
 * Ratchet"): root step `HKDF(salt = root key, ikm = DH output, "OMEMO Root Chain", 64)`, chain
 * step `mk = HMAC(ck, 0x01)`, `ck' = HMAC(ck, 0x02)`, per message
 * `HKDF(mk, zero salt, "OMEMO Message Key Material", 80)` → AES-256-CBC key ‖ HMAC key ‖ IV, and
 * a MAC = HMAC-SHA-256(auth key, AD ‖ serialized OMEMOMessage) truncated to 16 bytes, computed
 * once over the exact bytes sent.
 *
 * Decryption is transactional: every new value is computed into locals and written into the
 * state only after the MAC verified and the ciphertext decrypted, so a failure (tampered MAC,
 * replay, too many skipped keys) leaves the state exactly as it was.
 */
import { DecryptionError } from '@vouch/tm-core'
import type { CryptoProvider } from './provider.ts'
import {
  decodeOmemoAuthenticatedMessage,
  decodeOmemoMessage,
  encodeOmemoAuthenticatedMessage,
  encodeOmemoMessage,
  type OmemoMessage,
} from './proto.ts'

const enc = new TextEncoder()
const ROOT_INFO = enc.encode('OMEMO Root Chain')
const MESSAGE_INFO = enc.encode('OMEMO Message Key Material')
const ZERO_SALT = new Uint8Array(32)
const ONE = Uint8Array.of(0x01)
const TWO = Uint8Array.of(0x02)

/** Limits of one session (a security policy: safe defaults, overridable per backend). */
export interface RatchetLimits {
  /** most message keys skipped by one message (Signal's MAX_SKIP); default 1000 */
  readonly maxSkip: number
  /** most skipped message keys kept per session (oldest dropped first); default 1000 */
  readonly maxSkippedKeys: number
}

export const DEFAULT_RATCHET_LIMITS: RatchetLimits = Object.freeze({ maxSkip: 1000, maxSkippedKeys: 1000 })

export interface SkippedKey {
  readonly dh: Uint8Array
  readonly n: number
  readonly mk: Uint8Array
}

/** The whole mutable state of one Double Ratchet session. */
export interface RatchetState {
  rk: Uint8Array
  dhsPriv: Uint8Array
  dhsPub: Uint8Array
  /** the peer's current ratchet key; undefined on the responder until the first message */
  dhr: Uint8Array | undefined
  cks: Uint8Array | undefined
  ckr: Uint8Array | undefined
  ns: number
  nr: number
  pn: number
  /** skipped message keys, oldest first */
  skipped: SkippedKey[]
  /** the peer's previous ratchet keys (newest last, a few), to tell replays from garbage */
  previousDhr: Uint8Array[]
  /** messages received since we last sent one (heartbeat after 53, XEP-0384 §"Heartbeat") */
  receivedSinceSend: number
}

const MAX_PREVIOUS_DHR = 8

function kdfRoot(p: CryptoProvider, rk: Uint8Array, dh: Uint8Array): [Uint8Array, Uint8Array] {
  const out = p.hkdf(dh, rk, ROOT_INFO, 64)
  return [out.subarray(0, 32), out.subarray(32, 64)]
}

function kdfChain(p: CryptoProvider, ck: Uint8Array): [Uint8Array, Uint8Array] {
  return [p.hmac(ck, TWO), p.hmac(ck, ONE)] // [next chain key, message key]
}

function messageKeys(
  p: CryptoProvider,
  mk: Uint8Array,
): { key: Uint8Array; auth: Uint8Array; iv: Uint8Array } {
  const out = p.hkdf(mk, ZERO_SALT, MESSAGE_INFO, 80)
  return { key: out.subarray(0, 32), auth: out.subarray(32, 64), iv: out.subarray(64, 80) }
}

function mac(p: CryptoProvider, auth: Uint8Array, ad: Uint8Array, message: Uint8Array): Uint8Array {
  const data = new Uint8Array(ad.length + message.length)
  data.set(ad, 0)
  data.set(message, ad.length)
  return p.hmac(auth, data).subarray(0, 16)
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The initiator's state: it knows the peer's signed pre key and sends first. */
export async function initActive(
  p: CryptoProvider,
  sk: Uint8Array,
  peerSpk: Uint8Array,
  ratchet: { readonly priv: Uint8Array; readonly pub: Uint8Array },
): Promise<RatchetState> {
  const [rk, cks] = kdfRoot(p, sk, await p.x25519(ratchet.priv, peerSpk))
  return {
    rk,
    dhsPriv: ratchet.priv,
    dhsPub: ratchet.pub,
    dhr: peerSpk,
    cks,
    ckr: undefined,
    ns: 0,
    nr: 0,
    pn: 0,
    skipped: [],
    previousDhr: [],
    receivedSinceSend: 0,
  }
}

/** The responder's state: its signed pre key is the first ratchet key; it receives first. */
export function initPassive(
  sk: Uint8Array,
  spk: { readonly priv: Uint8Array; readonly pub: Uint8Array },
): RatchetState {
  return {
    rk: sk,
    dhsPriv: spk.priv,
    dhsPub: spk.pub,
    dhr: undefined,
    cks: undefined,
    ckr: undefined,
    ns: 0,
    nr: 0,
    pn: 0,
    skipped: [],
    previousDhr: [],
    receivedSinceSend: 0,
  }
}

/**
 * Encrypts `plaintext` (OMEMO: 48 bytes of key material, or 32 zero bytes for an empty message)
 * and returns the serialized OMEMOAuthenticatedMessage. Advances the sending chain.
 */
export function ratchetEncrypt(
  p: CryptoProvider,
  s: RatchetState,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  if (s.cks === undefined) throw new RangeError('this session cannot send before it received a message')
  const [ck, mk] = kdfChain(p, s.cks)
  const k = messageKeys(p, mk)
  const ciphertext = p.aesCbcEncrypt(k.key, k.iv, plaintext)
  const message = encodeOmemoMessage({ n: s.ns, pn: s.pn, dhPub: s.dhsPub, ciphertext })
  const out = encodeOmemoAuthenticatedMessage({ mac: mac(p, k.auth, ad, message), message })
  s.cks = ck
  s.ns++
  s.receivedSinceSend = 0
  return out
}

/** Reads the header of a serialized OMEMOAuthenticatedMessage (for routing; not authenticated). */
export function parseAuthenticated(bytes: Uint8Array): {
  mac: Uint8Array
  message: Uint8Array
  header: OmemoMessage
} {
  try {
    const a = decodeOmemoAuthenticatedMessage(bytes)
    const header = decodeOmemoMessage(a.message)
    if (header.ciphertext === undefined) throw new RangeError('OMEMOMessage without ciphertext')
    return { mac: a.mac, message: a.message, header }
  } catch (e) {
    throw new DecryptionError('OMEMO-PROTO', `malformed OMEMOAuthenticatedMessage: ${(e as Error).message}`, {
      cause: e,
    })
  }
}

function open(
  p: CryptoProvider,
  mk: Uint8Array,
  ad: Uint8Array,
  parsed: { mac: Uint8Array; message: Uint8Array; header: OmemoMessage },
): Uint8Array {
  const k = messageKeys(p, mk)
  if (!p.equal(mac(p, k.auth, ad, parsed.message), parsed.mac))
    throw new DecryptionError('OMEMO-MAC', 'the message authentication code does not match')
  try {
    return p.aesCbcDecrypt(k.key, k.iv, parsed.header.ciphertext as Uint8Array)
  } catch (e) {
    throw new DecryptionError('OMEMO-MAC', 'the authenticated ciphertext does not decrypt', { cause: e })
  }
}

/**
 * Decrypts a serialized OMEMOAuthenticatedMessage. The state changes only on success.
 * @throws DecryptionError `OMEMO-PROTO` malformed, `OMEMO-MAC` authentication failed,
 *   `REPLAY` a message whose key was already used, `OMEMO-SKIP` more than `maxSkip` skipped keys
 */
export async function ratchetDecrypt(
  p: CryptoProvider,
  s: RatchetState,
  bytes: Uint8Array,
  ad: Uint8Array,
  limits: RatchetLimits = DEFAULT_RATCHET_LIMITS,
): Promise<Uint8Array> {
  const parsed = parseAuthenticated(bytes)
  const h = parsed.header

  // 1. a skipped message key
  if (s.skipped.length > 0) {
    const i = s.skipped.findIndex((k) => k.n === h.n && same(k.dh, h.dhPub))
    if (i >= 0) {
      const plaintext = open(p, (s.skipped[i] as SkippedKey).mk, ad, parsed)
      s.skipped.splice(i, 1)
      s.receivedSinceSend++
      return plaintext
    }
  }

  const newSkipped: SkippedKey[] = []
  const skipTo = (ck: Uint8Array, dh: Uint8Array, from: number, until: number): Uint8Array => {
    if (until - from > limits.maxSkip)
      throw new DecryptionError(
        'OMEMO-SKIP',
        `${until - from} skipped message keys, over the limit of ${limits.maxSkip}`,
      )
    let c = ck
    for (let n = from; n < until; n++) {
      const [next, mk] = kdfChain(p, c)
      newSkipped.push({ dh, n, mk })
      c = next
    }
    return c
  }

  if (same(s.dhr, h.dhPub) && s.ckr !== undefined) {
    // 2. the current receiving chain
    if (h.n < s.nr) throw new DecryptionError('REPLAY', `message ${h.n} of this chain was already decrypted`)
    const ck = skipTo(s.ckr, h.dhPub, s.nr, h.n)
    const [next, mk] = kdfChain(p, ck)
    const plaintext = open(p, mk, ad, parsed)
    s.ckr = next
    s.nr = h.n + 1
    commitSkipped(s, newSkipped, limits)
    s.receivedSinceSend++
    return plaintext
  }

  if (s.previousDhr.some((d) => same(d, h.dhPub)))
    throw new DecryptionError('REPLAY', 'message of an earlier receiving chain whose key was already used')

  // 3. a new ratchet key: finish the old receiving chain up to pn, then two root steps
  if (s.ckr !== undefined && s.dhr !== undefined) skipTo(s.ckr, s.dhr, s.nr, h.pn)
  let ckr: Uint8Array
  let rk: Uint8Array
  try {
    ;[rk, ckr] = kdfRoot(p, s.rk, await p.x25519(s.dhsPriv, h.dhPub))
  } catch (e) {
    throw new DecryptionError('OMEMO-MAC', `bad ratchet key: ${(e as Error).message}`, { cause: e })
  }
  const ck = skipTo(ckr, h.dhPub, 0, h.n)
  const [nextCkr, mk] = kdfChain(p, ck)
  const plaintext = open(p, mk, ad, parsed)
  // authenticated: commit, with a fresh sending ratchet key (its public half and the DH with it
  // side by side: an asynchronous provider runs them at once)
  const dhsPriv = p.randomBytes(32)
  const [dhsPub, dh2] = await Promise.all([p.x25519PublicKey(dhsPriv), p.x25519(dhsPriv, h.dhPub)])
  const [rk2, cks] = kdfRoot(p, rk, dh2)
  if (s.dhr !== undefined) {
    s.previousDhr.push(s.dhr)
    if (s.previousDhr.length > MAX_PREVIOUS_DHR) s.previousDhr.shift()
  }
  s.pn = s.ns
  s.ns = 0
  s.dhr = h.dhPub
  s.ckr = nextCkr
  s.nr = h.n + 1
  s.dhsPriv = dhsPriv
  s.dhsPub = dhsPub
  s.rk = rk2
  s.cks = cks
  commitSkipped(s, newSkipped, limits)
  s.receivedSinceSend++
  return plaintext
}

function commitSkipped(s: RatchetState, keys: readonly SkippedKey[], limits: RatchetLimits): void {
  if (keys.length === 0) return
  s.skipped.push(...keys)
  const over = s.skipped.length - limits.maxSkippedKeys
  if (over > 0) s.skipped.splice(0, over)
}
