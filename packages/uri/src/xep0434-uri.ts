/**
 * XEP-0434: Trust Messages — implements v0.6.0, §9.1.1 "trust-message" (Trust Message URI)
 * https://xmpp.org/extensions/xep-0434.html#registrar-querytypes
 *
 * Built on XEP-0147 (XMPP URI Query Components: `?querytype;key=value;…`) and RFC 5122 (XMPP
 * IRIs/URIs: scheme, path = JID, UTF-8 percent-encoding per RFC 3986/3987).
 *
 * XEP-0434 v0.6.0 §9.1.1, the rules this module enforces (ids from TM-ATM.md §2.4):
 * - URI-1 a Trust Message URI carries a trust message for one key owner.
 * - URI-5 "The JID attribute of the <key-owner/> element MUST be used as the Trust Message URI's
 *   path" (a bare JID).
 * - URI-6 "The first key-value pair of the URI's query MUST represent the encryption attribute".
 * - URI-7 "All remaining key-value pairs … MUST represent the <trust/> respectively <distrust/>
 *   elements of the <key-owner/> element."
 * - URI-8 "Each key identifier MUST be Base16-encoded (see RFC 4648)."
 * - URI-9 "The key of a key-value pair MUST be the element's respectively attribute's name and
 *   the value their content."
 * Plus TM-9 (a key owner has at least one trust or distrust id) and TM-11 (id length per protocol).
 *
 * URI-3 (trusted source) and URI-4 (user confirmation) are the caller's job: see README.
 */
import type { BareJid, KeyId } from '@vouch/tm-core'
import {
  DEFAULT_TRUST_MESSAGE_LIMITS,
  InvalidJidError,
  InvalidKeyIdError,
  InvalidUriError,
  keyIdByteLength,
  keyIdToHex,
  LimitExceededError,
  NS_OMEMO_2,
  NS_OMEMO_LEGACY,
  NS_OX,
  parseBareJid,
  parseKeyIdBase64,
  parseKeyIdHex,
} from '@vouch/tm-core'

/** XEP-0147 query type registered by XEP-0434 §9.1.1. */
export const QUERY_TYPE_TRUST_MESSAGE = 'trust-message'

/** One Trust Message URI: one key owner (URI-1), the protocol of the keys, and the key ids. */
export interface TrustMessageUri {
  /** the key owner, the URI's path (URI-5), normalised */
  readonly jid: BareJid
  /** the `encryption` pair (URI-6): namespace of the protocol the keys belong to */
  readonly encryption: string
  /** `trust` pairs (URI-7), canonical Base64 key ids, in URI order */
  readonly trust: readonly KeyId[]
  /** `distrust` pairs (URI-7), canonical Base64 key ids, in URI order */
  readonly distrust: readonly KeyId[]
}

/** Expected key-id length in bytes per encryption namespace (TM-11, D-6). */
export type KeyIdLength = number | ((encryption: string) => number | undefined)

export interface ParseTrustMessageUriOptions {
  /**
   * `true` (default): reject everything the XEP or RFC 5122 does not allow (pair order, unknown
   * pairs, fragments, whitespace, duplicate ids, unencoded characters). `false`: accept
   * `encryption` anywhere (still exactly once), ignore unknown pairs, empty pairs and the
   * fragment, remove whitespace (a URI copied from a wrapped document), drop duplicate ids and
   * let distrust win over trust for the same id (D-8).
   */
  readonly strict?: boolean
  /**
   * Expected key-id length in bytes (TM-11). A number applies to every id; a function is asked
   * per `encryption` (return `undefined` for "no check"). Default: {@link DEFAULT_KEY_ID_LENGTHS}.
   */
  readonly keyIdLength?: KeyIdLength
  /** The key owner the caller expects (e.g. the chat the code was scanned from), TM-ATM §9.2 item 6. */
  readonly expectedJid?: string
  /** Cap on the URI length in UTF-16 code units. Default {@link DEFAULT_URI_LIMITS}.maxLength. */
  readonly maxLength?: number
  /** Cap on `trust` + `distrust` pairs. Default {@link DEFAULT_URI_LIMITS}.maxKeys. */
  readonly maxKeys?: number
  /** Cap on the decoded bytes of one key id. Default {@link DEFAULT_URI_LIMITS}.maxKeyIdBytes. */
  readonly maxKeyIdBytes?: number
}

/** Options of {@link uriFromJson}: those of the URI parser that apply to a JSON value. */
export type UriFromJsonOptions = Omit<ParseTrustMessageUriOptions, 'maxLength'>

export interface UriLimits {
  readonly maxLength: number
  readonly maxKeys: number
  readonly maxKeyIdBytes: number
}

/**
 * Default caps. 4096 characters is above what a QR code can hold (2953 bytes at level L) and
 * fits about 55 OMEMO 2 ids; 64 ids is far above any real account; 64 bytes per id matches the
 * trust-message codec (DEFAULT_TRUST_MESSAGE_LIMITS.maxKeyIdBytes).
 */
export const DEFAULT_URI_LIMITS: UriLimits = Object.freeze({
  maxLength: 4096,
  maxKeys: 64,
  maxKeyIdBytes: DEFAULT_TRUST_MESSAGE_LIMITS.maxKeyIdBytes,
})

/**
 * Key-id byte lengths of the protocols Vouch knows (D-6): OMEMO 2 = 32-byte Ed25519 identity key,
 * OX = 20-byte v4 fingerprint, OMEMO 0.3 = 32-byte Curve25519 key without the 0x05 prefix.
 * Other namespaces get no length check (only the `maxKeyIdBytes` cap).
 */
export const DEFAULT_KEY_ID_LENGTHS: Readonly<Record<string, number>> = Object.freeze({
  [NS_OMEMO_2]: 32,
  [NS_OX]: 20,
  [NS_OMEMO_LEGACY]: 32,
})

const defaultKeyIdLength = (encryption: string): number | undefined =>
  Object.hasOwn(DEFAULT_KEY_ID_LENGTHS, encryption) ? DEFAULT_KEY_ID_LENGTHS[encryption] : undefined

interface Resolved {
  readonly strict: boolean
  readonly keyIdLength: (encryption: string) => number | undefined
  readonly expectedJid: string | undefined
  readonly maxLength: number
  readonly maxKeys: number
  readonly maxKeyIdBytes: number
}

export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  // A bad option is a programming error, not bad input: a RangeError, not a Vouch error.
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`)
  return value
}

function resolve(options: ParseTrustMessageUriOptions): Resolved {
  const kl = options.keyIdLength
  let keyIdLength: (encryption: string) => number | undefined
  if (kl === undefined) keyIdLength = defaultKeyIdLength
  else if (typeof kl === 'number') {
    const n = positiveInteger('keyIdLength', kl, 0)
    keyIdLength = () => n
  } else keyIdLength = kl
  return {
    strict: options.strict ?? true,
    keyIdLength,
    expectedJid: options.expectedJid,
    maxLength: positiveInteger('maxLength', options.maxLength, DEFAULT_URI_LIMITS.maxLength),
    maxKeys: positiveInteger('maxKeys', options.maxKeys, DEFAULT_URI_LIMITS.maxKeys),
    maxKeyIdBytes: positiveInteger('maxKeyIdBytes', options.maxKeyIdBytes, DEFAULT_URI_LIMITS.maxKeyIdBytes),
  }
}

// ---------------------------------------------------------------------------------------------
// Character classes (RFC 3986 §2, RFC 3987 §2.2, RFC 5122 §2.2, XEP-0147 §3)

/** Lone UTF-16 surrogates: not Unicode text, rejected in every mode. */
const LONE_SURROGATE = /\p{Cs}/u
/** ASCII whitespace a URI may be wrapped with (RFC 3986 Appendix C). */
const OUTER_WS = /^[\t\n\r ]+|[\t\n\r ]+$/g
const INNER_WS = /[\t\n\r ]+/g
const HAS_WS = /[\t\n\r ]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls are exactly what we reject
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u
/**
 * Characters allowed unencoded in the path (RFC 5122 `ipathxmpp`: iunreserved, pct-encoded,
 * nodeallow / resallow, `@`, `/`), with non-ASCII accepted as RFC 3987 `ucschar`. Characters the
 * JID itself forbids (RFC 7622) are rejected later by the JID parser.
 */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u
/** XEP-0147 `querytype` and `key`: unreserved / pct-encoded. */
export const KEY_CHARS = /^[A-Za-z0-9\-._~%]*$/
/**
 * XEP-0147 `value` is unreserved / pct-encoded; we also accept raw `:` (the XEP-0434 example
 * writes `encryption=urn:xmpp:omemo:2`), `@` and `/` (RFC 3986 query characters).
 */
export const VALUE_CHARS = /^[A-Za-z0-9\-._~%:@/]*$/
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/
/**
 * Unicode format characters (bidi overrides and isolates, zero-width characters, soft hyphen):
 * PRECIS (RFC 8264 §9) disallows them in identifiers, and they let a URI show one owner and name
 * another on the confirmation screen (`xmpp:\u202Emoc.elpmaxe@bob`).
 */
const FORMAT_CHAR = /\p{Cf}/u

export function pctDecode(text: string, rule: string, what: string): string {
  if (!text.includes('%')) return text
  if (BAD_PERCENT.test(text)) throw new InvalidUriError(rule, `malformed percent-encoding in ${what}`)
  try {
    return decodeURIComponent(text)
  } catch (cause) {
    throw new InvalidUriError(rule, `percent-encoding in ${what} is not UTF-8 (RFC 3987 §3.2)`, { cause })
  }
}

const encoder = new TextEncoder()
const HEX_DIGITS = '0123456789ABCDEF'

/** Percent-encodes UTF-8 bytes of every character not in `keep` (RFC 3986 §2.1, upper-case hex). */
function pctEncode(text: string, keep: RegExp): string {
  let out = ''
  for (const ch of text) {
    if (keep.test(ch)) {
      out += ch
      continue
    }
    for (const b of encoder.encode(ch)) out += `%${HEX_DIGITS[b >> 4]}${HEX_DIGITS[b & 15]}`
  }
  return out
}

/** RFC 3986 unreserved: the only characters the formatter leaves unencoded in a JID. */
const KEEP_JID = /^[A-Za-z0-9\-._~]$/
/** Unreserved plus `:` (kept in namespaces, as in the XEP example). */
const KEEP_VALUE = /^[A-Za-z0-9\-._~:]$/

export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}

// ---------------------------------------------------------------------------------------------
// Shared validation of the decoded parts (used by the URI parser and by uriFromJson)

interface RawParts {
  readonly jid: BareJid
  readonly encryption: string
  readonly trust: readonly string[]
  readonly distrust: readonly string[]
}

function checkEncryption(encryption: string): string {
  if (encryption.length === 0) throw new InvalidUriError('URI-6', 'empty encryption value')
  if (CONTROL.test(encryption) || FORMAT_CHAR.test(encryption) || /\s/u.test(encryption))
    throw new InvalidUriError('URI-6', 'encryption value contains whitespace, control or format characters')
  return encryption
}

/** `parseBareJid` plus a ban on Unicode format characters (see {@link FORMAT_CHAR}). */
export function ownerJid(text: string): BareJid {
  if (FORMAT_CHAR.test(text))
    throw new InvalidJidError('URI-5', 'bidi control or zero-width character in the key owner JID')
  return parseBareJid(text, 'URI-5')
}

function checkExpected(jid: BareJid, o: Resolved): void {
  if (o.expectedJid === undefined) return
  const expected = ownerJid(o.expectedJid)
  if (expected !== jid)
    throw new InvalidUriError('URI-5', `key owner "${clip(jid)}" is not the expected "${clip(expected)}"`)
}

function keyIds(hexes: readonly string[], expectedLength: number | undefined, o: Resolved): KeyId[] {
  return hexes.map((hex) => {
    // Cap first, so a huge id is not decoded (and the cap is a LimitExceededError).
    if (hex.length > o.maxKeyIdBytes * 2)
      throw new LimitExceededError(
        'LIMIT',
        'key id length in bytes',
        o.maxKeyIdBytes,
        Math.ceil(hex.length / 2),
      )
    const id = parseKeyIdHex(hex, 'URI-8')
    const length = keyIdByteLength(id)
    if (expectedLength !== undefined && length !== expectedLength)
      throw new InvalidKeyIdError(
        'TM-11',
        `key id "${clip(hex)}" has ${length} bytes, expected ${expectedLength}`,
      )
    return id
  })
}

function build(parts: RawParts, o: Resolved): TrustMessageUri {
  const encryption = checkEncryption(parts.encryption)
  const total = parts.trust.length + parts.distrust.length
  if (total > o.maxKeys) throw new LimitExceededError('LIMIT', 'key ids in a URI', o.maxKeys, total)
  if (total === 0)
    throw new InvalidUriError('TM-9', 'a Trust Message URI must carry at least one trust or distrust id')
  const expectedLength = o.keyIdLength(encryption)
  let trust = keyIds(parts.trust, expectedLength, o)
  let distrust = keyIds(parts.distrust, expectedLength, o)
  if (o.strict) {
    const seen = new Set<KeyId>()
    for (const id of [...trust, ...distrust]) {
      if (seen.has(id)) throw new InvalidUriError('URI-7', `key id ${keyIdToHex(id)} is listed twice`)
      seen.add(id)
    }
  } else {
    // D-8: inside one message, distrust wins over trust for the same key.
    distrust = [...new Set(distrust)]
    const distrusted = new Set(distrust)
    trust = [...new Set(trust)].filter((id) => !distrusted.has(id))
  }
  checkExpected(parts.jid, o)
  return Object.freeze({
    jid: parts.jid,
    encryption,
    trust: Object.freeze(trust),
    distrust: Object.freeze(distrust),
  })
}

// ---------------------------------------------------------------------------------------------
// Parse

/** What every `xmpp:` URI this package reads shares: scheme, path (the bare JID) and the raw query. */
export interface XmppUriHead {
  readonly jid: BareJid
  /** the query component after `?`, still percent-encoded */
  readonly query: string
}

/** The caps and strictness {@link readXmppUri} needs. */
export interface XmppUriHeadOptions {
  readonly strict: boolean
  readonly maxLength: number
}

/**
 * Reads the parts of an RFC 5122 URI that Trust Message URIs and deployed clients' fingerprint
 * URIs share (internal, not exported from the package): length cap, Unicode and whitespace
 * checks, fragment, the `xmpp:` scheme, no authority, the path as a bare JID, a query.
 *
 * @throws LimitExceededError, InvalidUriError (`URI-1`, `URI-5`), InvalidJidError (`URI-5`)
 */
export function readXmppUri(uri: string, o: XmppUriHeadOptions): XmppUriHead {
  if (typeof uri !== 'string') throw new InvalidUriError('URI-1', 'an xmpp: URI must be a string')
  if (uri.length > o.maxLength) throw new LimitExceededError('LIMIT', 'URI length', o.maxLength, uri.length)
  if (LONE_SURROGATE.test(uri)) throw new InvalidUriError('URI-1', 'URI is not well-formed Unicode')

  let text = uri.replace(OUTER_WS, '')
  if (HAS_WS.test(text)) {
    if (o.strict) throw new InvalidUriError('URI-1', 'whitespace inside the URI')
    text = text.replace(INNER_WS, '')
  }
  if (CONTROL.test(text)) throw new InvalidUriError('URI-1', 'control character in the URI')

  const hash = text.indexOf('#')
  if (hash !== -1) {
    if (o.strict) throw new InvalidUriError('URI-1', 'this URI has no fragment (#…)')
    text = text.slice(0, hash)
  }

  const colon = text.indexOf(':')
  if (colon === -1 || text.slice(0, colon).toLowerCase() !== 'xmpp')
    throw new InvalidUriError('URI-1', 'the scheme must be "xmpp:" (RFC 5122)')
  const rest = text.slice(colon + 1)
  const question = rest.indexOf('?')
  if (question === -1) throw new InvalidUriError('URI-1', 'no query component (?…)')
  const path = rest.slice(0, question)
  const query = rest.slice(question + 1)

  // RFC 5122 §2.3: an authority names the account to act as, never the target. A trust message
  // URI has no use for it, and accepting it would let `xmpp://mallory@…/bob@…` look like Bob's.
  if (path.startsWith('//'))
    throw new InvalidUriError(
      'URI-5',
      'an authority component (xmpp://) is not allowed; the path is the key owner',
    )
  if (o.strict && !PATH_CHARS.test(path))
    throw new InvalidUriError('URI-5', 'character not allowed unencoded in the path (RFC 5122 §2.7.2)')
  const jid = ownerJid(pctDecode(path, 'URI-5', 'the path'))

  return { jid, query }
}

/**
 * Parses a Trust Message URI (`xmpp:<bare-jid>?trust-message;encryption=<ns>;trust=<hex>;…`).
 *
 * @throws LimitExceededError (`LIMIT`) URI longer than `maxLength`, more than `maxKeys` ids, an
 *   id over `maxKeyIdBytes`
 * @throws InvalidUriError `URI-1` not an `xmpp:` URI with query type `trust-message`, whitespace
 *   or a fragment (strict), lone surrogates or control characters; `URI-5` authority component
 *   (`xmpp://`), unencoded characters in the path (strict), bad percent-encoding, key owner not
 *   `expectedJid`; `URI-6` first pair not `encryption` (strict), `encryption` missing, repeated
 *   or empty; `URI-7` unknown pair or duplicate id (strict); `URI-9` empty pair, pair without
 *   `=`, unencoded characters in a key or value (strict); `TM-9` no trust or distrust id
 * @throws InvalidJidError `URI-5` path is not a well-formed bare JID (full JID, malformed)
 * @throws InvalidKeyIdError `URI-8` id not Base16 (odd length, non-hex, empty); `TM-11` id of
 *   the wrong length for the encryption protocol
 */
export function parseTrustMessageUri(
  uri: string,
  options: ParseTrustMessageUriOptions = {},
): TrustMessageUri {
  const o = resolve(options)
  const { jid, query } = readXmppUri(uri, o)
  const segments = query.split(';')
  const rawType = segments[0] ?? ''
  if (o.strict && !KEY_CHARS.test(rawType))
    throw new InvalidUriError('URI-1', 'character not allowed unencoded in the query type (XEP-0147)')
  const type = pctDecode(rawType, 'URI-1', 'the query type')
  if (type !== QUERY_TYPE_TRUST_MESSAGE)
    throw new InvalidUriError('URI-1', `query type is "${clip(type)}", not "${QUERY_TYPE_TRUST_MESSAGE}"`)

  let encryption: string | undefined
  const trust: string[] = []
  const distrust: string[] = []
  let keyCount = 0
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] ?? ''
    if (segment.length === 0) {
      if (o.strict) throw new InvalidUriError('URI-9', 'empty key-value pair (";;" or a trailing ";")')
      continue
    }
    const eq = segment.indexOf('=')
    const rawKey = eq === -1 ? segment : segment.slice(0, eq)
    const rawValue = eq === -1 ? undefined : segment.slice(eq + 1)
    if (o.strict && !KEY_CHARS.test(rawKey))
      throw new InvalidUriError(
        'URI-9',
        `character not allowed unencoded in key "${clip(rawKey)}" (XEP-0147)`,
      )
    const key = pctDecode(rawKey, 'URI-9', 'a key')
    const known = key === 'encryption' || key === 'trust' || key === 'distrust'

    if (o.strict && i === 1 && key !== 'encryption')
      throw new InvalidUriError('URI-6', `the first key-value pair must be "encryption", not "${clip(key)}"`)
    if (!known) {
      if (o.strict)
        throw new InvalidUriError('URI-7', `unknown key "${clip(key)}": only trust and distrust may follow`)
      continue
    }
    if (rawValue === undefined) throw new InvalidUriError('URI-9', `pair "${key}" has no "=" and no value`)
    if (o.strict && !VALUE_CHARS.test(rawValue))
      throw new InvalidUriError(
        'URI-9',
        `character not allowed unencoded in the value of "${key}" (XEP-0147)`,
      )

    if (key === 'encryption') {
      if (encryption !== undefined) throw new InvalidUriError('URI-6', 'more than one encryption pair')
      encryption = pctDecode(rawValue, 'URI-6', 'the encryption value')
      continue
    }
    keyCount++
    if (keyCount > o.maxKeys) throw new LimitExceededError('LIMIT', 'key ids in a URI', o.maxKeys, keyCount)
    const hex = pctDecode(rawValue, 'URI-8', `a ${key} value`)
    if (key === 'trust') trust.push(hex)
    else distrust.push(hex)
  }
  if (encryption === undefined) throw new InvalidUriError('URI-6', 'no encryption pair')
  return build({ jid, encryption, trust, distrust }, o)
}

// ---------------------------------------------------------------------------------------------
// Format

function checkForOutput(uri: TrustMessageUri): {
  jid: BareJid
  encryption: string
  trust: string[]
  distrust: string[]
} {
  if (typeof uri !== 'object' || uri === null) throw new InvalidUriError('URI-1', 'not a TrustMessageUri')
  const jid = ownerJid(uri.jid)
  const encryption = checkEncryption(uri.encryption)
  const hexes = (ids: readonly KeyId[]): string[] =>
    ids.map((id) => keyIdToHex(parseKeyIdBase64(id, 'URI-8')))
  const trust = hexes(uri.trust)
  const distrust = hexes(uri.distrust)
  if (trust.length + distrust.length === 0)
    throw new InvalidUriError('TM-9', 'a Trust Message URI must carry at least one trust or distrust id')
  const seen = new Set<string>()
  for (const hex of [...trust, ...distrust]) {
    if (seen.has(hex)) throw new InvalidUriError('URI-7', `key id ${hex} is listed twice`)
    seen.add(hex)
  }
  return { jid, encryption, trust, distrust }
}

/**
 * Serialises a Trust Message URI: `trust-message`, then `encryption`, then every `trust`, then
 * every `distrust` (QXmpp's order), key ids in lower-case Base16 (URI-8), the JID and the
 * namespace percent-encoded (UTF-8, upper-case hex) except RFC 3986 unreserved characters, the
 * `@` between localpart and domainpart, and `:` in the namespace. `parseTrustMessageUri` of the
 * result (with default caps) gives back an equal value.
 *
 * @throws InvalidJidError `URI-5` `jid` is not a bare JID
 * @throws InvalidUriError `URI-6` empty encryption; `URI-7` an id listed twice; `TM-9` no ids
 * @throws InvalidKeyIdError `URI-8` an id that is not canonical Base64
 */
export function formatTrustMessageUri(uri: TrustMessageUri): string {
  const { jid, encryption, trust, distrust } = checkForOutput(uri)
  const at = jid.indexOf('@')
  const path =
    at === -1
      ? pctEncode(jid, KEEP_JID)
      : `${pctEncode(jid.slice(0, at), KEEP_JID)}@${pctEncode(jid.slice(at + 1), KEEP_JID)}`
  let out = `xmpp:${path}?${QUERY_TYPE_TRUST_MESSAGE};encryption=${pctEncode(encryption, KEEP_VALUE)}`
  for (const hex of trust) out += `;trust=${hex}`
  for (const hex of distrust) out += `;distrust=${hex}`
  return out
}

// ---------------------------------------------------------------------------------------------
// JSON (CLI)

/** JSON form of a Trust Message URI for the CLI: key ids in lower-case Base16, as in the URI. */
export interface TrustMessageUriJson {
  readonly jid: string
  readonly encryption: string
  readonly trust: readonly string[]
  readonly distrust: readonly string[]
}

/**
 * The JSON form (`{"jid","encryption","trust":[hex],"distrust":[hex]}` in that key order, so
 * `JSON.stringify` output is stable).
 * @throws the same errors as {@link formatTrustMessageUri}
 */
export function uriToJson(uri: TrustMessageUri): TrustMessageUriJson {
  const { jid, encryption, trust, distrust } = checkForOutput(uri)
  return { jid, encryption, trust, distrust }
}

const JSON_KEYS: ReadonlySet<string> = new Set(['jid', 'encryption', 'trust', 'distrust'])

function hexList(value: unknown, key: string, strict: boolean): string[] {
  if (value === undefined && !strict) return []
  if (!Array.isArray(value)) throw new InvalidUriError('URI-7', `"${key}" must be an array of Base16 strings`)
  return value.map((v) => {
    if (typeof v !== 'string') throw new InvalidKeyIdError('URI-8', `"${key}" holds a non-string key id`)
    return v
  })
}

/**
 * Reads the JSON form back (e.g. `JSON.parse` output), with the checks and errors of
 * {@link parseTrustMessageUri}. Strict mode also rejects unknown properties and missing arrays.
 * @throws InvalidUriError `URI-1` not an object; `URI-7` unknown property (strict), `trust` or
 *   `distrust` not an array; others as {@link parseTrustMessageUri}
 * @throws InvalidJidError, InvalidKeyIdError, LimitExceededError as {@link parseTrustMessageUri}
 */
export function uriFromJson(value: unknown, options: UriFromJsonOptions = {}): TrustMessageUri {
  const o = resolve(options)
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidUriError('URI-1', 'a Trust Message URI in JSON must be an object')
  const record = value as Record<string, unknown>
  if (o.strict) {
    for (const key of Object.keys(record))
      if (!JSON_KEYS.has(key)) throw new InvalidUriError('URI-7', `unknown property "${clip(key)}"`)
  }
  const { jid, encryption } = record
  if (typeof jid !== 'string') throw new InvalidUriError('URI-5', '"jid" must be a string')
  if (typeof encryption !== 'string') throw new InvalidUriError('URI-6', '"encryption" must be a string')
  const trust = hexList(record.trust, 'trust', o.strict)
  const distrust = hexList(record.distrust, 'distrust', o.strict)
  const total = trust.length + distrust.length
  if (total > o.maxKeys) throw new LimitExceededError('LIMIT', 'key ids in a URI', o.maxKeys, total)
  return build({ jid: ownerJid(jid), encryption, trust, distrust }, o)
}
