/**
 * XEP-0384 wire text, as both versions write it (v0.3 `eu.siacs.conversations.axolotl` and v0.9
 * `urn:xmpp:omemo:2`): device ids, Base64 element text, the caps on received elements. Strict
 * parsers that throw a typed error with the caller's rule (`OMEMO-XML`, `OMEMO03-XML`, …).
 */
import type { Element } from '@vouch/tm-core'
import { DecryptionError, LimitExceededError } from '@vouch/tm-core'

/** Device ids are 1 … 2³¹−1 (XEP-0384; Conversations and libsignal use positive 31-bit registration ids). */
export const MAX_DEVICE_ID = 0x7fffffff

/** Caps on received elements (a security policy, overridable per backend). */
export interface OmemoWireLimits {
  /** `<key/>` elements per message; default 1024 */
  readonly maxKeys: number
  /** bytes of one decoded `<key/>`; default 4096 */
  readonly maxKeyBytes: number
  /** bytes of the decoded `<payload/>`; default 256 KiB */
  readonly maxPayloadBytes: number
  /** pre keys in a bundle and devices in a list; default 1024 */
  readonly maxListEntries: number
}

export const DEFAULT_WIRE_LIMITS: OmemoWireLimits = Object.freeze({
  maxKeys: 1024,
  maxKeyBytes: 4096,
  maxPayloadBytes: 256 * 1024,
  maxListEntries: 1024,
})

/** Bytes per `String.fromCharCode` call in {@link b64} (well under any engine's argument limit). */
const B64_CHUNK = 0x2000

/**
 * Standard Base64 with padding (the text @scure/base writes), through the platform's `btoa`
 * (browsers and Node): a message's keys, IV and payload are encoded on every send, and `btoa` is
 * several times faster than a JavaScript encoder on them.
 */
export function b64(u: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < u.length; i += B64_CHUNK)
    bin += String.fromCharCode.apply(null, u.subarray(i, i + B64_CHUNK) as unknown as number[])
  return btoa(bin)
}

/** The text children of `el`, joined. */
export function textOf(el: Element): string {
  let s = ''
  for (const c of el.children) if (typeof c === 'string') s += c
  return s
}

/** The element children of `el` named `name`. */
export function childrenNamed(el: Element, name: string): Element[] {
  return el.children.filter((c): c is Element => typeof c !== 'string' && c.name === name)
}

/** The one child `name` of `el`. @throws DecryptionError `rule` when there is none or more than one */
export function exactlyOne(el: Element, name: string, rule: string): Element {
  const found = childrenNamed(el, name)
  if (found.length !== 1) throw new DecryptionError(rule, `<${el.name}/> needs exactly one <${name}/>`)
  return found[0] as Element
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Whether the bits a padded Base64 text leaves unused are zero (RFC 4648 §3.5: canonical). */
function canonicalPadding(s: string): boolean {
  const n = s.length
  if (s.charCodeAt(n - 2) === 61) return (ALPHABET.indexOf(s.charAt(n - 3)) & 0x0f) === 0 // '=='
  if (s.charCodeAt(n - 1) === 61) return (ALPHABET.indexOf(s.charAt(n - 2)) & 0x03) === 0 // '='
  return true
}

/**
 * Decodes Base64 element text (whitespace allowed), with a size cap. Strict: the standard
 * alphabet, padded, canonical (unused bits zero), else `DecryptionError(rule)`; longer than
 * `maxBytes`: `LimitExceededError('LIMIT')`. Checked here, then the platform's `atob` (browsers
 * and Node) decodes it — about five times faster than a JavaScript decoder on a message's keys
 * and payload.
 */
export function decodeBase64(value: string, what: string, maxBytes: number, rule: string): Uint8Array {
  const s = /\s/.test(value) ? value.replace(/\s+/g, '') : value
  if (s.length % 4 !== 0 || !B64.test(s)) throw new DecryptionError(rule, `${what} is not Base64`)
  if ((s.length / 4) * 3 > maxBytes + 2)
    throw new LimitExceededError('LIMIT', `${what} bytes`, maxBytes, Math.floor((s.length / 4) * 3))
  if (s.length > 0 && !canonicalPadding(s)) throw new DecryptionError(rule, `${what} is not canonical Base64`)
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/** A device id attribute: decimal, 1 … 2³¹−1. @throws DecryptionError `rule` */
export function parseDeviceId(value: string | undefined, what: string, rule: string): number {
  if (value === undefined || !/^[0-9]{1,10}$/.test(value))
    throw new DecryptionError(rule, `${what} is not a device id`)
  const n = Number(value)
  if (n < 1 || n > MAX_DEVICE_ID) throw new DecryptionError(rule, `${what} ${n} is outside 1 … 2³¹−1`)
  return n
}

/** A uint32 attribute (pre key and signed pre key ids). @throws DecryptionError `rule` */
export function parseUint32(v: string | undefined, what: string, rule: string): number {
  if (v === undefined || !/^[0-9]{1,10}$/.test(v) || Number(v) > 0xffffffff)
    throw new DecryptionError(rule, `${what} is not a uint32`)
  return Number(v)
}
