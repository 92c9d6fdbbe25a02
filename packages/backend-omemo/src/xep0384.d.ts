/**
 * XEP-0384: OMEMO Encryption — implements v0.9.1 (`urn:xmpp:omemo:2`)
 * https://xmpp.org/extensions/xep-0384.html
 *
 * Pure XML builders and parsers: the `<encrypted/>` element, bundles and the device list, and the
 * XEP-0060 publish requests with the publish options they need (access model `open`, bundles
 * `max_items=max`). python-twomemo 1.0.3 reads `kex='false'` as true, rejects `labelsig` and
 * empty device lists: we never emit `kex='false'`, and emit labels only when asked.
 */
import type { BareJid, Element } from '@vouch/tm-core'
export declare const NS_OMEMO2 = 'urn:xmpp:omemo:2'
export declare const NODE_DEVICES = 'urn:xmpp:omemo:2:devices'
export declare const NODE_BUNDLES = 'urn:xmpp:omemo:2:bundles'
export declare const NS_PUBSUB = 'http://jabber.org/protocol/pubsub'
export declare const NS_DATA_FORMS = 'jabber:x:data'
export declare const PUBLISH_OPTIONS_FORM_TYPE = 'http://jabber.org/protocol/pubsub#publish-options'
/** Device ids are 1 … 2³¹−1. */
export declare const MAX_DEVICE_ID = 2147483647
/** Caps on received elements (a security policy, overridable per backend). */
export interface OmemoXmlLimits {
  /** `<keys/>` elements (recipient accounts) per message; default 64 */
  readonly maxAccounts: number
  /** `<key/>` elements per message; default 1024 */
  readonly maxKeys: number
  /** bytes of one decoded `<key/>`; default 4096 */
  readonly maxKeyBytes: number
  /** bytes of the decoded `<payload/>`; default 256 KiB */
  readonly maxPayloadBytes: number
  /** pre keys in a bundle and devices in a list; default 1024 */
  readonly maxListEntries: number
}
export declare const DEFAULT_OMEMO_XML_LIMITS: OmemoXmlLimits
/** Decodes Base64 text (whitespace allowed), with a size cap. */
export declare function decodeBase64(value: string, what: string, maxBytes: number, rule?: string): Uint8Array
export declare function parseDeviceId(value: string | undefined, what: string, rule?: string): number
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
export declare function buildEncrypted(m: EncryptedElement): Element
/**
 * @throws DecryptionError `OMEMO-XML` structure, LimitExceededError `LIMIT`
 */
export declare function parseEncrypted(el: Element, limits?: OmemoXmlLimits): EncryptedElement
export interface BundleData {
  readonly spkId: number
  readonly spk: Uint8Array
  readonly spks: Uint8Array
  readonly ik: Uint8Array
  readonly preKeys: readonly {
    readonly id: number
    readonly pub: Uint8Array
  }[]
}
export declare function buildBundle(b: BundleData): Element
/** @throws DecryptionError `OMEMO-BUNDLE`, LimitExceededError `LIMIT` */
export declare function parseBundle(el: Element, limits?: OmemoXmlLimits): BundleData
export interface DeviceListEntry {
  readonly id: number
  readonly label?: string
  /** Base64 Ed25519 signature of the label (v0.9); python-twomemo 1.0.3 rejects it */
  readonly labelsig?: string
}
export declare function buildDeviceList(devices: readonly DeviceListEntry[]): Element
/** @throws DecryptionError `OMEMO-DEVICES`, LimitExceededError `LIMIT` */
export declare function parseDeviceList(el: Element, limits?: OmemoXmlLimits): DeviceListEntry[]
/** `<publish-options/>` with the given node configuration (XEP-0060 §7.1.5, XEP-0222). */
export declare function publishOptions(fields: Readonly<Record<string, string>>): Element
/** Our bundle: node `urn:xmpp:omemo:2:bundles`, item id = device id, `max_items=max`, access model `open`. */
export declare function publishBundleRequest(deviceId: number, bundle: BundleData): Element
/** Our device list: node `urn:xmpp:omemo:2:devices`, item `current`, access model `open`. */
export declare function publishDeviceListRequest(devices: readonly DeviceListEntry[]): Element
//# sourceMappingURL=xep0384.d.ts.map
