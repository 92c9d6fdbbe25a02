/**
 * XEP-0384: OMEMO Encryption — implements v0.3.0 (`eu.siacs.conversations.axolotl`), the version
 * deployed clients speak (Conversations, Dino, Gajim, Monal, Converse.js, Profanity).
 * https://xmpp.org/extensions/attic/xep-0384-0.3.0.html
 *
 * Pure XML builders and parsers: `<encrypted/>` (`<header sid><key rid [prekey='true']/>…<iv/>
 * </header><payload/>`), the bundle and the device list (`<list><device id/></list>`).
 * python-oldmemo 1.0.3 reads `prekey='false'` as true (`bool("false")`): we never emit it, the
 * attribute is left out when false.
 */
import { base64 } from '@scure/base'
import type { Element } from '@vouch/tm-core'
import { DecryptionError, LimitExceededError, Element as XmlElement } from '@vouch/tm-core'

export const NS_AXOLOTL = 'eu.siacs.conversations.axolotl'
export const NODE_DEVICELIST = 'eu.siacs.conversations.axolotl.devicelist'
export const NODE_BUNDLES_PREFIX = 'eu.siacs.conversations.axolotl.bundles:'
/** the bundle node of a device: `eu.siacs.conversations.axolotl.bundles:<device id>` */
export const bundleNode = (deviceId: number): string => `${NODE_BUNDLES_PREFIX}${deviceId}`

/** Device ids are 1 … 2³¹−1 (Conversations and libsignal use positive 31-bit registration ids). */
export const MAX_DEVICE_ID = 0x7fffffff

/** Caps on received elements (a security policy, overridable per backend). */
export interface LegacyXmlLimits {
  /** `<key/>` elements per message; default 1024 */
  readonly maxKeys: number
  /** bytes of one decoded `<key/>`; default 4096 */
  readonly maxKeyBytes: number
  /** bytes of the decoded `<payload/>`; default 256 KiB */
  readonly maxPayloadBytes: number
  /** pre keys in a bundle and devices in a list; default 1024 */
  readonly maxListEntries: number
}

export const DEFAULT_LEGACY_XML_LIMITS: LegacyXmlLimits = Object.freeze({
  maxKeys: 1024,
  maxKeyBytes: 4096,
  maxPayloadBytes: 256 * 1024,
  maxListEntries: 1024,
})

const B64 = /^[A-Za-z0-9+/]*={0,2}$/

export const b64 = (u: Uint8Array): string => base64.encode(u)

function text(el: Element): string {
  let s = ''
  for (const c of el.children) if (typeof c === 'string') s += c
  return s
}

function children(el: Element, name: string): Element[] {
  return el.children.filter((c): c is Element => typeof c !== 'string' && c.name === name)
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Whether the bits a padded Base64 text leaves unused are zero (RFC 4648 §3.5: canonical). */
function canonicalPadding(s: string): boolean {
  const n = s.length
  if (s.charCodeAt(n - 2) === 61) return (ALPHABET.indexOf(s.charAt(n - 3)) & 0x0f) === 0 // '=='
  if (s.charCodeAt(n - 1) === 61) return (ALPHABET.indexOf(s.charAt(n - 2)) & 0x03) === 0 // '='
  return true
}

/**
 * Decodes Base64 text (whitespace allowed), with a size cap. Strict: the standard alphabet,
 * padded, canonical (unused bits zero); checked here, then the platform's `atob` (browsers and
 * Node) decodes it — about five times faster than a JavaScript decoder on a message's keys and payload.
 */
export function decodeBase64(
  value: string,
  what: string,
  maxBytes: number,
  rule = 'OMEMO03-XML',
): Uint8Array {
  const s = /\s/.test(value) ? value.replace(/\s+/g, '') : value
  if (s.length % 4 !== 0 || !B64.test(s)) throw new DecryptionError(rule, `${what} is not Base64`)
  if ((s.length / 4) * 3 > maxBytes + 2)
    throw new LimitExceededError('LIMIT', `${what} bytes`, maxBytes, Math.floor((s.length / 4) * 3))
  if (s.length > 0 && !canonicalPadding(s)) throw new DecryptionError(rule, `${what} is not canonical Base64`)
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function parseDeviceId(value: string | undefined, what: string, rule = 'OMEMO03-XML'): number {
  if (value === undefined || !/^[0-9]{1,10}$/.test(value))
    throw new DecryptionError(rule, `${what} is not a device id`)
  const n = Number(value)
  if (n < 1 || n > MAX_DEVICE_ID) throw new DecryptionError(rule, `${what} ${n} is outside 1 … 2³¹−1`)
  return n
}

function parseUint32(v: string | undefined, what: string, rule: string): number {
  if (v === undefined || !/^[0-9]{1,10}$/.test(v) || Number(v) > 0xffffffff)
    throw new DecryptionError(rule, `${what} is not a uint32`)
  return Number(v)
}

// ——— <encrypted/> ———

export interface LegacyKeyElement {
  readonly rid: number
  /** the content is a PreKeyWhisperMessage (a key exchange) */
  readonly prekey: boolean
  readonly data: Uint8Array
}

export interface LegacyEncryptedElement {
  readonly sid: number
  readonly keys: readonly LegacyKeyElement[]
  /** the AES-GCM IV: 12 bytes (Conversations and python-oldmemo); 16 from old clients is read too */
  readonly iv: Uint8Array
  /** absent for an empty message (key transport: key exchange answer, heartbeat) */
  readonly payload?: Uint8Array
}

export function buildEncrypted(m: LegacyEncryptedElement): Element {
  const el = new XmlElement('encrypted', { xmlns: NS_AXOLOTL })
  const header = el.c('header', { sid: String(m.sid) })
  for (const key of m.keys)
    header
      .c('key', key.prekey ? { rid: String(key.rid), prekey: 'true' } : { rid: String(key.rid) })
      .t(b64(key.data))
  header.c('iv').t(b64(m.iv))
  if (m.payload !== undefined) el.c('payload').t(b64(m.payload))
  return el
}

/** @throws DecryptionError `OMEMO03-XML`, LimitExceededError `LIMIT` */
export function parseEncrypted(
  el: Element,
  limits: LegacyXmlLimits = DEFAULT_LEGACY_XML_LIMITS,
): LegacyEncryptedElement {
  const R = 'OMEMO03-XML'
  if (el.name !== 'encrypted' || el.attrs.xmlns !== NS_AXOLOTL)
    throw new DecryptionError(R, `not an <encrypted xmlns='${NS_AXOLOTL}'/> element`)
  const headers = children(el, 'header')
  const payloads = children(el, 'payload')
  if (headers.length !== 1) throw new DecryptionError(R, 'exactly one <header/> is required')
  if (payloads.length > 1) throw new DecryptionError(R, 'more than one <payload/>')
  const header = headers[0] as Element
  const sid = parseDeviceId(header.attrs.sid, 'header sid')
  const ivs = children(header, 'iv')
  if (ivs.length !== 1) throw new DecryptionError(R, 'exactly one <iv/> is required')
  const iv = decodeBase64(text(ivs[0] as Element), '<iv/>', 16)
  if (iv.length !== 12 && iv.length !== 16) throw new DecryptionError(R, `an <iv/> of ${iv.length} bytes`)
  const keys: LegacyKeyElement[] = []
  for (const key of header.children) {
    if (typeof key === 'string' || key.name !== 'key') continue
    if (keys.length >= limits.maxKeys)
      throw new LimitExceededError('LIMIT', '<key/> elements', limits.maxKeys, keys.length + 1)
    const p = key.attrs.prekey
    keys.push({
      rid: parseDeviceId(key.attrs.rid, 'key rid'),
      // XML Schema boolean: 'true' | '1' | 'false' | '0'
      prekey: p === 'true' || p === '1',
      data: decodeBase64(text(key), '<key/>', limits.maxKeyBytes),
    })
  }
  const payload = payloads[0]
  return payload === undefined
    ? { sid, keys, iv }
    : { sid, keys, iv, payload: decodeBase64(text(payload), '<payload/>', limits.maxPayloadBytes) }
}

// ——— bundles ———

/** A bundle; keys are the 33-byte serialized form (0x05 ‖ 32-byte Curve25519 key). */
export interface LegacyBundle {
  readonly signedPreKeyId: number
  readonly signedPreKey: Uint8Array
  readonly signedPreKeySignature: Uint8Array
  readonly identityKey: Uint8Array
  readonly preKeys: readonly { readonly id: number; readonly key: Uint8Array }[]
}

export function buildBundle(b: LegacyBundle): Element {
  const el = new XmlElement('bundle', { xmlns: NS_AXOLOTL })
  el.c('signedPreKeyPublic', { signedPreKeyId: String(b.signedPreKeyId) }).t(b64(b.signedPreKey))
  el.c('signedPreKeySignature').t(b64(b.signedPreKeySignature))
  el.c('identityKey').t(b64(b.identityKey))
  const pks = el.c('prekeys')
  for (const pk of b.preKeys) pks.c('preKeyPublic', { preKeyId: String(pk.id) }).t(b64(pk.key))
  return el
}

function one(el: Element, name: string, rule: string): Element {
  const found = children(el, name)
  if (found.length !== 1) throw new DecryptionError(rule, `<${el.name}/> needs exactly one <${name}/>`)
  return found[0] as Element
}

/** A serialized public key: 0x05 ‖ 32 bytes (a bare 32-byte key is given the prefix). */
export function publicKey33(bytes: Uint8Array, what: string, rule: string): Uint8Array {
  if (bytes.length === 33 && bytes[0] === 0x05) return bytes
  if (bytes.length === 32) {
    const out = new Uint8Array(33)
    out[0] = 0x05
    out.set(bytes, 1)
    return out
  }
  throw new DecryptionError(rule, `${what} is not a Curve25519 public key (0x05 ‖ 32 bytes)`)
}

/** @throws DecryptionError `OMEMO03-BUNDLE`, LimitExceededError `LIMIT` */
export function parseBundle(el: Element, limits: LegacyXmlLimits = DEFAULT_LEGACY_XML_LIMITS): LegacyBundle {
  const R = 'OMEMO03-BUNDLE'
  if (el.name !== 'bundle' || el.attrs.xmlns !== NS_AXOLOTL)
    throw new DecryptionError(R, `not a <bundle xmlns='${NS_AXOLOTL}'/> element`)
  const spk = one(el, 'signedPreKeyPublic', R)
  const sig = decodeBase64(text(one(el, 'signedPreKeySignature', R)), '<signedPreKeySignature/>', 64, R)
  if (sig.length !== 64) throw new DecryptionError(R, '<signedPreKeySignature/> is not a 64-byte signature')
  const preKeys: { id: number; key: Uint8Array }[] = []
  for (const pk of one(el, 'prekeys', R).children) {
    if (typeof pk === 'string' || pk.name !== 'preKeyPublic') continue
    if (preKeys.length >= limits.maxListEntries)
      throw new LimitExceededError('LIMIT', 'pre keys', limits.maxListEntries, preKeys.length + 1)
    preKeys.push({
      id: parseUint32(pk.attrs.preKeyId, 'preKeyId', R),
      key: publicKey33(decodeBase64(text(pk), '<preKeyPublic/>', 33, R), '<preKeyPublic/>', R),
    })
  }
  // Conversations writes signedPreKeyId; the v0.3 schema leaves it optional (then 0)
  const spkId =
    spk.attrs.signedPreKeyId === undefined ? 0 : parseUint32(spk.attrs.signedPreKeyId, 'signedPreKeyId', R)
  return {
    signedPreKeyId: spkId,
    signedPreKey: publicKey33(
      decodeBase64(text(spk), '<signedPreKeyPublic/>', 33, R),
      '<signedPreKeyPublic/>',
      R,
    ),
    signedPreKeySignature: sig,
    identityKey: publicKey33(
      decodeBase64(text(one(el, 'identityKey', R)), '<identityKey/>', 33, R),
      '<identityKey/>',
      R,
    ),
    preKeys,
  }
}

// ——— device list ———

export function buildDeviceList(ids: readonly number[]): Element {
  const el = new XmlElement('list', { xmlns: NS_AXOLOTL })
  for (const id of ids) el.c('device', { id: String(id) })
  return el
}

/** @throws DecryptionError `OMEMO03-DEVICES`, LimitExceededError `LIMIT` */
export function parseDeviceList(el: Element, limits: LegacyXmlLimits = DEFAULT_LEGACY_XML_LIMITS): number[] {
  const R = 'OMEMO03-DEVICES'
  if (el.name !== 'list' || el.attrs.xmlns !== NS_AXOLOTL)
    throw new DecryptionError(R, `not a <list xmlns='${NS_AXOLOTL}'/> element`)
  const out: number[] = []
  const seen = new Set<number>()
  for (const d of el.children) {
    if (typeof d === 'string' || d.name !== 'device') continue
    if (out.length >= limits.maxListEntries)
      throw new LimitExceededError('LIMIT', 'devices', limits.maxListEntries, out.length + 1)
    const id = parseDeviceId(d.attrs.id, 'device id', R)
    if (seen.has(id)) continue
    seen.add(id)
    out.push(id)
  }
  return out
}
