/**
 * XEP-0373: OpenPGP for XMPP — implements v0.7.0 (2021-05-04)
 * https://xmpp.org/extensions/xep-0373.html
 * XEP-0374: OpenPGP for XMPP Instant Messaging — implements v0.2.0
 * https://xmpp.org/extensions/xep-0374.html
 *
 * Namespaces, PEP node names and the name of our backend-state namespace.
 */
import { NS_OX } from '@vouch/tm-core'

export { NS_OX }
/** XEP-0374 §2.1 disco feature. */
export const NS_OX_IM = 'urn:xmpp:openpgp:im:0'
/** XEP-0373 §4.2 metadata node (item id `current`). */
export const NODE_PUBLIC_KEYS = 'urn:xmpp:openpgp:0:public-keys'
/** XEP-0373 §5 secret key backup node. */
export const NODE_SECRET_KEY = 'urn:xmpp:openpgp:0:secret-key'
/** XEP-0373 §4.1 data node of one public key. */
export function publicKeyDataNode(fingerprint: string): string {
  return `${NODE_PUBLIC_KEYS}:${fingerprint.toUpperCase()}`
}
/** XEP-0060 / XEP-0223 publish options. */
export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub'
export const NS_DATA_FORMS = 'jabber:x:data'
export const PUBLISH_OPTIONS_FORM_TYPE = 'http://jabber.org/protocol/pubsub#publish-options'
/** XEP-0380 human-readable name. */
export const OX_ENCRYPTION_NAME = 'OpenPGP for XMPP'
/** XEP-0374 §3.2: the fallback body we put next to every `<openpgp/>` (D-7: the same for all). */
export const DEFAULT_FALLBACK_BODY = 'This message is encrypted using OpenPGP for XMPP.'
/** Namespace of our data in the store's backend state (`getState('ox', …)`). */
export const OX_STATE_NAMESPACE = 'ox'
/**
 * Namespace of the replay memory (one key per accepted signed message). A namespace of its own,
 * so that listing keys (`key:<owner>:`) never walks the replay entries.
 */
export const OX_REPLAY_STATE_NAMESPACE = 'ox-replay'
/** XMPP user id of a JID's key: `xmpp:<bare-jid>` (XEP-0373 §3.3). */
export function xmppUserId(jid: string): string {
  return `xmpp:${jid}`
}
