import type { BareJid } from '@vouch/tm-core'
import { toBareJid } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'

/** Child elements only (no text nodes). */
export function childElements(el: Element): Element[] {
  return el.children.filter((c): c is Element => typeof c !== 'string')
}

/** The first child with this local name and namespace (namespace inherited from the parent). */
export function child(el: Element, name: string, ns: string): Element | undefined {
  for (const c of childElements(el)) if (c.name === name && (c.attrs.xmlns ?? el.attrs.xmlns) === ns) return c
  return undefined
}

/** Bare JID of a JID string, or `undefined` when it is not a valid JID. */
export function bareOf(jid: string | undefined): BareJid | undefined {
  if (jid === undefined || jid === '') return undefined
  try {
    return toBareJid(jid)
  } catch {
    return undefined
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A short random id (origin-id, query ids). */
export function randomId(): string {
  return globalThis.crypto.randomUUID()
}
