/**
 * XEP-0384: OMEMO Encryption — implements v0.9.1 (`urn:xmpp:omemo:2`)
 * https://xmpp.org/extensions/xep-0384.html
 *
 * Pure XML builders and parsers: the `<encrypted/>` element, bundles and the device list, and the
 * XEP-0060 publish requests with the publish options they need (access model `open`, bundles
 * `max_items=max`). python-twomemo 1.0.3 reads `kex='false'` as true, rejects `labelsig` and
 * empty device lists: we never emit `kex='false'`, and emit labels only when asked.
 */
import {
  b64,
  childrenNamed,
  decodeBase64 as commonDecodeBase64,
  parseDeviceId as commonParseDeviceId,
  DEFAULT_WIRE_LIMITS,
  exactlyOne,
  MAX_DEVICE_ID,
  type OmemoWireLimits,
  parseUint32,
  textOf,
} from '@vouch/omemo-common'
import type { BareJid, Element } from '@vouch/tm-core'
import { DecryptionError, LimitExceededError, toBareJid, Element as XmlElement } from '@vouch/tm-core'

export const NS_OMEMO2 = 'urn:xmpp:omemo:2'
export const NODE_DEVICES = 'urn:xmpp:omemo:2:devices'
export const NODE_BUNDLES = 'urn:xmpp:omemo:2:bundles'
export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub'
export const NS_DATA_FORMS = 'jabber:x:data'
export const PUBLISH_OPTIONS_FORM_TYPE = 'http://jabber.org/protocol/pubsub#publish-options'

export { MAX_DEVICE_ID }

/** Caps on received elements (a security policy, overridable per backend). */
export interface OmemoXmlLimits extends OmemoWireLimits {
  /** `<keys/>` elements (recipient accounts) per message; default 64 */
  readonly maxAccounts: number
}

export const DEFAULT_OMEMO_XML_LIMITS: OmemoXmlLimits = Object.freeze({
  maxAccounts: 64,
  ...DEFAULT_WIRE_LIMITS,
})

const XML = 'OMEMO-XML'
const text = textOf

/** Decodes Base64 element text (whitespace allowed), with a size cap (`@vouch/omemo-common`). */
export function decodeBase64(value: string, what: string, maxBytes: number, rule = XML): Uint8Array {
  return commonDecodeBase64(value, what, maxBytes, rule)
}

export function parseDeviceId(value: string | undefined, what: string, rule = XML): number {
  return commonParseDeviceId(value, what, rule)
}

// ——— <encrypted/> ———

export interface KeyElement {
  readonly rid: number
  /** the content is an OMEMOKeyExchange */
  readonly kex: boolean
  readonly data: Uint8Array
}

export interface EncryptedElement {
  readonly sid: number
  readonly keys: ReadonlyMap<BareJid, readonly KeyElement[]>
  /** absent for an empty message (heartbeat, key exchange answer) */
  readonly payload?: Uint8Array
}

export function buildEncrypted(m: EncryptedElement): Element {
  const el = new XmlElement('encrypted', { xmlns: NS_OMEMO2 })
  const header = el.c('header', { sid: String(m.sid) })
  for (const [jid, keys] of m.keys) {
    const k = header.c('keys', { jid })
    for (const key of keys)
      k.c('key', key.kex ? { rid: String(key.rid), kex: 'true' } : { rid: String(key.rid) }).t(b64(key.data))
  }
  if (m.payload !== undefined) el.c('payload').t(b64(m.payload))
  return el
}

/**
 * @throws DecryptionError `OMEMO-XML` structure, LimitExceededError `LIMIT`
 */
export function parseEncrypted(
  el: Element,
  limits: OmemoXmlLimits = DEFAULT_OMEMO_XML_LIMITS,
): EncryptedElement {
  if (el.name !== 'encrypted' || el.attrs.xmlns !== NS_OMEMO2)
    throw new DecryptionError('OMEMO-XML', `not an <encrypted xmlns='${NS_OMEMO2}'/> element`)
  const headers = childrenNamed(el, 'header')
  const payloads = childrenNamed(el, 'payload')
  if (headers.length !== 1) throw new DecryptionError('OMEMO-XML', 'exactly one <header/> is required')
  if (payloads.length > 1) throw new DecryptionError('OMEMO-XML', 'more than one <payload/>')
  const header = headers[0] as Element
  const sid = parseDeviceId(header.attrs.sid, 'header sid')
  const keys = new Map<BareJid, KeyElement[]>()
  let count = 0
  for (const k of header.children) {
    if (typeof k === 'string' || k.name !== 'keys') continue
    if (keys.size >= limits.maxAccounts)
      throw new LimitExceededError('LIMIT', '<keys/> elements', limits.maxAccounts, keys.size + 1)
    let jid: BareJid
    try {
      jid = toBareJid(k.attrs.jid ?? '', 'OMEMO-XML')
    } catch (e) {
      throw new DecryptionError('OMEMO-XML', '<keys/> without a valid jid', { cause: e })
    }
    const list = keys.get(jid) ?? []
    keys.set(jid, list)
    for (const key of k.children) {
      if (typeof key === 'string' || key.name !== 'key') continue
      if (++count > limits.maxKeys)
        throw new LimitExceededError('LIMIT', '<key/> elements', limits.maxKeys, count)
      const kexAttr = key.attrs.kex
      list.push({
        rid: parseDeviceId(key.attrs.rid, 'key rid'),
        kex: kexAttr === 'true' || kexAttr === '1',
        data: decodeBase64(text(key), '<key/>', limits.maxKeyBytes),
      })
    }
  }
  const payload = payloads[0]
  return payload === undefined
    ? { sid, keys }
    : { sid, keys, payload: decodeBase64(text(payload), '<payload/>', limits.maxPayloadBytes) }
}

// ——— bundles ———

export interface BundleData {
  readonly spkId: number
  readonly spk: Uint8Array
  readonly spks: Uint8Array
  readonly ik: Uint8Array
  readonly preKeys: readonly { readonly id: number; readonly pub: Uint8Array }[]
}

export function buildBundle(b: BundleData): Element {
  const el = new XmlElement('bundle', { xmlns: NS_OMEMO2 })
  el.c('spk', { id: String(b.spkId) }).t(b64(b.spk))
  el.c('spks').t(b64(b.spks))
  el.c('ik').t(b64(b.ik))
  const pks = el.c('prekeys')
  for (const pk of b.preKeys) pks.c('pk', { id: String(pk.id) }).t(b64(pk.pub))
  return el
}

const child = exactlyOne

function key32(el: Element, what: string, rule: string): Uint8Array {
  const k = decodeBase64(text(el), what, 64, rule)
  if (k.length !== 32) throw new DecryptionError(rule, `${what} is ${k.length} bytes, expected 32`)
  return k
}

/** @throws DecryptionError `OMEMO-BUNDLE`, LimitExceededError `LIMIT` */
export function parseBundle(el: Element, limits: OmemoXmlLimits = DEFAULT_OMEMO_XML_LIMITS): BundleData {
  const R = 'OMEMO-BUNDLE'
  if (el.name !== 'bundle' || el.attrs.xmlns !== NS_OMEMO2)
    throw new DecryptionError(R, `not a <bundle xmlns='${NS_OMEMO2}'/> element`)
  const spk = child(el, 'spk', R)
  const spks = decodeBase64(text(child(el, 'spks', R)), '<spks/>', 64, R)
  if (spks.length !== 64) throw new DecryptionError(R, '<spks/> is not a 64-byte signature')
  const preKeys: { id: number; pub: Uint8Array }[] = []
  for (const pk of child(el, 'prekeys', R).children) {
    if (typeof pk === 'string' || pk.name !== 'pk') continue
    if (preKeys.length >= limits.maxListEntries)
      throw new LimitExceededError('LIMIT', 'pre keys', limits.maxListEntries, preKeys.length + 1)
    preKeys.push({ id: parseUint32(pk.attrs.id, 'pk id', R), pub: key32(pk, '<pk/>', R) })
  }
  return {
    spkId: parseUint32(spk.attrs.id, 'spk id', R),
    spk: key32(spk, '<spk/>', R),
    spks,
    ik: key32(child(el, 'ik', R), '<ik/>', R),
    preKeys,
  }
}

// ——— device list ———

export interface DeviceListEntry {
  readonly id: number
  readonly label?: string
  /** Base64 Ed25519 signature of the label (v0.9); python-twomemo 1.0.3 rejects it */
  readonly labelsig?: string
}

export function buildDeviceList(devices: readonly DeviceListEntry[]): Element {
  const el = new XmlElement('devices', { xmlns: NS_OMEMO2 })
  for (const d of devices) {
    const attrs: Record<string, string> = { id: String(d.id) }
    if (d.label !== undefined) attrs.label = d.label
    if (d.labelsig !== undefined) attrs.labelsig = d.labelsig
    el.c('device', attrs)
  }
  return el
}

/** @throws DecryptionError `OMEMO-DEVICES`, LimitExceededError `LIMIT` */
export function parseDeviceList(
  el: Element,
  limits: OmemoXmlLimits = DEFAULT_OMEMO_XML_LIMITS,
): DeviceListEntry[] {
  const R = 'OMEMO-DEVICES'
  if (el.name !== 'devices' || el.attrs.xmlns !== NS_OMEMO2)
    throw new DecryptionError(R, `not a <devices xmlns='${NS_OMEMO2}'/> element`)
  const out: DeviceListEntry[] = []
  const seen = new Set<number>()
  for (const d of el.children) {
    if (typeof d === 'string' || d.name !== 'device') continue
    if (out.length >= limits.maxListEntries)
      throw new LimitExceededError('LIMIT', 'devices', limits.maxListEntries, out.length + 1)
    const id = parseDeviceId(d.attrs.id, 'device id', R)
    if (seen.has(id)) continue
    seen.add(id)
    const entry: { id: number; label?: string; labelsig?: string } = { id }
    if (d.attrs.label !== undefined) entry.label = d.attrs.label
    if (d.attrs.labelsig !== undefined) entry.labelsig = d.attrs.labelsig
    out.push(entry)
  }
  return out
}

// ——— XEP-0060 publish requests ———

/** `<publish-options/>` with the given node configuration (XEP-0060 §7.1.5, XEP-0222). */
export function publishOptions(fields: Readonly<Record<string, string>>): Element {
  const opts = new XmlElement('publish-options')
  const form = opts.c('x', { xmlns: NS_DATA_FORMS, type: 'submit' })
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(PUBLISH_OPTIONS_FORM_TYPE)
  for (const [k, v] of Object.entries(fields)) form.c('field', { var: k }).c('value').t(v)
  return opts
}

function publish(
  node: string,
  itemId: string,
  payload: Element,
  options: Readonly<Record<string, string>>,
): Element {
  const pubsub = new XmlElement('pubsub', { xmlns: NS_PUBSUB })
  pubsub.c('publish', { node }).c('item', { id: itemId }).cnode(payload)
  pubsub.cnode(publishOptions(options))
  return pubsub
}

/** Our bundle: node `urn:xmpp:omemo:2:bundles`, item id = device id, `max_items=max`, access model `open`. */
export function publishBundleRequest(deviceId: number, bundle: BundleData): Element {
  return publish(NODE_BUNDLES, String(deviceId), buildBundle(bundle), {
    'pubsub#max_items': 'max',
    'pubsub#access_model': 'open',
  })
}

/** Our device list: node `urn:xmpp:omemo:2:devices`, item `current`, access model `open`. */
export function publishDeviceListRequest(devices: readonly DeviceListEntry[]): Element {
  return publish(NODE_DEVICES, 'current', buildDeviceList(devices), { 'pubsub#access_model': 'open' })
}
