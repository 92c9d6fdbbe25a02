/**
 * JIDs (RFC 7622), compared the way a PRECIS server compares them: Vouch uses bare JIDs as
 * security identities, so two spellings of one account must give one key, and a JID that is
 * ambiguous or malformed is rejected instead of being "fixed".
 *
 * - localpart: PRECIS UsernameCaseMapped (RFC 8265 §3.3: width mapping, lower case, NFC,
 *   IdentifierClass, Bidi Rule), then RFC 7622 §3.3.1's ban on `"&'/:<>@`;
 * - domainpart: UTS #46 non-transitional processing (IDNA2008, STD3 rules, hyphen, joiner and
 *   bidi checks) to the Unicode form: A-labels become U-labels (RFC 7622 §3.2.1), so
 *   `xn--bcher-kva.example` and `BÜCHER.example` are both `bücher.example`; a final dot is dropped;
 * - resourcepart: PRECIS OpaqueString (RFC 8265 §4.2: non-ASCII spaces to U+0020, NFC,
 *   FreeformClass; case kept).
 * Every part is 1 to 1023 bytes of UTF-8. Unicode format characters (bidi overrides,
 * zero-width joiners, …) are rejected anywhere. Plain ASCII parts only need lower case and
 * skip the Unicode work (hot path; `tr46` costs several µs per domain).
 */
import { toUnicode } from 'tr46'
import { InvalidJidError } from './contracts/errors.ts'
import type { BareJid, FullJid } from './contracts/ids.ts'
import { opaqueString, usernameCaseMapped } from './precis.ts'

export interface ParsedJid {
  readonly local: string | undefined
  readonly domain: string
  readonly resource: string | undefined
}

const MAX_PART_BYTES = 1023
// RFC 7622 §3.3.1: allowed by IdentifierClass, forbidden in a localpart
const FORBIDDEN_LOCAL = /["&'/:<>@]/
// Unicode format characters (bidi overrides, zero-width joiners, …) would let a JID display as
// another one on a confirmation screen; PRECIS and IDNA disallow or drop them.
const FORMAT_CHARACTERS = /\p{Cf}/u
/** printable ASCII without upper case and RFC 7622's forbidden characters: canonical as is */
const PLAIN_LOCAL_CHARS = '[!#-%(-.0-9;=?[-~]+'
/** the same with upper case: PRECIS only lower-cases it */
const ASCII_LOCAL = /^[!#-%(-.0-9;=?A-~]+$/
/** LDH labels in lower case, no hyphen first, last or in positions 3–4 (so no `xn--`) */
const PLAIN_LABEL = '(?![a-z0-9-]{2}--)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?'
const PLAIN_DOMAIN_SRC = `${PLAIN_LABEL}(?:\\.${PLAIN_LABEL})*`
/** the same in any case: UTS #46 only lower-cases it */
const ASCII_DOMAIN = new RegExp(`^${PLAIN_DOMAIN_SRC}$`, 'i')
const PLAIN_BARE = new RegExp(`^(?:${PLAIN_LOCAL_CHARS}@)?${PLAIN_DOMAIN_SRC}$`)
/** printable ASCII and space */
const PLAIN_RESOURCE = /^[\x20-\x7E]+$/
const UTS46 = {
  checkHyphens: true,
  checkBidi: true,
  checkJoiners: true,
  useSTD3ASCIIRules: true,
  transitionalProcessing: false,
} as const

const encoder = new TextEncoder()
const byteLength = (s: string): number => encoder.encode(s).length

function checkLength(part: string, what: string, rule: string): string {
  // a UTF-16 code unit is at most 3 bytes of UTF-8: short parts need no encoding
  if (part.length * 3 > MAX_PART_BYTES && byteLength(part) > MAX_PART_BYTES)
    throw new InvalidJidError(rule, `${what} longer than 1023 bytes`)
  return part
}

function localpart(raw: string, input: string, rule: string): string {
  if (raw.length === 0) throw new InvalidJidError(rule, `empty localpart in "${input}"`)
  let local: string
  if (ASCII_LOCAL.test(raw)) local = raw.toLowerCase()
  else {
    const r = usernameCaseMapped(raw)
    if (r.error !== undefined) throw new InvalidJidError(rule, `localpart of "${input}": ${r.error}`)
    local = r.value
  }
  if (FORBIDDEN_LOCAL.test(local))
    throw new InvalidJidError(rule, `forbidden character in localpart of "${input}"`)
  return checkLength(local, 'localpart', rule)
}

function domainpart(raw: string, input: string, rule: string): string {
  let domain: string
  if (ASCII_DOMAIN.test(raw)) domain = raw.toLowerCase()
  else {
    const r = toUnicode(raw, UTS46)
    if (r.error)
      throw new InvalidJidError(rule, `domainpart of "${input}" is not a valid domain name (UTS #46)`)
    domain = r.domain
    if (domain.endsWith('.')) domain = domain.slice(0, -1)
    if (domain.length === 0) throw new InvalidJidError(rule, `empty domainpart in "${input}"`)
    if (domain.split('.').some((label) => label.length === 0))
      throw new InvalidJidError(rule, `empty domain label in "${input}"`)
  }
  return checkLength(domain, 'domainpart', rule)
}

function resourcepart(raw: string, input: string, rule: string): string {
  if (raw.length === 0) throw new InvalidJidError(rule, `empty resourcepart in "${input}"`)
  let resource = raw
  if (!PLAIN_RESOURCE.test(raw)) {
    const r = opaqueString(raw)
    if (r.error !== undefined) throw new InvalidJidError(rule, `resourcepart of "${input}": ${r.error}`)
    resource = r.value
  }
  return checkLength(resource, 'resourcepart', rule)
}

/**
 * Parses and normalises a JID. `rule` prefixes the error (e.g. `TM-8`).
 * @throws InvalidJidError
 */
export function parseJid(input: string, rule = 'JID'): ParsedJid {
  if (typeof input !== 'string' || input.length === 0) throw new InvalidJidError(rule, 'empty JID')
  if (input.length > 3071) throw new InvalidJidError(rule, 'JID longer than 3071 characters')
  if (FORMAT_CHARACTERS.test(input))
    throw new InvalidJidError(rule, 'JID contains an invisible Unicode format character')
  // RFC 7622 §3.1: split at the first '/', then at the first '@' before it; then prepare
  const slash = input.indexOf('/')
  const beforeResource = slash === -1 ? input : input.slice(0, slash)
  const at = beforeResource.indexOf('@')
  return {
    local: at === -1 ? undefined : localpart(beforeResource.slice(0, at), input, rule),
    domain: domainpart(at === -1 ? beforeResource : beforeResource.slice(at + 1), input, rule),
    resource: slash === -1 ? undefined : resourcepart(input.slice(slash + 1), input, rule),
  }
}

/**
 * True when `value` is a bare JID in plain ASCII that {@link parseBareJid} returns unchanged
 * (the codec's hot path skips the parse for these).
 */
export function isPlainBareJid(value: string): boolean {
  return value.length <= MAX_PART_BYTES && PLAIN_BARE.test(value)
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
