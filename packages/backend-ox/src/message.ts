/**
 * The `<openpgp xmlns='urn:xmpp:openpgp:0'>BASE64</openpgp>` element (XEP-0373 §3) and the
 * XEP-0374 v0.2.0 message around it: fallback `<body/>`, `<store xmlns='urn:xmpp:hints'/>`,
 * XEP-0380 `<encryption namespace='urn:xmpp:openpgp:0'/>`, the same outer shape for trust
 * messages and chat (D-7); disco feature `urn:xmpp:openpgp:im:0` and the force-OX option.
 */
import type { Element } from '@vouch/tm-core'
import {
  DecryptionError,
  encryptedMessageStanza,
  LimitExceededError,
  MESSAGE_NAMESPACES,
  Element as XmlElement,
} from '@vouch/tm-core'
import { DEFAULT_FALLBACK_BODY, NS_OX, NS_OX_IM, OX_ENCRYPTION_NAME } from './constants.ts'
import { childElements, decodeBase64, encodeBase64, nsOf, textOf } from './util.ts'

/** `<openpgp xmlns='urn:xmpp:openpgp:0'>` with the Base64 of a binary OpenPGP message. */
export function openpgpElement(message: Uint8Array): Element {
  return new XmlElement('openpgp', { xmlns: NS_OX }).t(encodeBase64(message))
}

/**
 * The binary OpenPGP message of an `<openpgp/>` element.
 * @throws DecryptionError  OX-XML; LimitExceededError  OX-SIZE (over `maxBytes`)
 */
export function readOpenpgpElement(el: Element, maxBytes = 256 * 1024): Uint8Array {
  if (el.name !== 'openpgp' || nsOf(el) !== NS_OX)
    throw new DecryptionError(
      'OX-XML',
      `expected <openpgp xmlns='${NS_OX}'/>, got <${String(el.name).slice(0, 40)}/>`,
    )
  const text = textOf(el)
  // Base64 is 4/3 of the bytes: refuse before decoding anything huge
  if (text.length > Math.ceil((maxBytes * 4) / 3) + 1024)
    throw new LimitExceededError(
      'OX-SIZE',
      '<openpgp/> characters',
      Math.ceil((maxBytes * 4) / 3),
      text.length,
    )
  const bytes = decodeBase64(text)
  if (bytes === undefined || bytes.length === 0)
    throw new DecryptionError('OX-XML', '<openpgp/> is not Base64')
  if (bytes.length > maxBytes)
    throw new LimitExceededError('OX-SIZE', 'OpenPGP message bytes', maxBytes, bytes.length)
  return bytes
}

/** The one `<openpgp/>` child of a `<message/>`, if any. */
export function findOpenpgpElement(message: Element): Element | undefined {
  const found = childElements(message).filter((c) => c.name === 'openpgp' && nsOf(c) === NS_OX)
  if (found.length > 1)
    throw new DecryptionError('OX-XML', `a message carries ${found.length} <openpgp/> elements`)
  return found[0]
}

export interface OxMessageInit {
  readonly to: string
  readonly id?: string
  readonly openpgp: Element
  /**
   * XEP-0374 §3.2 fallback body: default {@link DEFAULT_FALLBACK_BODY}; `false` for none (some
   * strict servers reject plaintext next to encryption). Same policy for every message (D-7).
   */
  readonly fallbackBody?: string | false
}

/**
 * A whole XEP-0374 `<message type='chat'>`: `<openpgp/>`, XEP-0380 `<encryption/>`,
 * `<store xmlns='urn:xmpp:hints'/>` and the fallback body.
 */
export function oxMessage(init: OxMessageInit): Element {
  const body = init.fallbackBody === undefined ? DEFAULT_FALLBACK_BODY : init.fallbackBody
  return encryptedMessageStanza({
    to: init.to,
    ...(init.id === undefined ? {} : { id: init.id }),
    encrypted: init.openpgp,
    encryptionNamespace: NS_OX,
    encryptionName: OX_ENCRYPTION_NAME,
    ...(body === false ? {} : { fallbackBody: body }),
  })
}

/** True for a `<message/>` (client or server namespace). */
export function isMessage(el: Element): boolean {
  const ns = nsOf(el)
  return el.name === 'message' && (ns === undefined || MESSAGE_NAMESPACES.has(ns))
}

/**
 * XEP-0374 §2.1: use OX with a contact when one of its entities announces
 * `urn:xmpp:openpgp:im:0`, or whenever the user forces it (downgrade protection: a stripped
 * disco result must not turn encryption off).
 */
export function shouldUseOx(options: {
  readonly features: Iterable<string>
  readonly force?: boolean
}): boolean {
  if (options.force === true) return true
  for (const f of options.features) if (f === NS_OX_IM) return true
  return false
}
