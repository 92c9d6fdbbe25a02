/**
 * XEP-0420: Stanza Content Encryption — implements v0.5.0
 * https://xmpp.org/extensions/xep-0420.html
 *
 * Builds and opens SCE envelopes with the affix profile XEP-0434 v0.6.0 §5.2.1 requires of trust
 * messages (TM-17 … TM-20) and the receiver checks XEP-0420 §4 "Affix Elements" requires (SCE-1 … SCE-4), following
 * the project decisions D-2 (time stamps) and D-3 (bare JIDs). The wire shapes we read are listed in
 * {@link SCE_DIALECTS}; the older `urn:xmpp:sce:0` shapes are read only with `legacy: true`.
 */
import type { BareJid, TimeWindow, XmlLimits } from '@vouch/tm-core'
import {
  formatDateTime,
  InvalidEnvelopeError,
  isVouchError,
  LimitExceededError,
  outsideTimeWindow,
  parseDateTime,
  parseXml,
  randomBytes,
  toBareJid,
} from '@vouch/tm-core'
import { base64nopad } from '@scure/base'
import { Element } from '@xmpp/xml'
import { type AffixProfile, requireAffixes, type SceAffixes, TRUST_MESSAGE_PROFILE } from './profiles.ts'

/** Current namespace (XEP-0420 ≥ 0.4.0): root `<envelope/>`, payload in `<content/>`. */
export const NS_SCE = 'urn:xmpp:sce:1'
/** Legacy namespace (XEP-0420 0.1–0.3, XEP-0434 ≤ 0.4): payload in `<payload/>`. */
export const NS_SCE_LEGACY = 'urn:xmpp:sce:0'

/** One wire shape of an SCE envelope that {@link openEnvelope} reads. */
export interface SceDialect {
  readonly namespace: string
  /** local name of the root element */
  readonly root: string
  /** local name of the child that holds the encrypted extension elements */
  readonly content: string
  /** read only when the caller passes `legacy: true` */
  readonly legacy: boolean
  /** where this shape comes from */
  readonly source: string
}

/**
 * Every envelope shape we read, and the only place that knows about them (project decision
 * "Namespaces": legacy support through a table, never scattered `if`s). The first row is what
 * {@link buildEnvelope} emits.
 */
export const SCE_DIALECTS: readonly SceDialect[] = Object.freeze([
  Object.freeze({
    namespace: NS_SCE,
    root: 'envelope',
    content: 'content',
    legacy: false,
    source: 'XEP-0420 v0.4.0+ (XEP-0434 v0.5.0+)',
  }),
  Object.freeze({
    namespace: NS_SCE_LEGACY,
    root: 'content',
    content: 'payload',
    legacy: true,
    source: 'XEP-0420 v0.1.0–v0.3.2 (XEP-0434 v0.2.0–v0.4.0)',
  }),
  Object.freeze({
    namespace: NS_SCE_LEGACY,
    root: 'envelope',
    content: 'payload',
    legacy: true,
    source: 'XEP-0434 early draft (v0.0.1/v0.1.0) Listing 6',
  }),
])

const EMIT = SCE_DIALECTS[0] as SceDialect

/**
 * How {@link buildEnvelope} sizes `<rpad/>`, in two steps (project decision D-7):
 *
 * 1. **fill**: enough characters that the serialized envelope is at least `minEnvelopeBytes`
 *    UTF-8 bytes long (0 when it already is);
 * 2. **random part**: `minLength … maxLength` more characters, uniform, from the CSPRNG. This is the
 *    XEP-0420 v0.5.0 §4 "Affix Elements" `<rpad/>` row: "a randomly generated sequence of random
 *    length between 0 and 200 characters".
 *
 * XEP-0420 v0.5.0 itself has no minimum size (its row ends "TODO: sane boundaries?"); the fill is
 * D-7, so a short trust message and a short chat have the same length. An rpad longer than 200
 * characters stays valid for every receiver: "longer paddings than expected MUST not be rejected"
 * (§4, rule SCE-4).
 *
 * 1024 bytes: a trust message with up to nine OMEMO 2 keys in two or three key owners (about
 * 970 bytes with short JIDs) and a chat of up to about 800 characters fit, so they all come out
 * uniform in 1024–1224 bytes, for a cost of at most 1 KiB per (short) message.
 */
export const DEFAULT_RPAD = Object.freeze({ minLength: 0, maxLength: 200, minEnvelopeBytes: 1024 })
/** Largest random part (`maxLength`) and largest `minEnvelopeBytes` {@link buildEnvelope} accepts. */
export const MAX_RPAD_LENGTH = 1 << 16
/**
 * SCE-1 margin between `<time/>` and the stanza's sending time, in seconds: the default window is
 * this many seconds either side (`{ maxAgeSeconds: 300, futureSkewSeconds: 300 }`).
 */
export const DEFAULT_SCE_MARGIN_SECONDS = 300

/** A source of cryptographically secure random bytes: `n` bytes per call. */
export type RandomSource = (n: number) => Uint8Array

export interface BuildEnvelopeInit {
  /** the extension elements to encrypt (e.g. a `<trust-message/>`); copied, never moved */
  readonly content: Element | readonly Element[]
  /** sender; written as its bare JID (D-3) */
  readonly from: string
  /** recipient; written as its bare JID (D-3) */
  readonly to: string
  /** when the message is encrypted; written as XEP-0082 with `Z` (D-2) */
  readonly time: Date
  /**
   * rpad sizing, see {@link DEFAULT_RPAD}. `minLength`/`maxLength`: bounds of the random part in
   * characters (default 0–200). `minEnvelopeBytes`: the serialized envelope
   * ({@link serializeEnvelope}, UTF-8) is first filled up to this size (default 1024; 0 turns the
   * fill off and gives the plain XEP-0420 0–200 rpad).
   */
  readonly rpad?: {
    readonly minLength?: number
    readonly maxLength?: number
    readonly minEnvelopeBytes?: number
  }
  /** CSPRNG; default tm-core's `randomBytes` (Web Crypto). Inject only for deterministic tests. */
  readonly random?: RandomSource
}

/** What each affix requirement defaults to: all four are MUST for trust messages. */
export interface EnvelopeRequirements {
  /** TM-17 */
  readonly rpad?: boolean
  /** TM-18 */
  readonly time?: boolean
  /** TM-19 (SHOULD in XEP-0434, MUST under XEP-0450) */
  readonly from?: boolean
  /** TM-20 (SHOULD in XEP-0434, MUST under XEP-0450) */
  readonly to?: boolean
}

export interface OpenEnvelopeOptions {
  /** `from` of the stanza that carried the envelope (full or bare) */
  readonly stanzaFrom: string
  /** `to` of the stanza that carried the envelope (full or bare) */
  readonly stanzaTo: string
  /** the receiver's clock */
  readonly now: Date
  /** XEP-0203 `<delay stamp>` when the stanza came from an archive or offline storage */
  readonly stanzaTime?: Date
  /**
   * SCE-1 window, inclusive, in seconds: how far `<time/>` may lie before the sending time
   * (`maxAgeSeconds`) and after it (`futureSkewSeconds`, clock skew). The rule is tm-core's
   * `outsideTimeWindow`, shared with every protocol that protects a sending time. Default
   * {@link DEFAULT_SCE_MARGIN_SECONDS} either side. Give either `window` or `marginSeconds`.
   */
  readonly window?: TimeWindow
  /** SCE-1 symmetric margin in seconds: the window `{ maxAgeSeconds: m, futureSkewSeconds: m }` */
  readonly marginSeconds?: number
  /** also read the `urn:xmpp:sce:0` shapes of {@link SCE_DIALECTS}; default false */
  readonly legacy?: boolean
  /**
   * which affixes must be present; every one defaults to true (TM-17 … TM-20). Ignored when
   * {@link profile} is given.
   */
  readonly require?: EnvelopeRequirements
  /**
   * The affix profile of the message kind (see `profiles.ts`): e.g. `OMEMO2_CHAT_PROFILE` for
   * OMEMO 2 chat (only `<rpad/>` required), or a function that picks it from the envelope's
   * `<content/>` (e.g. the trust-message profile when it holds a `<trust-message/>`). Default:
   * the trust-message profile, narrowed by {@link require}. An affix that is present is checked
   * whatever the profile.
   */
  readonly profile?: AffixProfile | ((content: Element) => AffixProfile)
  /**
   * Optional cap on rpad characters. Unset by default: SCE-4 forbids rejecting a long rpad, so
   * only the XML size cap applies. Setting it is a deliberate departure from SCE-4.
   */
  readonly maxRpadChars?: number
  /** caps for string input (characters, depth, elements); default tm-core's DEFAULT_XML_LIMITS */
  readonly xmlLimits?: Partial<XmlLimits>
}

export interface OpenedEnvelope {
  /** namespace of the envelope as received */
  readonly namespace: string
  /** true when a `urn:xmpp:sce:0` shape was read */
  readonly legacy: boolean
  /** `<time stamp>`, already checked against the window (SCE-1) */
  readonly time: Date | undefined
  /** bare JID of `<from jid>`, already checked against the stanza (SCE-3) */
  readonly from: BareJid | undefined
  /** bare JID of `<to jid>`, already checked against the stanza (SCE-2) */
  readonly to: BareJid | undefined
  /** characters of `<rpad/>` text (0 when absent) */
  readonly rpadLength: number
  /** which affixes the envelope carried (for a profile check after opening, and for the app) */
  readonly affixes: SceAffixes
  /** a detached copy of `<content/>` (`<payload/>` for legacy), with its `xmlns` set */
  readonly content: Element
}

/** The JSON form printed by `vouch sce open`. Absent affixes are `null`. */
export interface EnvelopeJson {
  readonly time: string | null
  readonly from: string | null
  readonly to: string | null
  readonly rpadLength: number
  readonly content: string
}

// ——— building ———

/**
 * Builds an `urn:xmpp:sce:1` envelope with all four affixes: `<rpad/>` of CSPRNG content, filled to
 * a minimum envelope size and then lengthened by a CSPRNG length (see {@link DEFAULT_RPAD}),
 * `<time/>`, `<from/>`, `<to/>`, then `<content/>` holding copies of `content`. The size guarantee
 * holds for the text {@link serializeEnvelope} (`envelope.toString()`) returns for the element as
 * built: encrypt exactly that text.
 * @throws InvalidJidError (rule D-3) when `from` or `to` is not a JID
 * @throws InvalidEnvelopeError (D-2) for an invalid `time` or a year outside 0001–9999,
 *   (TM-17) for bad rpad options or a random source that returns too few bytes
 */
export function buildEnvelope(init: BuildEnvelopeInit): Element {
  const from = toBareJid(init.from, 'D-3')
  const to = toBareJid(init.to, 'D-3')
  const stamp = init.time instanceof Date ? formatDateTime(init.time) : undefined
  if (stamp === undefined)
    throw new InvalidEnvelopeError('D-2', 'time must be a valid Date in the years 0001–9999')
  const random = init.random ?? defaultRandom
  const minLength = init.rpad?.minLength ?? DEFAULT_RPAD.minLength
  const maxLength = init.rpad?.maxLength ?? Math.max(DEFAULT_RPAD.maxLength, minLength)
  const minEnvelopeBytes = init.rpad?.minEnvelopeBytes ?? DEFAULT_RPAD.minEnvelopeBytes
  if (
    !Number.isSafeInteger(minLength) ||
    !Number.isSafeInteger(maxLength) ||
    !Number.isSafeInteger(minEnvelopeBytes) ||
    minLength < 0 ||
    maxLength < minLength ||
    maxLength > MAX_RPAD_LENGTH ||
    minEnvelopeBytes < 0 ||
    minEnvelopeBytes > MAX_RPAD_LENGTH
  )
    throw new InvalidEnvelopeError(
      'TM-17',
      `rpad options must be integers with 0 ≤ minLength ≤ maxLength ≤ ${MAX_RPAD_LENGTH} and 0 ≤ minEnvelopeBytes ≤ ${MAX_RPAD_LENGTH}`,
    )
  const length = minLength + uniformBelow(maxLength - minLength + 1, random)

  const envelope = new Element(EMIT.root, { xmlns: EMIT.namespace })
  // an empty text child, so the rpad is written `<rpad></rpad>` and every character adds one byte
  const rpad = envelope.cnode(new Element('rpad')).t('')
  envelope.cnode(new Element('time', { stamp }))
  envelope.cnode(new Element('from', { jid: from }))
  envelope.cnode(new Element('to', { jid: to }))
  const content = envelope.cnode(new Element(EMIT.content))
  const children: readonly Element[] = Array.isArray(init.content) ? init.content : [init.content as Element]
  for (const child of children) content.cnode(cloneElement(child))

  // D-7 step 1: measure what is encrypted, the UTF-8 bytes of the serialized envelope, with an
  // empty rpad. rpad characters are Base64 (ASCII, never escaped): one character, one byte.
  const fill =
    minEnvelopeBytes === 0 ? 0 : Math.max(0, minEnvelopeBytes - utf8.encode(envelope.toString()).length)
  rpad.children.length = 0
  rpad.t(randomText(fill + length, random))
  return envelope
}

/** The XML text of an envelope (or any element), as handed to the encryption layer. */
export function serializeEnvelope(envelope: Element): string {
  return envelope.toString()
}

const defaultRandom: RandomSource = randomBytes
const utf8 = new TextEncoder()

function takeBytes(n: number, random: RandomSource): Uint8Array {
  const bytes = random(n)
  if (!(bytes instanceof Uint8Array) || bytes.length < n)
    throw new InvalidEnvelopeError('TM-17', `random source returned fewer than ${n} bytes`)
  return bytes
}

/**
 * A uniform integer in [0, range) from 48 random bits. range ≤ 2^16 + 1, so the modulo bias is
 * below 2^-31: no rejection loop, hence no endless loop on a broken injected source.
 */
function uniformBelow(range: number, random: RandomSource): number {
  if (range <= 1) return 0
  const b = takeBytes(6, random)
  let v = 0
  for (let i = 0; i < 6; i++) v = v * 256 + (b[i] ?? 0)
  return v % range
}

/** `length` characters of Base64 text (no `=`) from fresh random bytes. */
function randomText(length: number, random: RandomSource): string {
  if (length === 0) return ''
  const bytes = takeBytes(Math.ceil(length / 4) * 3, random)
  return base64nopad.encode(bytes.subarray(0, Math.ceil(length / 4) * 3)).slice(0, length)
}

function cloneElement(el: Element): Element {
  const copy = new Element(el.name, { ...el.attrs })
  for (const child of el.children) copy.cnode(typeof child === 'string' ? child : cloneElement(child))
  return copy
}

// ——— opening ———

const STRUCTURE = 'SCE'

/**
 * Parses (when given text) and checks an SCE envelope received in a stanza.
 *
 * Rule ids in errors: `SCE` structure (root, namespace, content count, duplicated affixes, stray
 * text), `SCE-LEGACY` a `urn:xmpp:sce:0` envelope without `legacy: true`, a required affix is
 * missing: the profile's rule (`TM-17`…`TM-20` by default, see `profiles.ts`), `SCE-1` time, `SCE-2` to, `SCE-3` from (a malformed JID in an affix
 * or in the stanza addresses is reported under the same rule, with the InvalidJidError as
 * `cause`), `LIMIT` size caps, `OPTIONS` invalid options. Affix elements may repeat the envelope's
 * namespace (`<from xmlns='urn:xmpp:sce:1' jid='…'/>`, as Converse.js writes them); elements of
 * another namespace are profile-defined affixes and are ignored.
 * @throws InvalidEnvelopeError, LimitExceededError, MalformedXmlError
 */
export function openEnvelope(input: Element | string, options: OpenEnvelopeOptions): OpenedEnvelope {
  const window = timeWindow(options)
  const reference = options.stanzaTime ?? options.now
  if (!(reference instanceof Date) || !Number.isFinite(reference.getTime()))
    throw new InvalidEnvelopeError('OPTIONS', 'now (or stanzaTime) must be a valid Date')

  const root = typeof input === 'string' ? parseXml(input, options.xmlLimits) : input
  if (!isElementLike(root))
    throw new InvalidEnvelopeError(STRUCTURE, 'input is neither XML text nor an element')
  const namespace = root.attrs.xmlns
  const dialect = SCE_DIALECTS.find((d) => d.root === root.name && d.namespace === namespace)
  if (dialect === undefined)
    throw new InvalidEnvelopeError(
      STRUCTURE,
      `<${clip(root.name)} xmlns='${clip(String(namespace ?? ''))}'> is not an SCE envelope`,
    )
  if (dialect.legacy && options.legacy !== true)
    throw new InvalidEnvelopeError(
      'SCE-LEGACY',
      `${dialect.namespace} envelopes are read only with the legacy option (${dialect.source})`,
    )

  let content: Element | undefined
  let rpad: Element | undefined
  let time: Element | undefined
  let from: Element | undefined
  let to: Element | undefined
  const once = (seen: Element | undefined, child: Element): Element => {
    if (seen !== undefined) throw new InvalidEnvelopeError(STRUCTURE, `more than one <${child.name}/>`)
    return child
  }
  for (const child of root.children) {
    if (typeof child === 'string') {
      if (child.trim() !== '') throw new InvalidEnvelopeError(STRUCTURE, 'text directly inside the envelope')
      continue
    }
    // affixes and content are in the envelope's namespace; other elements are profile-defined
    // affixes (XEP-0420 §4 lets profiles add their own) and are ignored
    if (child.attrs.xmlns !== undefined && child.attrs.xmlns !== namespace) continue
    switch (child.name) {
      case dialect.content:
        content = once(content, child)
        break
      case 'rpad':
        rpad = once(rpad, child)
        break
      case 'time':
        time = once(time, child)
        break
      case 'from':
        from = once(from, child)
        break
      case 'to':
        to = once(to, child)
        break
      default:
    }
  }
  if (content === undefined) throw new InvalidEnvelopeError(STRUCTURE, `no <${dialect.content}/> element`)
  for (const c of content.children)
    if (typeof c === 'string' && c.trim() !== '')
      throw new InvalidEnvelopeError(STRUCTURE, `text directly inside <${dialect.content}/>`)

  // presence, by the profile (trust messages: TM-17 … TM-20)
  const profile =
    typeof options.profile === 'function'
      ? options.profile(content)
      : (options.profile ?? profileOf(options.require))
  const affixes: SceAffixes = {
    rpad: rpad !== undefined,
    time: time !== undefined,
    from: from !== undefined,
    to: to !== undefined,
  }
  requireAffixes(affixes, profile)

  // SCE-4: any rpad length is fine; only an explicit cap (or the XML size cap) applies
  let rpadLength = 0
  if (rpad !== undefined) {
    for (const c of rpad.children) {
      if (typeof c !== 'string') throw new InvalidEnvelopeError(STRUCTURE, '<rpad/> holds an element')
      rpadLength += c.length
    }
    const max = options.maxRpadChars
    if (max !== undefined && rpadLength > max)
      throw new LimitExceededError('LIMIT', 'rpad characters', max, rpadLength)
  }

  // SCE-1: a DateTime within the window around the stanza's sending time
  let sentAt: Date | undefined
  if (time !== undefined) {
    const stamp = time.attrs.stamp
    if (typeof stamp !== 'string') throw new InvalidEnvelopeError('SCE-1', '<time/> without a stamp')
    const parsed = parseDateTime(stamp)
    if (!parsed.ok)
      throw new InvalidEnvelopeError(
        'SCE-1',
        `stamp '${clip(stamp)}' is not an XEP-0082 DateTime: ${parsed.reason}`,
      )
    const outside = outsideTimeWindow(parsed.date, reference, window)
    if (outside !== undefined)
      throw new InvalidEnvelopeError(
        'SCE-1',
        `time ${parsed.date.toISOString()} ${outside} (measured from the stanza's sending time)`,
      )
    sentAt = parsed.date
  }

  // SCE-2 and SCE-3: affix JIDs match the stanza, compared by bare part (D-3)
  const toJid = to === undefined ? undefined : affixJid(to, options.stanzaTo, 'SCE-2', 'to')
  const fromJid = from === undefined ? undefined : affixJid(from, options.stanzaFrom, 'SCE-3', 'from')

  const copy = cloneElement(content)
  copy.attrs.xmlns ??= namespace
  return {
    namespace: dialect.namespace,
    legacy: dialect.legacy,
    time: sentAt,
    from: fromJid,
    to: toJid,
    rpadLength,
    affixes,
    content: copy,
  }
}

/** The trust-message profile with the affixes `require` turns off made optional. */
function profileOf(require: EnvelopeRequirements | undefined): AffixProfile {
  if (require === undefined) return TRUST_MESSAGE_PROFILE
  const p = TRUST_MESSAGE_PROFILE
  return {
    ...p,
    rpad: require.rpad === false ? null : p.rpad,
    time: require.time === false ? null : p.time,
    from: require.from === false ? null : p.from,
    to: require.to === false ? null : p.to,
  }
}

const DEFAULT_WINDOW: TimeWindow = Object.freeze({
  maxAgeSeconds: DEFAULT_SCE_MARGIN_SECONDS,
  futureSkewSeconds: DEFAULT_SCE_MARGIN_SECONDS,
})

const validSeconds = (n: unknown): boolean => typeof n === 'number' && Number.isFinite(n) && n >= 0

/** The SCE-1 window of the options: `window`, or `marginSeconds` either side, or the default. */
function timeWindow(options: OpenEnvelopeOptions): TimeWindow {
  const { window, marginSeconds } = options
  if (window !== undefined) {
    if (marginSeconds !== undefined)
      throw new InvalidEnvelopeError('OPTIONS', 'give either window or marginSeconds, not both')
    if (!validSeconds(window.maxAgeSeconds) || !validSeconds(window.futureSkewSeconds))
      throw new InvalidEnvelopeError(
        'OPTIONS',
        'window.maxAgeSeconds and window.futureSkewSeconds must be finite numbers ≥ 0',
      )
    return window
  }
  if (marginSeconds === undefined) return DEFAULT_WINDOW
  if (!validSeconds(marginSeconds))
    throw new InvalidEnvelopeError('OPTIONS', 'marginSeconds must be a finite number ≥ 0')
  return { maxAgeSeconds: marginSeconds, futureSkewSeconds: marginSeconds }
}

function affixJid(affix: Element, stanzaJid: string, rule: string, what: 'from' | 'to'): BareJid {
  const jid = affix.attrs.jid
  if (typeof jid !== 'string') throw new InvalidEnvelopeError(rule, `<${what}/> without a jid`)
  const inEnvelope = bare(jid, rule, `<${what} jid>`)
  const inStanza = bare(stanzaJid, rule, `stanza '${what}'`)
  if (inEnvelope !== inStanza)
    throw new InvalidEnvelopeError(
      rule,
      `<${what} jid='${clip(jid)}'> does not match the stanza ${what} '${clip(stanzaJid)}'`,
    )
  return inEnvelope
}

function bare(jid: string, rule: string, where: string): BareJid {
  try {
    return toBareJid(jid, rule)
  } catch (e) {
    if (isVouchError(e) && e.name === 'InvalidJidError')
      throw new InvalidEnvelopeError(rule, `${where} is not a valid JID: ${e.message}`, { cause: e })
    throw e
  }
}

/** Duck-typed, so an element from another copy of @xmpp/xml (or ltx) is read as well. */
function isElementLike(x: unknown): x is Element {
  if (typeof x !== 'object' || x === null) return false
  const e = x as Partial<Element>
  return (
    typeof e.name === 'string' && Array.isArray(e.children) && typeof e.attrs === 'object' && e.attrs !== null
  )
}

function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s
}

// ——— JSON ———

/** The JSON form of an opened envelope (`vouch sce open`): times as ISO 8601 with `Z`. */
export function envelopeToJson(opened: OpenedEnvelope): EnvelopeJson {
  return {
    time: opened.time === undefined ? null : opened.time.toISOString(),
    from: opened.from ?? null,
    to: opened.to ?? null,
    rpadLength: opened.rpadLength,
    content: opened.content.toString(),
  }
}
