/**
 * XEP-0434: Trust Messages — implements v0.6.0
 * https://xmpp.org/extensions/xep-0434.html  (§4 Trust Message Structure, §5.2 Encrypted)
 *
 * Where a `<trust-message/>` lives: a `<message/>` (TM-1) or the SCE content element (TM-16),
 * and the outer stanza every encrypted message gets (TM-12, TM-13, D-7).
 */
import { Element } from '@xmpp/xml'
import { InvalidTrustMessageError } from '../contracts/errors.ts'
import { parseJid } from '../jid.ts'
import type { XmlLimits } from '../xml.ts'
import { parseXml } from '../xml.ts'
import type { ParsedTrustMessage, TrustMessageOptions } from './model.ts'
import { readNamespaceName } from './model.ts'
import { MESSAGE_NAMESPACES, NS_EME, NS_HINTS, sceNamespace, TRUST_MESSAGE_NAMESPACES } from './namespaces.ts'
import { parseTrustMessage } from './trust-message.ts'
import { clip, localName, nsOf } from './util.ts'

/**
 * Reads the one trust message of a container: a `<message/>` (`jabber:client`, `jabber:server`
 * or no namespace written) — TM-1 — or an SCE content element (`urn:xmpp:sce:1` `<content/>`;
 * with `legacy`, `urn:xmpp:sce:0` `<payload/>`) — TM-16. Exactly one direct `<trust-message/>`
 * child in a trust-message namespace must be there; zero or several are rejected. Deeper
 * elements are never searched.
 *
 * @throws InvalidTrustMessageError  TM-1 (not a container; 0 or ≥2 in a message), TM-16 (0 or ≥2
 *   in SCE content; legacy SCE without `legacy`), and everything {@link parseTrustMessage} throws
 */
export function findTrustMessage(container: Element, options: TrustMessageOptions = {}): ParsedTrustMessage {
  const name = localName(container)
  const ns = nsOf(container)
  let rule: 'TM-1' | 'TM-16'
  if (name === 'message' && MESSAGE_NAMESPACES.has(ns)) rule = 'TM-1'
  else if (sceNamespace(ns, options.legacy === true)?.contentName === name) rule = 'TM-16'
  else
    throw new InvalidTrustMessageError(
      'TM-1',
      `expected a <message/> or an SCE content element, got <${clip(container.name)}/>`,
    )
  let found: Element | undefined
  let other: Element | undefined
  let count = 0
  for (const child of container.children) {
    if (typeof child === 'string' || localName(child) !== 'trust-message') continue
    const childNs = nsOf(child)
    if (childNs !== undefined && TRUST_MESSAGE_NAMESPACES.has(childNs)) {
      count++
      found ??= child
    } else other ??= child
  }
  if (count > 1)
    throw new InvalidTrustMessageError(rule, `exactly one <trust-message/> is allowed, found ${count}`)
  // a lone <trust-message/> in an unknown namespace gets the more precise TM-4 error
  const target = found ?? other
  if (target === undefined)
    throw new InvalidTrustMessageError(rule, `<${clip(container.name)}/> has no <trust-message/> child`)
  return parseTrustMessage(target, options)
}

/**
 * Reads a trust message from whatever the user has: a `<trust-message/>`, a `<message/>` holding
 * one, an SCE content element, or a whole SCE envelope (`urn:xmpp:sce:1` `<envelope/>` →
 * `<content/>`; with `legacy`, `urn:xmpp:sce:0` `<envelope/>` or `<content/>` → `<payload/>`).
 * The envelope's affixes (`<time/>`, `<from/>`, …) are not checked here: `@vouch/sce` does that.
 *
 * @throws InvalidTrustMessageError  TM-1 (none of the above), TM-16 (envelope without exactly
 *   one content element), and everything {@link findTrustMessage} throws
 */
export function readTrustMessage(root: Element, options: TrustMessageOptions = {}): ParsedTrustMessage {
  const name = localName(root)
  if (name === 'trust-message') return parseTrustMessage(root, options)
  if (name === 'message') return findTrustMessage(root, options)
  const ns = nsOf(root)
  const sce = sceNamespace(ns, options.legacy === true)
  if (sce === undefined || sce.contentName === name) return findTrustMessage(root, options)
  if (!sce.envelopeNames.includes(name))
    throw new InvalidTrustMessageError('TM-1', `<${clip(root.name)}/> holds no trust message`)
  let content: Element | undefined
  let count = 0
  for (const child of root.children) {
    if (typeof child === 'string' || localName(child) !== sce.contentName || nsOf(child) !== ns) continue
    count++
    content ??= child
  }
  if (content === undefined || count > 1)
    throw new InvalidTrustMessageError(
      'TM-16',
      `the SCE envelope must have exactly one <${sce.contentName}/>, found ${count}`,
    )
  return findTrustMessage(content, options)
}

/**
 * Parses XML text (strict reader, {@link parseXml}) and reads the trust message in it
 * ({@link readTrustMessage}). What `vouch tm parse` runs.
 *
 * @throws MalformedXmlError, and everything {@link readTrustMessage} throws
 */
export function parseTrustMessageXml(
  text: string,
  options: TrustMessageOptions & { readonly xml?: Partial<XmlLimits> } = {},
): ParsedTrustMessage {
  return readTrustMessage(parseXml(text, options.xml), options)
}

/** What {@link encryptedMessageStanza} wraps. */
export interface EncryptedMessageInit {
  /** recipient: a bare JID (Carbons reach every endpoint) or a full JID (TM-22) */
  readonly to: string
  readonly id?: string
  /** the encryption element (OMEMO `<encrypted/>`, OX `<openpgp/>`); adopted as a child */
  readonly encrypted: Element
  /** XEP-0380 namespace of the encryption protocol; must be the namespace of `encrypted` */
  readonly encryptionNamespace: string
  /** XEP-0380 human-readable name ('OMEMO', 'OpenPGP for XMPP') */
  readonly encryptionName?: string
  /** plaintext fallback `<body/>`; the same policy for every encrypted message (D-7) */
  readonly fallbackBody?: string
}

/**
 * The outer stanza of every encrypted message, trust message or chat alike, so a server cannot
 * single trust messages out (D-7): `<message type='chat'>` (TM-12), the encryption element, the
 * XEP-0380 `<encryption/>` marker, `<store xmlns='urn:xmpp:hints'/>` (TM-13) and the optional
 * fallback body.
 *
 * @throws InvalidJidError  `to` is not a JID
 * @throws InvalidTrustMessageError  D-7 (`encrypted` not an element, or its namespace is not
 *   `encryptionNamespace`)
 */
export function encryptedMessageStanza(init: EncryptedMessageInit): Element {
  const to = parseJid(init.to, 'JID')
  const bare = to.local === undefined ? to.domain : `${to.local}@${to.domain}`
  const encryptionNamespace = readNamespaceName(init.encryptionNamespace, 'D-7', 'encryption namespace')
  const encrypted: unknown = init.encrypted
  if (!isElement(encrypted))
    throw new InvalidTrustMessageError('D-7', 'the encrypted payload must be an XML element')
  if (nsOf(encrypted) !== encryptionNamespace)
    throw new InvalidTrustMessageError(
      'D-7',
      `the encrypted element's namespace is not ${clip(encryptionNamespace)}`,
    )
  const attrs: Record<string, string> = {
    to: to.resource === undefined ? bare : `${bare}/${to.resource}`,
    type: 'chat',
  }
  if (init.id !== undefined) attrs.id = init.id
  const message = new Element('message', attrs)
  message.cnode(encrypted)
  const eme: Record<string, string> = { xmlns: NS_EME, namespace: encryptionNamespace }
  if (init.encryptionName !== undefined) eme.name = init.encryptionName
  message.c('encryption', eme)
  message.c('store', { xmlns: NS_HINTS })
  if (init.fallbackBody !== undefined) message.c('body').t(init.fallbackBody)
  return message
}

function isElement(value: unknown): value is Element {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    Array.isArray((value as { children?: unknown }).children) &&
    typeof (value as { attrs?: unknown }).attrs === 'object'
  )
}
