/**
 * XEP-0359: Unique and Stable Stanza IDs — implements v0.7.0
 * https://xmpp.org/extensions/xep-0359.html
 */
import type { BareJid } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { NS_SID } from './namespaces.ts'
import { bareOf, childElements } from './util.ts'

/** `<origin-id/>` for an outgoing message (§3). */
export function originIdElement(id: string): Element {
  return xml('origin-id', { xmlns: NS_SID, id })
}

/**
 * §3, §5 (Security Considerations): the `<stanza-id/>` added by `by` (our own bare JID for our
 * archive). A stanza-id claiming another `by` is ignored: only our server's ids are trusted.
 */
export function stanzaIdBy(message: Element, by: BareJid): string | undefined {
  for (const c of childElements(message)) {
    if (
      c.name === 'stanza-id' &&
      c.attrs.xmlns === NS_SID &&
      c.attrs.by === by &&
      typeof c.attrs.id === 'string'
    )
      return c.attrs.id
  }
  return undefined
}

export function originId(message: Element): string | undefined {
  for (const c of childElements(message)) {
    if (c.name === 'origin-id' && c.attrs.xmlns === NS_SID && typeof c.attrs.id === 'string')
      return c.attrs.id
  }
  return undefined
}

/**
 * The dedup keys of a message: our archive's stanza-id (the same id for the live, carbon and
 * archive copies) and the sender's origin-id (scoped by the sender's bare JID, for copies that
 * carry no stanza-id). A message is a duplicate when any of its keys was processed.
 */
export function dedupKeys(message: Element, account: BareJid, archiveId?: string): string[] {
  const keys: string[] = []
  const sid = archiveId ?? stanzaIdBy(message, account)
  if (sid !== undefined) keys.push(`sid:${sid}`)
  const oid = originId(message)
  const from = bareOf(message.attrs.from as string | undefined) ?? account
  if (oid !== undefined) keys.push(`oid:${from}:${oid}`)
  return keys
}
