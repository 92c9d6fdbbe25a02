/**
 * XEP-0280: Message Carbons — implements v1.0.1
 * https://xmpp.org/extensions/xep-0280.html
 */
import type { BareJid } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import xml, { type Element } from '@xmpp/xml'
import { NS_CARBONS, NS_FORWARD } from './namespaces.ts'
import { bareOf, child } from './util.ts'

/** §4: enables Carbons for this resource. */
export async function enableCarbons(xmpp: Client): Promise<void> {
  await xmpp.iqCaller.set(xml('enable', { xmlns: NS_CARBONS }))
}

export interface UnwrappedCarbon {
  readonly direction: 'sent' | 'received'
  readonly message: Element
}

/**
 * §6 and §11 (Security Considerations): a carbon is only accepted when the wrapper comes from
 * our own bare JID; a forged wrapper from anybody else is rejected (returns `null`). Returns
 * `undefined` when the stanza is not a carbon.
 */
export function unwrapCarbon(stanza: Element, account: BareJid): UnwrappedCarbon | undefined | null {
  const sent = child(stanza, 'sent', NS_CARBONS)
  const received = sent === undefined ? child(stanza, 'received', NS_CARBONS) : undefined
  const wrapper = sent ?? received
  if (wrapper === undefined) return undefined
  const from = stanza.attrs.from as string | undefined
  if (from !== undefined && from !== account) return null
  if (from === undefined && bareOf(stanza.attrs.to as string | undefined) !== account) return null
  const forwarded = child(wrapper, 'forwarded', NS_FORWARD)
  const message = forwarded === undefined ? undefined : forwarded.getChild('message')
  if (message === undefined) return null
  return { direction: sent !== undefined ? 'sent' : 'received', message }
}
