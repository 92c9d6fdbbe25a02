/**
 * XEP-0373 v0.7.0 §4 and §5: the PEP payloads, as pure XML builders and parsers (no network).
 *
 * - metadata node `urn:xmpp:openpgp:0:public-keys`, item `current`:
 *   `<public-keys-list><pubkey-metadata v4-fingerprint='UPPERHEX' date='…'/>…</public-keys-list>`;
 * - data node `urn:xmpp:openpgp:0:public-keys:<FINGERPRINT>`: `<pubkey><data>B64</data></pubkey>`;
 * - secret key node `urn:xmpp:openpgp:0:secret-key`: `<secretkey>B64</secretkey>`;
 * - publish options (XEP-0060 §7.1.5): access model `open` for public keys, `whitelist` for the
 *   secret key.
 */
import type { Element } from '@vouch/tm-core'
import {
  DecryptionError,
  InvalidKeyIdError,
  LimitExceededError,
  parseDateTime,
  Element as XmlElement,
} from '@vouch/tm-core'
import {
  NODE_PUBLIC_KEYS,
  NODE_SECRET_KEY,
  NS_DATA_FORMS,
  NS_OX,
  NS_PUBSUB,
  PUBLISH_OPTIONS_FORM_TYPE,
  publicKeyDataNode,
} from './constants.ts'
import { childElements, cloneElement, dateTimeOf, decodeBase64, encodeBase64, nsOf, textOf } from './util.ts'

/** One `<pubkey-metadata/>` entry. */
export interface PubkeyMetadata {
  /** upper-case hex v4 fingerprint */
  readonly fingerprint: string
  /** when the key was (last) published */
  readonly date: Date
}

const FPR = /^[0-9A-Fa-f]{40}$/

/**
 * Builds `<public-keys-list/>`. A fingerprint appears once (the latest date is kept).
 * @throws InvalidKeyIdError  OX-FPR: not a v4 fingerprint
 * @throws DecryptionError  OX-PEP: a date XEP-0082 cannot write (invalid, or outside 0001–9999)
 */
export function buildPublicKeysList(entries: readonly PubkeyMetadata[]): Element {
  const root = new XmlElement('public-keys-list', { xmlns: NS_OX })
  for (const e of dedupe(entries)) {
    root.c('pubkey-metadata', {
      'v4-fingerprint': e.fingerprint,
      date: dateTimeOf(e.date, 'OX-PEP', `the date of ${e.fingerprint}`),
    })
  }
  return root
}

/**
 * Parses `<public-keys-list/>` (strict on what matters: fingerprints and dates; a fingerprint
 * listed twice counts once, with its latest date).
 * @throws DecryptionError  OX-PEP (wrong element, bad fingerprint or date), LimitExceededError
 */
export function parsePublicKeysList(el: Element, maxEntries = 64): PubkeyMetadata[] {
  if (el.name !== 'public-keys-list' || nsOf(el) !== NS_OX)
    throw new DecryptionError(
      'OX-PEP',
      `expected <public-keys-list xmlns='${NS_OX}'/>, got <${el.name.slice(0, 40)}/>`,
    )
  const out: PubkeyMetadata[] = []
  for (const child of childElements(el)) {
    if (child.name !== 'pubkey-metadata' || nsOf(child, NS_OX) !== NS_OX) continue
    if (out.length >= maxEntries)
      throw new LimitExceededError('OX-SIZE', '<pubkey-metadata/> entries', maxEntries, out.length + 1)
    const fpr = child.attrs['v4-fingerprint']
    const date = typeof child.attrs.date === 'string' ? parseDateTime(child.attrs.date) : undefined
    if (typeof fpr !== 'string' || !FPR.test(fpr))
      throw new DecryptionError('OX-PEP', '<pubkey-metadata/> without a valid v4-fingerprint')
    if (date?.ok !== true)
      throw new DecryptionError('OX-PEP', `<pubkey-metadata/> of ${fpr} without a valid date`)
    out.push({ fingerprint: fpr.toUpperCase(), date: date.date })
  }
  return dedupe(out)
}

function dedupe(entries: readonly PubkeyMetadata[]): PubkeyMetadata[] {
  const byFpr = new Map<string, PubkeyMetadata>()
  for (const e of entries) {
    if (!FPR.test(e.fingerprint))
      throw new InvalidKeyIdError('OX-FPR', `"${e.fingerprint.slice(0, 48)}" is not a v4 fingerprint`)
    const fingerprint = e.fingerprint.toUpperCase()
    const seen = byFpr.get(fingerprint)
    if (seen === undefined || seen.date < e.date) byFpr.set(fingerprint, { fingerprint, date: e.date })
  }
  return [...byFpr.values()]
}

/** One item of the metadata node as fetched (id and payload). */
export interface MetadataItem {
  readonly id: string
  readonly payload: Element
}

/**
 * XEP-0373 §4.3 / XEP-0374 §2.3.1: the keys to use for a contact. Only the most recent item
 * counts: the item with id `current` if there is one, else the last one given (services return
 * items oldest first). All its keys are used.
 */
export function chooseCurrentKeys(items: readonly MetadataItem[], maxEntries = 64): PubkeyMetadata[] {
  const item = items.find((i) => i.id === 'current') ?? items[items.length - 1]
  return item === undefined ? [] : parsePublicKeysList(item.payload, maxEntries)
}

/**
 * Which announced keys to fetch from their data nodes: those we do not have, and those announced
 * with a newer date than the copy we have (a revocation or new subkey).
 */
export function keysToFetch(
  announced: readonly PubkeyMetadata[],
  known: ReadonlyMap<string, Date | undefined>,
): string[] {
  return announced
    .filter((a) => {
      const have = known.get(a.fingerprint)
      return !known.has(a.fingerprint) || (have !== undefined && have < a.date)
    })
    .map((a) => a.fingerprint)
}

/**
 * True when our own key is missing from a received metadata list (of our own account): the
 * binding republishes it (XEP-0373 §4.2; OX.md "If our own key disappears from the list").
 */
export function isOwnKeyMissing(list: readonly PubkeyMetadata[], ownFingerprint: string): boolean {
  const own = ownFingerprint.toUpperCase()
  return !list.some((e) => e.fingerprint === own)
}

/** Adds (or refreshes) our key in a metadata list for republishing; other keys are kept. */
export function withOwnKey(list: readonly PubkeyMetadata[], own: PubkeyMetadata): PubkeyMetadata[] {
  return dedupe([...list.filter((e) => e.fingerprint !== own.fingerprint.toUpperCase()), own])
}

/** `<pubkey xmlns='urn:xmpp:openpgp:0'><data>B64</data></pubkey>` of binary key bytes. */
export function buildPubkey(keyBytes: Uint8Array): Element {
  const root = new XmlElement('pubkey', { xmlns: NS_OX })
  root.c('data').t(encodeBase64(keyBytes))
  return root
}

/** `<secretkey xmlns='urn:xmpp:openpgp:0'>B64</secretkey>` of an encrypted backup. */
export function buildSecretKey(backup: Uint8Array): Element {
  return new XmlElement('secretkey', { xmlns: NS_OX }).t(encodeBase64(backup))
}

/**
 * The backup bytes of a `<secretkey/>` element.
 * @throws DecryptionError  OX-PEP
 */
export function parseSecretKey(el: Element): Uint8Array {
  if (el.name !== 'secretkey' || nsOf(el) !== NS_OX)
    throw new DecryptionError(
      'OX-PEP',
      `expected <secretkey xmlns='${NS_OX}'/>, got <${el.name.slice(0, 40)}/>`,
    )
  const bytes = decodeBase64(textOf(el))
  if (bytes === undefined || bytes.length === 0)
    throw new DecryptionError('OX-PEP', '<secretkey/> is not Base64')
  return bytes
}

/** XEP-0060 access models we publish with. */
export type AccessModel = 'open' | 'whitelist'

/**
 * `<publish-options xmlns='http://jabber.org/protocol/pubsub'>` with a submitted data form
 * setting `pubsub#access_model` (XEP-0060 §7.1.5, XEP-0223).
 */
export function publishOptions(accessModel: AccessModel): Element {
  const opts = new XmlElement('publish-options', { xmlns: NS_PUBSUB })
  const form = opts.c('x', { xmlns: NS_DATA_FORMS, type: 'submit' })
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(PUBLISH_OPTIONS_FORM_TYPE)
  form.c('field', { var: 'pubsub#access_model' }).c('value').t(accessModel)
  return opts
}

/** A whole `<pubsub/>` publish request: node, item id, payload and publish options. */
export function publishRequest(init: {
  readonly node: string
  readonly itemId: string
  readonly payload: Element
  readonly accessModel: AccessModel
}): Element {
  const pubsub = new XmlElement('pubsub', { xmlns: NS_PUBSUB })
  pubsub.c('publish', { node: init.node }).c('item', { id: init.itemId }).cnode(cloneElement(init.payload))
  pubsub.cnode(publishOptions(init.accessModel))
  return pubsub
}

/**
 * Publishing our public key: the data node item (id = publish DateTime), access model open.
 * @throws DecryptionError  OX-PEP: a date XEP-0082 cannot write (invalid, or outside 0001–9999)
 */
export function publishPublicKeyRequest(fingerprint: string, keyBytes: Uint8Array, date: Date): Element {
  return publishRequest({
    node: publicKeyDataNode(fingerprint),
    itemId: dateTimeOf(date, 'OX-PEP', 'the publish date'),
    payload: buildPubkey(keyBytes),
    accessModel: 'open',
  })
}

/** Publishing the metadata list: item `current`, access model open. */
export function publishPublicKeysListRequest(list: readonly PubkeyMetadata[]): Element {
  return publishRequest({
    node: NODE_PUBLIC_KEYS,
    itemId: 'current',
    payload: buildPublicKeysList(list),
    accessModel: 'open',
  })
}

/** Publishing the secret key backup: access model whitelist. */
export function publishSecretKeyRequest(backup: Uint8Array): Element {
  return publishRequest({
    node: NODE_SECRET_KEY,
    itemId: 'current',
    payload: buildSecretKey(backup),
    accessModel: 'whitelist',
  })
}
