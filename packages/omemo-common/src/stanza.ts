/**
 * Stanzas and marks both OMEMO key directories use.
 */
import type { BareJid } from '@vouch/tm-core'
import { NS_EME, NS_HINTS } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'

/** XEP-0280: Message Carbons — v1.0.1 (`<private/>`) */
const NS_CARBONS = 'urn:xmpp:carbons:2'
/** XEP-0359: Unique and Stable Stanza IDs — v0.7.0 (`<origin-id/>`) */
const NS_SID = 'urn:xmpp:sid:0'

/**
 * The stanza carrying an empty OMEMO message of `namespace` (a key exchange answer, a heartbeat):
 * type `chat` and `<store/>` (offline and archive delivery) like every encrypted message (D-7), the
 * XEP-0380 marker, no body (it has no content), and `<private/>` + `<no-copy/>` (XEP-0280 §6,
 * XEP-0334): it is for one device of the recipient, so our other devices need no carbon they could
 * not read.
 */
export function emptyMessageStanza(
  to: BareJid,
  encrypted: Element,
  namespace: string,
  id: string = globalThis.crypto.randomUUID(),
): Element {
  return xml(
    'message',
    { to, type: 'chat', id },
    encrypted,
    xml('encryption', { xmlns: NS_EME, namespace, name: 'OMEMO' }),
    xml('store', { xmlns: NS_HINTS }),
    xml('private', { xmlns: NS_CARBONS }),
    xml('no-copy', { xmlns: NS_HINTS }),
    xml('origin-id', { xmlns: NS_SID, id }),
  )
}

/** What identifies a published bundle: its signed pre key id and its pre key ids (republish when it changes). */
export function bundleMark(signedPreKeyId: number, preKeyIds: readonly number[]): string {
  return `${signedPreKeyId}:${[...preKeyIds].sort((x, y) => x - y).join(',')}`
}
