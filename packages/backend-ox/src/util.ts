/** Small helpers shared by the OX modules: namespaces, strict Base64, XEP-0082 DateTime. */
import { Element } from '@vouch/tm-core'

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
 * Decodes RFC 4648 Base64; whitespace (line breaks some senders insert) is ignored. Returns
 * `undefined` when the text is not Base64.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const s = WHITESPACE.test(text) ? text.replace(/\s+/g, '') : text
  if (s.length % 4 !== 0 || !BASE64.test(s)) return undefined
  return new Uint8Array(Buffer.from(s, 'base64'))
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,32}))?(Z|[+-]\d{2}:\d{2})?$/

/**
 * Reads an XEP-0082 DateTime (D-2: a stamp without a zone is UTC). Returns `undefined` when it
 * is not one.
 */
export function parseDateTime(text: string): Date | undefined {
  const m = DATE_TIME.exec(text)
  if (m === null) return undefined
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m
  const year = Number(ys)
  const month = Number(mos)
  const day = Number(ds)
  const hour = Number(hs)
  const minute = Number(mis)
  const second = Number(ss)
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
    return undefined
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0
  if (day > days) return undefined
  let offset = 0
  if (zone !== undefined && zone !== 'Z') {
    const oh = Number(zone.slice(1, 3))
    const om = Number(zone.slice(4, 6))
    if (om > 59 || oh > 14 || (oh === 14 && om > 0)) return undefined
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'))
  // Date.UTC maps the years 0–99 to 1900–1999: only from 100 on is it the one-call path
  if (year >= 100) return new Date(Date.UTC(year, month - 1, day, hour, minute - offset, second, ms))
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(hour, minute - offset, second, ms)
  return d
}

/** Writes an XEP-0082 DateTime in UTC with `Z` (D-2), milliseconds only when not 0. */
export function formatDateTime(date: Date): string {
  const iso = date.toISOString()
  return date.getUTCMilliseconds() === 0 ? `${iso.slice(0, 19)}Z` : iso
}

/** A deep copy of an element (the caller's tree is never adopted or changed). */
export function cloneElement(el: Element): Element {
  const copy = new Element(el.name, { ...el.attrs })
  for (const child of el.children) copy.children.push(typeof child === 'string' ? child : cloneElement(child))
  for (const child of copy.children) if (typeof child !== 'string') child.parent = copy
  return copy
}
