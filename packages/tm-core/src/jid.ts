/**
 * JIDs (RFC 7622), checked strictly: Vouch compares bare JIDs as security identities, so a JID
 * that is ambiguous or malformed is rejected instead of being "fixed".
 *
 * Normalisation is a conservative subset of PRECIS: Unicode NFC, then lower case for the
 * localpart and domainpart. Characters RFC 7622 forbids in a localpart (`"&'/:<>@`, spaces and
 * controls) are rejected, never escaped.
 */
import type { BareJid, FullJid } from './contracts/ids.ts'
import { InvalidJidError } from './contracts/errors.ts'

export interface ParsedJid {
  readonly local: string | undefined
  readonly domain: string
  readonly resource: string | undefined
}

const MAX_PART_BYTES = 1023
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls are exactly what we reject
const FORBIDDEN_LOCAL = /[\s"&'/:<>@\u0000-\u001f\u007f]/u
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls are exactly what we reject
const FORBIDDEN_DOMAIN = /[\s"&'/:<>@\\\u0000-\u001f\u007f]/u
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls are exactly what we reject
const FORBIDDEN_RESOURCE = /[\u0000-\u001f\u007f]/u
// Unicode format characters (bidi overrides, zero-width joiners, …) would let a JID display as
// another one on a confirmation screen; PRECIS disallows them in every part.
const FORMAT_CHARACTERS = /\p{Cf}/u

const encoder = new TextEncoder()
const byteLength = (s: string): number => encoder.encode(s).length

/**
 * Parses and normalises a JID. `rule` prefixes the error (e.g. `TM-8`).
 * @throws InvalidJidError
 */
export function parseJid(input: string, rule = 'JID'): ParsedJid {
  if (typeof input !== 'string' || input.length === 0) throw new InvalidJidError(rule, 'empty JID')
  if (input.length > 3071) throw new InvalidJidError(rule, 'JID longer than 3071 characters')
  if (FORMAT_CHARACTERS.test(input))
    throw new InvalidJidError(rule, 'JID contains an invisible Unicode format character')
  const slash = input.indexOf('/')
  const beforeResource = slash === -1 ? input : input.slice(0, slash)
  const resource = slash === -1 ? undefined : input.slice(slash + 1)
  const at = beforeResource.indexOf('@')
  const localRaw = at === -1 ? undefined : beforeResource.slice(0, at)
  const domainRaw = at === -1 ? beforeResource : beforeResource.slice(at + 1)

  if (localRaw !== undefined) {
    if (localRaw.length === 0) throw new InvalidJidError(rule, `empty localpart in "${input}"`)
    if (FORBIDDEN_LOCAL.test(localRaw))
      throw new InvalidJidError(rule, `forbidden character in localpart of "${input}"`)
  }
  let domain = domainRaw.normalize('NFC').toLowerCase()
  if (domain.endsWith('.')) domain = domain.slice(0, -1)
  if (domain.length === 0) throw new InvalidJidError(rule, `empty domainpart in "${input}"`)
  if (FORBIDDEN_DOMAIN.test(domain))
    throw new InvalidJidError(rule, `forbidden character in domainpart of "${input}"`)
  if (domain.split('.').some((label) => label.length === 0))
    throw new InvalidJidError(rule, `empty domain label in "${input}"`)
  if (byteLength(domain) > MAX_PART_BYTES)
    throw new InvalidJidError(rule, 'domainpart longer than 1023 bytes')
  const local = localRaw?.normalize('NFC').toLowerCase()
  if (local !== undefined && byteLength(local) > MAX_PART_BYTES)
    throw new InvalidJidError(rule, 'localpart longer than 1023 bytes')
  if (resource !== undefined) {
    if (resource.length === 0) throw new InvalidJidError(rule, `empty resourcepart in "${input}"`)
    if (FORBIDDEN_RESOURCE.test(resource))
      throw new InvalidJidError(rule, `control character in resourcepart of "${input}"`)
    if (byteLength(resource) > MAX_PART_BYTES)
      throw new InvalidJidError(rule, 'resourcepart longer than 1023 bytes')
  }
  return { local, domain, resource: resource?.normalize('NFC') }
}

function bareOf(p: ParsedJid): string {
  return p.local === undefined ? p.domain : `${p.local}@${p.domain}`
}

/**
 * Parses a JID that must be bare (no resource).
 * @throws InvalidJidError when malformed or when it has a resource
 */
export function parseBareJid(input: string, rule = 'JID'): BareJid {
  const p = parseJid(input, rule)
  if (p.resource !== undefined) throw new InvalidJidError(rule, `"${input}" must be a bare JID (no resource)`)
  return bareOf(p) as BareJid
}

/** Parses any JID and returns its bare part. */
export function toBareJid(input: string, rule = 'JID'): BareJid {
  return bareOf(parseJid(input, rule)) as BareJid
}

/** Parses a JID that must be full (with a resource). */
export function parseFullJid(input: string, rule = 'JID'): FullJid {
  const p = parseJid(input, rule)
  if (p.resource === undefined)
    throw new InvalidJidError(rule, `"${input}" must be a full JID (with a resource)`)
  return `${bareOf(p)}/${p.resource}` as FullJid
}

/** True if both JIDs parse and have the same bare part (D-3). */
export function sameBareJid(a: string, b: string): boolean {
  try {
    return toBareJid(a) === toBareJid(b)
  } catch {
    return false
  }
}
