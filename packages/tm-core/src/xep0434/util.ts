/** Small helpers shared by the XEP-0434 codec modules (not exported from the package). */
import type { Element } from '@xmpp/xml'

/** Shortens untrusted text quoted in error messages. */
export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}

/**
 * The XML namespace of an element: its prefix's `xmlns:p` declaration, or the default `xmlns`,
 * looked up through the ancestors. Unlike ltx's `getNS()`, `xmlns=''` means "no namespace".
 */
export function nsOf(el: Element): string | undefined {
  const colon = el.name.indexOf(':')
  const attr = colon === -1 ? 'xmlns' : `xmlns:${el.name.slice(0, colon)}`
  for (let e: Element | null = el; e !== null; e = e.parent) {
    const value: unknown = e.attrs[attr]
    if (typeof value === 'string') return value === '' ? undefined : value
  }
  return undefined
}

/** Local name of an element (without prefix). */
export function localName(el: Element): string {
  const colon = el.name.indexOf(':')
  return colon === -1 ? el.name : el.name.slice(colon + 1)
}

/** {@link nsOf} of a child whose parent's namespace is already known (no walk up the tree). */
export function childNs(child: Element, parentNs: string | undefined): string | undefined {
  if (child.name.includes(':')) return nsOf(child)
  const own: unknown = child.attrs.xmlns
  if (typeof own !== 'string') return parentNs
  return own === '' ? undefined : own
}
