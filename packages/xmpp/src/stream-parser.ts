/**
 * Strict parsing of the XML stream from the server (RFC 6120 §4 and §11, RFC 7395 §3.3), in
 * place of the ltx-based `Parser` of `@xmpp/xml` 0.14 that `@xmpp/client` uses.
 *
 * ltx is a lenient tokenizer: it keeps the last of two equal attributes (`<key rid='1'
 * rid='2'>` reads `rid='2'` here and `rid='1'` or an error in another client), passes raw
 * control characters and characters outside XML 1.0 `Char`, accepts unbound namespace
 * prefixes, drops the text that follows a comment or CDATA section, ignores processing
 * instructions and DOCTYPEs, and replaces bytes that are not UTF-8 (or a character split
 * between two TCP reads) with U+FFFD. Any of these lets a stanza read differently here than
 * in the client or server that checked it.
 *
 * These parsers tokenize with saxes (XML 1.0 + Namespaces, configured as tm-core's `parseXml`)
 * and build the same `@xmpp/xml` elements ltx builds. The first defect fails the stream: the
 * stanza that holds it, and everything after it, is never emitted, and `error` carries a
 * {@link MalformedXmlError} (rule `XML`). The connection answers that as it answers an ltx
 * error: `<stream:error><bad-format/></stream:error>`, the parser detached, the connection
 * closed, the error emitted on the client. Rejected on top of saxes' own checks (duplicate
 * attributes, also through two prefixes of one namespace; characters outside `Char`, raw or
 * as references; unbound prefixes; undefined entities; mismatched tags): comments, processing
 * instructions, DOCTYPEs (RFC 6120 §11.1 restricted XML), an encoding other than UTF-8
 * (§11.6), bytes that are not UTF-8, unpaired surrogates, and character data directly in the
 * stream (only whitespace keepalives may stand between stanzas).
 *
 * Differences from ltx in what a well-formed stream yields are the XML 1.0 normalizations
 * another conforming parser applies too: line ends (`\r\n`, `\r`) read as `\n`, and tabs and
 * line ends inside attribute values as spaces (§2.11, §3.3.3). Whitespace between stanzas is
 * not appended to the stream element (ltx kept every keepalive there for the session's life).
 */
import { LimitExceededError, MalformedXmlError } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
// the emitter @xmpp/connection's own parser has: Node's `events`, the `events` package in browsers
import { EventEmitter } from '@xmpp/events'
import { Element } from '@xmpp/xml'
import { type SaxesOptions, SaxesParser, type SaxesTagNS } from 'saxes'

const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing'
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'

/**
 * Caps on one stanza (one top-level element of the stream), a security policy with defaults
 * every deployed client's traffic fits in (README "Security"). A stanza over a cap is not
 * built: it is read to its end (so the stream goes on), and in its place the connection gets
 * the same stanza as an error (`type='error'`, `<policy-violation/>`, same name, `id`, `from`,
 * `to`), so an IQ waiting for it rejects at once, Stream Management counts it, and nothing acts
 * on its content; {@link stanzaLimitError} gives its {@link LimitExceededError}.
 */
export interface StanzaLimits {
  /**
   * UTF-8 bytes of one stanza; default 1 MiB. Prosody 0.12 accepts 256 KiB from its own clients
   * (`c2s_stanza_size_limit`) and 512 KiB from other servers (`s2s_stanza_size_limit`); the
   * archive and Carbons wrap a message in a few hundred bytes more, and results the server
   * builds itself (a roster, a disco listing) are not limited by it. Rule `STANZA-SIZE`.
   */
  readonly maxStanzaBytes: number
  /** nesting depth, the stanza itself at 1 (as tm-core's `parseXml` counts); default 32. Rule `STANZA-DEPTH`. */
  readonly maxDepth: number
  /** elements in one stanza; default 25,000 (Prosody's `c2s_max_child_elements`). Rule `STANZA-ELEMENTS`. */
  readonly maxElements: number
  /** attributes of one element; default 64. Rule `STANZA-ATTRIBUTES`. */
  readonly maxAttributes: number
}

export const DEFAULT_STANZA_LIMITS: StanzaLimits = Object.freeze({
  maxStanzaBytes: 1 << 20,
  maxDepth: 32,
  maxElements: 25_000,
  maxAttributes: 64,
})

/**
 * A stanza over a cap is still read to its end to find where the next one starts. One that goes
 * on past this many times `maxStanzaBytes` or `maxDepth` (or a top-level element that is no
 * stanza and exceeds a cap) fails the stream: nothing would bound what it costs. Depth matters
 * for CPU, not only memory: saxes resolves the namespace of each tag by walking the open tags,
 * so a nesting bomb (150,000 levels fit in 1 MiB) would cost time quadratic in its depth.
 */
const SKIP_FACTOR = 8

const STANZA_NAMES: ReadonlySet<string> = new Set(['message', 'presence', 'iq'])

/** The error of each over-limit placeholder the parsers emitted. */
const LIMITED = new WeakMap<Element, LimitExceededError>()

/**
 * The {@link LimitExceededError} of a stanza the strict parser did not build because it
 * exceeded a {@link StanzaLimits} cap (the element is the `type='error'` placeholder it emitted),
 * else `undefined`.
 */
export function stanzaLimitError(stanza: Element): LimitExceededError | undefined {
  return LIMITED.get(stanza)
}

/** The placeholder of an over-limit stanza: its name and routing attributes, as an error. */
function placeholder(el: Element, error: LimitExceededError): Element {
  const attrs: Record<string, string> = {}
  for (const k of ['xmlns', 'id', 'from', 'to', 'xml:lang']) {
    const v = el.attrs[k]
    if (typeof v === 'string') attrs[k] = v
  }
  attrs.type = 'error'
  const out = new Element(el.name, attrs)
  out
    .c('error', { type: 'modify' })
    .c('policy-violation', { xmlns: NS_STANZAS })
    .up()
    .c('text', { xmlns: NS_STANZAS })
    .t(error.message)
  LIMITED.set(out, error)
  return out
}

/** Any code unit from U+0080 on: one that takes more than one byte in UTF-8. */
const NON_ASCII = /[\u0080-\uffff]/g

/** UTF-8 bytes of `s` from `from` to `to` (a surrogate pair: 4); ASCII is counted natively. */
function utf8Length(s: string, from: number, to: number): number {
  let n = to - from
  NON_ASCII.lastIndex = from
  const first = NON_ASCII.exec(s)
  if (first === null || first.index >= to) return n
  for (let i = first.index; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1
  }
  return n
}

/** XML 1.0 only (RFC 6120 §11.1): 1.1 would allow control characters as references. */
const STREAM_OPTIONS = {
  xmlns: true,
  position: false,
  forceXMLVersion: true,
  defaultXMLVersion: '1.0',
} as const satisfies SaxesOptions

/** RFC 7395: a sequence of complete top-level elements, one per WebSocket message. */
const FRAMED_OPTIONS = { ...STREAM_OPTIONS, fragment: true } as const satisfies SaxesOptions

type Options = typeof STREAM_OPTIONS | typeof FRAMED_OPTIONS

/** An unpaired surrogate (with the `u` flag `\p{Cs}` matches only those): not a `Char`. */
const LONE_SURROGATE = /\p{Cs}/u
/** Anything but XML whitespace (line ends already read as `\n`). */
const NOT_WHITESPACE = /[^ \t\n]/
/** Anything but XML whitespace, in text as received (`\r` not yet read as `\n`). */
const NOT_SPACE = /[^ \t\r\n]/

/** saxes names the input (an attribute, a prefix) in its messages: keep them short. */
const malformed = (message: string, cause?: unknown): MalformedXmlError =>
  new MalformedXmlError('XML', message.length > 120 ? `${message.slice(0, 120)}…` : message, { cause })

/** A defect this parser reports as it is: malformed XML or a cap exceeded. */
const isStreamDefect = (e: unknown): e is MalformedXmlError | LimitExceededError =>
  e instanceof Error && (e.name === 'MalformedXmlError' || e.name === 'LimitExceededError')

/** Strict (a defect throws), and a U+FEFF at the start of a chunk is text, not a byte-order mark. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const NO_BYTES = new Uint8Array(0)

/** How many bytes at the end of `bytes` begin a character that the next chunk completes. */
function unfinishedCharacter(bytes: Uint8Array): number {
  for (let k = 1; k <= 3 && k <= bytes.length; k++) {
    const b = bytes[bytes.length - k] as number
    if ((b & 0xc0) === 0x80) continue // a continuation byte: look further back
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
    return length > k ? k : 0
  }
  return 0
}

/** The text of the longest prefix of `bytes` that is UTF-8 (only read when `bytes` is not). */
function utf8Prefix(bytes: Uint8Array): string {
  const valid = (n: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, n), {
        stream: true,
      })
      return true
    } catch {
      return false
    }
  }
  let good = 0
  let bad = bytes.length
  while (bad - good > 1) {
    const mid = (good + bad) >>> 1
    if (valid(mid)) good = mid
    else bad = mid
  }
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(0, good), { stream: true })
}

/**
 * Where saxes 6.0.0 keeps the handlers of the restricted constructs. `SaxesParser.on()` stores
 * a handler under a computed key; after six such new properties V8 turns the parser into a
 * dictionary-mode object and every step of the tokenizer gets about five times slower. The
 * six frequent handlers go through `on()`; these three are assigned by name, once a probe has
 * shown that `on()` uses these names (otherwise `on()` it is: slower, never less strict).
 */
interface RestrictedHandlers {
  commentHandler?: () => void
  piHandler?: () => void
  doctypeHandler?: () => void
}
const RESTRICTED_BY_NAME: boolean = (() => {
  const probe = new SaxesParser()
  const handlers = probe as unknown as RestrictedHandlers
  const [comment, pi, doctype] = [() => undefined, () => undefined, () => undefined]
  probe.on('comment', comment)
  probe.on('processinginstruction', pi)
  probe.on('doctype', doctype)
  return (
    handlers.commentHandler === comment && handlers.piHandler === pi && handlers.doctypeHandler === doctype
  )
})()

/** Thrown through saxes to stop it once the stream has ended; never leaves {@link write}. */
const STOP: unique symbol = Symbol('stop')

type StreamEvent = 'start' | 'element' | 'end'

/**
 * The events and methods `@xmpp/connection` 0.14 uses of its `Parser`: `write(chunk)`,
 * `end(chunk?)`, and the events `start` (the stream header element), `element` (each complete
 * top-level element), `end` (the stream closed) and `error`.
 */
abstract class StrictParser extends EventEmitter {
  readonly #saxes: SaxesParser<Options>
  /** 1 for a stream (top-level elements are children of `<stream:stream>`), 0 when framed */
  readonly #top: number
  /** the first bytes of a character the last chunk of bytes ended in, read with the next one */
  #partial: Uint8Array = NO_BYTES
  /** a high surrogate at the end of the last string chunk, read with the next one */
  #carry = ''
  #root: Element | null = null
  #cursor: Element | null = null
  #depth = 0
  #attrs: Record<string, string> = {}
  /** events of the chunk being read, emitted once saxes has read all of it */
  #queue: [StreamEvent, Element][] = []
  /** where the last top-level element (or the stream) was closed; see the error handler */
  #closedAt = -1
  #ended = false
  #failed = false
  readonly #limits: StanzaLimits
  /** the text being read, and the saxes position of its first character */
  #chunk = ''
  #chunkStart = 0
  /** characters handed to saxes so far */
  #written = 0
  /** how much of {@link #chunk} is counted in {@link #bytes} */
  #counted = 0
  /** UTF-8 bytes read since the last top-level element ended */
  #bytes = 0
  /** the top-level element being read, its element count, and the cap it broke (then it is skipped) */
  #stanza: Element | null = null
  #elements = 0
  #skip: LimitExceededError | undefined = undefined
  /** attributes of the tag being read */
  #attrCount = 0

  constructor(options: Options, top: number, limits: Partial<StanzaLimits> = {}) {
    super()
    this.#top = top
    this.#limits = { ...DEFAULT_STANZA_LIMITS, ...limits }
    const saxes = new SaxesParser<Options>(options)
    saxes.on('error', (e) => this.#onSaxesError(e))
    saxes.on('attribute', (a) => {
      // past the cap the attributes are not kept (the element is refused at its start tag)
      if (++this.#attrCount <= this.#limits.maxAttributes) this.#attrs[a.name] = a.value
    })
    saxes.on('opentag', (tag) => this.#open(tag))
    saxes.on('closetag', () => this.#close())
    saxes.on('text', (t) => this.#text(t))
    saxes.on('cdata', (t) => this.#text(t))
    const restricted = (what: string) => (): void => {
      saxes.fail(`${what} are not allowed in an XMPP stream (RFC 6120 §11.1)`)
    }
    if (RESTRICTED_BY_NAME) {
      const handlers = saxes as unknown as RestrictedHandlers
      handlers.commentHandler = restricted('comments')
      handlers.piHandler = restricted('processing instructions')
      handlers.doctypeHandler = restricted('DTDs')
    } else {
      saxes.on('comment', restricted('comments'))
      saxes.on('processinginstruction', restricted('processing instructions'))
      saxes.on('doctype', restricted('DTDs'))
    }
    this.#saxes = saxes
  }

  /** What a complete top-level element is: a stanza or nonza (`element`), or the framing. */
  protected abstract completed(el: Element): StreamEvent

  /**
   * Reads the next chunk: text, or bytes of UTF-8 (a character may be split between chunks).
   * Emits `start`, `element` and `end` for what the chunk completes, then `error` for its
   * first defect; after an error or the end of the stream, further chunks are ignored.
   */
  write(chunk: string | Uint8Array | ArrayBuffer): void {
    if (this.#failed || this.#ended) return
    try {
      const [text, defect] = this.#decode(chunk)
      this.#chunk = text
      // (saxes' `position` is only meaningful inside its handlers: after a write it counts the
      // chunk twice; a carried `\r` shifts it by one, which the count clamps)
      this.#chunkStart = this.#written
      this.#written += text.length
      this.#counted = 0
      this.#saxes.write(text)
      // whitespace after the last stanza (keepalives) does not count towards the next one
      if (this.#stanza !== null || NOT_SPACE.test(text.slice(this.#counted))) this.#count(text.length)
      else this.#counted = text.length
      this.#checkSize()
      if (defect !== undefined) throw defect
    } catch (e) {
      if (e !== STOP) {
        this.#fail(isStreamDefect(e) ? e : malformed(String(e), e))
        return
      }
    }
    this.#flush()
  }

  /** Counts the bytes of the chunk up to index `to` (default: where saxes is now). */
  #count(to = this.#saxes.position - this.#chunkStart): void {
    const at = Math.min(Math.max(to, this.#counted), this.#chunk.length)
    this.#bytes += utf8Length(this.#chunk, this.#counted, at)
    this.#counted = at
  }

  /** The size caps: over `maxStanzaBytes` the stanza is skipped, far over it the stream fails. */
  #checkSize(): void {
    const max = this.#limits.maxStanzaBytes
    if (this.#bytes <= max) return
    const error = new LimitExceededError('STANZA-SIZE', 'stanza bytes', max, this.#bytes)
    if (this.#bytes > max * SKIP_FACTOR) throw error
    if (this.#stanza !== null && this.#skip === undefined) this.#refuse(error)
  }

  /**
   * The current top-level element broke a cap: a stanza is skipped from here on (its tree
   * dropped, a placeholder emitted at its end); anything else fails the stream.
   */
  #refuse(error: LimitExceededError): void {
    const stanza = this.#stanza as Element
    if (!STANZA_NAMES.has(stanza.name)) throw error
    this.#skip = error
    stanza.children = []
  }

  /** The chunk's text, up to its first encoding defect if it has one (then also returned). */
  #decode(chunk: string | Uint8Array | ArrayBuffer): [string, MalformedXmlError?] {
    if (typeof chunk === 'string') {
      let text = this.#carry === '' ? chunk : this.#carry + chunk
      const last = text.charCodeAt(text.length - 1)
      if (last >= 0xd800 && last <= 0xdbff) {
        this.#carry = text.slice(-1)
        text = text.slice(0, -1)
      } else this.#carry = ''
      const lone = LONE_SURROGATE.exec(text)
      if (lone === null) return [text]
      return [
        text.slice(0, lone.index),
        malformed('unpaired surrogate: not an XML 1.0 character (§2.2 Char)'),
      ]
    }
    if (!(chunk instanceof Uint8Array || chunk instanceof ArrayBuffer))
      return ['', malformed('a stream chunk that is neither text nor bytes')]
    let bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk)
    if (this.#partial.length > 0) {
      const joined = new Uint8Array(this.#partial.length + bytes.length)
      joined.set(this.#partial)
      joined.set(bytes, this.#partial.length)
      bytes = joined
    }
    const open = unfinishedCharacter(bytes)
    this.#partial = open === 0 ? NO_BYTES : bytes.slice(bytes.length - open)
    const complete = open === 0 ? bytes : bytes.subarray(0, bytes.length - open)
    try {
      return [UTF8.decode(complete)]
    } catch {
      return [utf8Prefix(complete), malformed('bytes that are not UTF-8 (RFC 6120 §11.6)')]
    }
  }

  /** Like ltx's: reads a last chunk, if any (the connection never calls it). */
  end(chunk?: string | Uint8Array | ArrayBuffer): void {
    if (chunk !== undefined && chunk !== '') this.write(chunk)
  }

  #open(tag: SaxesTagNS): void {
    if (this.#ended) throw STOP // (framed) an element after `<close/>`
    const attrs = this.#attrs
    const attrCount = this.#attrCount
    this.#attrs = {}
    this.#attrCount = 0
    const depth = this.#depth++
    const limits = this.#limits
    if (depth > this.#top) {
      const level = depth - this.#top + 1
      if (level > limits.maxDepth * SKIP_FACTOR)
        throw new LimitExceededError('STANZA-DEPTH', 'stanza nesting depth', limits.maxDepth, level)
      if (this.#skip !== undefined) return
      const over =
        level > limits.maxDepth
          ? new LimitExceededError('STANZA-DEPTH', 'stanza nesting depth', limits.maxDepth, level)
          : ++this.#elements > limits.maxElements
            ? new LimitExceededError(
                'STANZA-ELEMENTS',
                'elements of one stanza',
                limits.maxElements,
                this.#elements,
              )
            : attrCount > limits.maxAttributes
              ? this.#tooManyAttributes(attrCount)
              : undefined
      if (over !== undefined) {
        this.#refuse(over)
        return
      }
      const el = new Element(tag.name)
      el.attrs = attrs
      ;(this.#cursor as Element).cnode(el)
      this.#cursor = el
      return
    }
    const el = new Element(tag.name)
    el.attrs = attrs
    this.#cursor = el
    this.#count()
    if (depth < this.#top) {
      // the stream header: the parent of every top-level element
      const { encoding } = this.#saxes.xmlDecl
      if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8')
        this.#saxes.fail(`encoding ${encoding}: an XMPP stream is UTF-8 (RFC 6120 §11.6)`)
      if (attrCount > limits.maxAttributes) throw this.#tooManyAttributes(attrCount)
      this.#bytes = 0
      this.#root = el
      this.#queue.push(['start', el])
      return
    }
    // a top-level element (a stanza or nonza)
    this.#stanza = el
    this.#elements = 1
    this.#skip = undefined
    if (attrCount > limits.maxAttributes) this.#refuse(this.#tooManyAttributes(attrCount))
    else this.#checkSize()
  }

  #tooManyAttributes(count: number): LimitExceededError {
    const max = this.#limits.maxAttributes
    return new LimitExceededError('STANZA-ATTRIBUTES', 'attributes of one element', max, count)
  }

  #close(): void {
    const depth = --this.#depth
    if (depth > this.#top) {
      if (this.#skip === undefined) this.#cursor = (this.#cursor as Element).parent as Element
      return
    }
    // A mismatched end tag (`<message></iq>`) is reported by saxes right after this handler,
    // at the same position: the error handler takes the element back out of the queue.
    this.#closedAt = this.#saxes.position
    if (depth < this.#top) {
      this.#ended = true
      this.#queue.push(['end', this.#cursor as Element])
      return
    }
    this.#count()
    this.#checkSize()
    let el = this.#stanza as Element
    if (this.#skip !== undefined) el = placeholder(el, this.#skip)
    this.#stanza = null
    this.#skip = undefined
    this.#bytes = 0
    el.parent = this.#root
    this.#cursor = this.#root
    const event = this.completed(el)
    if (event === 'end') this.#ended = true
    this.#queue.push([event, el])
  }

  #text(t: string): void {
    if (this.#depth > this.#top) {
      if (this.#skip === undefined) (this.#cursor as Element).t(t)
    } else if (NOT_WHITESPACE.test(t))
      this.#saxes.fail('character data directly in the stream: only elements and whitespace may be there')
    else {
      // whitespace between stanzas (keepalives) does not count towards the next one; saxes
      // reports it when it has read the `<` that starts the next element, which counts
      this.#count()
      this.#bytes = 1
    }
  }

  #onSaxesError(e: Error): never {
    if (this.#saxes.position === this.#closedAt) {
      // the end tag that completed the last queued element did not match its start tag
      this.#queue.pop()
      this.#ended = false
    }
    if (this.#ended) throw STOP // nothing after the end of the stream is read
    throw malformed(e.message, e)
  }

  /** Emits what was read before the defect, then the error (if anyone still listens). */
  #fail(error: MalformedXmlError | LimitExceededError): void {
    this.#failed = true
    this.#flush()
    if (this.listenerCount('error') > 0) this.emit('error', error)
  }

  #flush(): void {
    const queue = this.#queue
    if (queue.length === 0) return
    this.#queue = []
    for (const [event, el] of queue) this.emit(event, el)
  }
}

/** TCP and direct TLS (RFC 6120): one `<stream:stream>` document, stanzas as its children. */
export class StrictStreamParser extends StrictParser {
  constructor(limits: Partial<StanzaLimits> = {}) {
    super(STREAM_OPTIONS, 1, limits)
  }
  protected override completed(): StreamEvent {
    return 'element'
  }
}

/** WebSocket (RFC 7395 §3.3): every message a complete element, `<open/>`, stanzas, `<close/>`. */
export class StrictFramedParser extends StrictParser {
  constructor(limits: Partial<StanzaLimits> = {}) {
    super(FRAMED_OPTIONS, 0, limits)
  }
  protected override completed(el: Element): StreamEvent {
    if (el.is('open', NS_FRAMING)) return 'start'
    if (el.is('close', NS_FRAMING)) return 'end'
    return 'element'
  }
}

/** What {@link installStrictParser} changes of `@xmpp/connection` 0.14 (not in its types). */
interface ConnectionInternals {
  Parser: unknown
  parser: { write(chunk: unknown): void } | null
  headerElement(): Element
  _onData(chunk: unknown): void
}

/**
 * Makes `xmpp` read every stream with a strict parser: {@link StrictFramedParser} when its
 * transport opens with `<open/>` (WebSocket), {@link StrictStreamParser} otherwise (TCP, TLS).
 * `connect()` assigns the transport's ltx `Parser` to the client each time; that assignment is
 * ignored. Socket reads go to the parser as they are (the connection decoded each TCP read as
 * UTF-8 on its own, which breaks a character split between two reads), and a read that arrives
 * after the parser was detached (after a parse error) is dropped instead of throwing.
 */
export function installStrictParser(xmpp: Client, limits: Partial<StanzaLimits> = {}): void {
  const connection = xmpp as unknown as ConnectionInternals
  // `connect()` builds the parser with `new Parser()`: these carry the caps
  const Framed = class extends StrictFramedParser {
    constructor() {
      super(limits)
    }
  }
  const Stream = class extends StrictStreamParser {
    constructor() {
      super(limits)
    }
  }
  Object.defineProperty(connection, 'Parser', {
    configurable: true,
    enumerable: true,
    get: () => (connection.headerElement().name === 'open' ? Framed : Stream),
    set: () => undefined,
  })
  connection._onData = (chunk) => connection.parser?.write(chunk)
}
