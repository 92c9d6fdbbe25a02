/** Small helpers shared by the OX modules: namespaces, strict Base64, writing XEP-0082 stamps. */
import { base64 } from '@scure/base'
import { DecryptionError, Element, formatDateTime } from '@vouch/tm-core'

/** The namespace of `el`: its own `xmlns`, else the one inherited from `parentNs`. */
export function nsOf(el: Element, parentNs?: string): string | undefined {
  const own = el.attrs.xmlns
  return typeof own === 'string' ? own : parentNs
}

/** Child elements (no text nodes). */
export function childElements(el: Element): Element[] {
  return el.children.filter((c): c is Element => typeof c !== 'string')
}

/** The concatenated text children of `el`. */
export function textOf(el: Element): string {
  const only = el.children.length === 1 ? el.children[0] : undefined
  if (typeof only === 'string') return only // the usual case: one text node, no copy
  return el.children.filter((c): c is string => typeof c === 'string').join('')
}

// RFC 4648 alphabet with at most two trailing `=`; with a length that is a multiple of 4 this is
// exactly `(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?`, checked in one pass
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const WHITESPACE = /\s/

/**
 * Decodes RFC 4648 Base64 strictly (the alphabet `A–Z a–z 0–9 + /`, at most two `=` of padding,
 * a length that is a multiple of 4), unlike Node's `Buffer.from(text, 'base64')`, which drops what
 * it cannot read; whitespace (line breaks some senders insert) is ignored. Returns `undefined`
 * when the text is not Base64. Non-zero padding bits are ignored, as decoders commonly do
 * (RFC 4648 §3.5 lets a decoder reject them; a sender's sloppy encoder is not an attack here).
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const s = WHITESPACE.test(text) ? text.replace(/\s+/g, '') : text
  if (s.length % 4 !== 0 || !BASE64.test(s)) return undefined
  return base64.decode(clearPadBits(s))
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Zeroes the padding bits of the last character before `=` (the strict decoder refuses them). */
function clearPadBits(s: string): string {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0
  if (pad === 0) return s
  const at = s.length - pad - 1
  const value = ALPHABET.indexOf(s.charAt(at))
  const canonical = value & (pad === 2 ? 0b110000 : 0b111100)
  return canonical === value ? s : `${s.slice(0, at)}${ALPHABET.charAt(canonical)}${s.slice(at + 1)}`
}

export function encodeBase64(bytes: Uint8Array): string {
  return base64.encode(bytes)
}

/**
 * Writes `date` as an XEP-0082 DateTime with `Z` (D-2; {@link formatDateTime} of `@vouch/tm-core`).
 * @throws DecryptionError  `rule`: an invalid Date, or a year outside 0001–9999 (no DateTime)
 */
export function dateTimeOf(date: Date, rule: string, what: string): string {
  const stamp = formatDateTime(date)
  if (stamp === undefined)
    throw new DecryptionError(rule, `${what} must be a valid Date in the years 0001–9999 (XEP-0082)`)
  return stamp
}

/** A deep copy of an element (the caller's tree is never adopted or changed). */
export function cloneElement(el: Element): Element {
  const copy = new Element(el.name, { ...el.attrs })
  for (const child of el.children) copy.children.push(typeof child === 'string' ? child : cloneElement(child))
  for (const child of copy.children) if (typeof child !== 'string') child.parent = copy
  return copy
}
