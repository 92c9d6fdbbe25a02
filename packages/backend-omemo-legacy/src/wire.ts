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
import type { Element } from '@vouch/tm-core'
import {
  b64,
  childrenNamed,
  DEFAULT_WIRE_LIMITS,
  decodeBase64,
  exactlyOne,
  MAX_DEVICE_ID,
  type OmemoWireLimits,
  parseDeviceId,
  parseUint32,
  textOf,
} from '@vouch/omemo-common'
import { DecryptionError, LimitExceededError, Element as XmlElement } from '@vouch/tm-core'

export const NS_AXOLOTL = 'eu.siacs.conversations.axolotl'
export const NODE_DEVICELIST = 'eu.siacs.conversations.axolotl.devicelist'
export const NODE_BUNDLES_PREFIX = 'eu.siacs.conversations.axolotl.bundles:'
/** the bundle node of a device: `eu.siacs.conversations.axolotl.bundles:<device id>` */
export const bundleNode = (deviceId: number): string => `${NODE_BUNDLES_PREFIX}${deviceId}`

export { MAX_DEVICE_ID }

/** Caps on received elements (a security policy, overridable per backend): `OmemoWireLimits`. */
export type LegacyXmlLimits = OmemoWireLimits

export const DEFAULT_LEGACY_XML_LIMITS: LegacyXmlLimits = DEFAULT_WIRE_LIMITS

const text = textOf
const children = childrenNamed

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
  const sid = parseDeviceId(header.attrs.sid, 'header sid', R)
  const ivs = children(header, 'iv')
  if (ivs.length !== 1) throw new DecryptionError(R, 'exactly one <iv/> is required')
  const iv = decodeBase64(text(ivs[0] as Element), '<iv/>', 16, R)
  if (iv.length !== 12 && iv.length !== 16) throw new DecryptionError(R, `an <iv/> of ${iv.length} bytes`)
  const keys: LegacyKeyElement[] = []
  for (const key of header.children) {
    if (typeof key === 'string' || key.name !== 'key') continue
    if (keys.length >= limits.maxKeys)
      throw new LimitExceededError('LIMIT', '<key/> elements', limits.maxKeys, keys.length + 1)
    const p = key.attrs.prekey
    keys.push({
      rid: parseDeviceId(key.attrs.rid, 'key rid', R),
      // XML Schema boolean: 'true' | '1' | 'false' | '0'
      prekey: p === 'true' || p === '1',
      data: decodeBase64(text(key), '<key/>', limits.maxKeyBytes, R),
    })
  }
  const payload = payloads[0]
  return payload === undefined
    ? { sid, keys, iv }
    : { sid, keys, iv, payload: decodeBase64(text(payload), '<payload/>', limits.maxPayloadBytes, R) }
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

const one = exactlyOne

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
