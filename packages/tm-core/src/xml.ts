/**
 * Strict XML reading for everything Vouch parses (trust messages, SCE envelopes, CLI input).
 *
 * XMPP uses a restricted subset of XML 1.0 (RFC 6120 §11.1). This reader tokenizes with saxes, a
 * conforming XML 1.0 + Namespaces parser, and builds `@xmpp/xml` elements. saxes rejects what a
 * lenient tokenizer lets through and another client might read differently: duplicate
 * attributes (also two prefixes bound to one namespace), characters outside the XML 1.0 `Char`
 * production (raw or as character references), unbound namespace prefixes, malformed entity
 * and character references, `<` in attribute values. On top of that this reader requires one
 * complete root element and nothing after it, no DTD or entity declarations, no processing
 * instructions except a leading XML declaration, no unpaired surrogates, and caps on size and
 * depth. Every failure is a {@link MalformedXmlError} (rule `XML`) or a
 * {@link LimitExceededError} (rule `LIMIT`).
 */
import { Element } from '@xmpp/xml'
import { type SaxesOptions, SaxesParser } from 'saxes'
import { LimitExceededError, MalformedXmlError } from './contracts/errors.ts'

export { Element } from '@xmpp/xml'

export interface XmlLimits {
  /** characters of input */
  readonly maxChars: number
  /** nesting depth of elements */
  readonly maxDepth: number
  /** elements in the document */
  readonly maxElements: number
}

export const DEFAULT_XML_LIMITS: XmlLimits = Object.freeze({
  maxChars: 1 << 20,
  maxDepth: 32,
  maxElements: 20_000,
})

/** XML 1.0 only (RFC 6120 §11.1): 1.1 would allow control characters as references. */
const SAXES_OPTIONS = {
  xmlns: true,
  position: false,
  forceXMLVersion: true,
  defaultXMLVersion: '1.0',
} as const satisfies SaxesOptions

const XML_DECL = /^\uFEFF?\s*<\?xml\s[^?]*\?>/
/**
 * An unpaired surrogate (with the `u` flag, `\p{Cs}` matches only those). Not a `Char`; saxes
 * 6.0.0 combines a high surrogate with whatever code unit follows it, so it is checked here.
 */
const LONE_SURROGATE = /\p{Cs}/u

/** `<!` is only allowed to open a comment or a CDATA section (no DTD, no entity declarations). */
function hasMarkupDeclaration(body: string): boolean {
  for (let i = body.indexOf('<!'); i !== -1; i = body.indexOf('<!', i + 2)) {
    if (!body.startsWith('<!--', i) && !body.startsWith('<![CDATA[', i)) return true
  }
  return false
}

/** A parser message names input (an attribute, an entity): keep it short. */
const malformed = (message: string, cause?: unknown): MalformedXmlError =>
  new MalformedXmlError('XML', message.length > 120 ? `${message.slice(0, 120)}…` : message, { cause })

/** Builds the element tree from parser events, enforcing the structure rules and caps. */
class TreeBuilder {
  root: Element | undefined = undefined
  cursor: Element | undefined = undefined
  depth = 0
  count = 0
  maxDepth = 0
  maxElements = 0
  reset(maxDepth: number, maxElements: number): void {
    this.root = this.cursor = undefined
    this.depth = this.count = 0
    this.attrs = {}
    this.maxDepth = maxDepth
    this.maxElements = maxElements
  }
  /** the attributes of the tag being read, collected from `attribute` events */
  attrs: Record<string, string> = {}
  attribute(name: string, value: string): void {
    this.attrs[name] = value
  }
  /** called once saxes has checked the tag (names, namespaces, no duplicate attributes) */
  start(name: string): void {
    if (++this.count > this.maxElements)
      throw new LimitExceededError('LIMIT', 'XML elements', this.maxElements, this.count)
    if (++this.depth > this.maxDepth)
      throw new LimitExceededError('LIMIT', 'XML nesting depth', this.maxDepth, this.depth)
    const el = new Element(name)
    el.attrs = this.attrs
    this.attrs = {}
    if (this.cursor !== undefined) this.cursor.cnode(el)
    else this.root = el
    this.cursor = el
  }
  end(): void {
    // saxes has checked that the end tag matches
    const cursor = this.cursor as Element
    this.depth--
    this.cursor = cursor === this.root ? undefined : ((cursor.parent as Element | null) ?? undefined)
  }
  text(t: string): void {
    // saxes rejects non-blank text outside the root element; blank text there is not content
    if (this.cursor !== undefined) this.cursor.t(t)
  }
}

interface Reader {
  readonly parser: SaxesParser<typeof SAXES_OPTIONS>
  readonly builder: TreeBuilder
}

function newReader(): Reader {
  const builder = new TreeBuilder()
  const parser = new SaxesParser(SAXES_OPTIONS)
  parser.on('error', (e) => {
    throw malformed(e.message, e)
  })
  parser.on('attribute', (a) => builder.attribute(a.name, a.value))
  parser.on('opentag', (tag) => builder.start(tag.name))
  parser.on('closetag', () => builder.end())
  parser.on('text', (t) => builder.text(t))
  parser.on('cdata', (t) => builder.text(t))
  return { parser, builder }
}

/**
 * A saxes parser costs about as much to build as a trust message costs to read, and resets
 * itself after a complete document: keep one idle reader. It is taken out while in use (so a
 * nested call gets its own), and a parse that fails drops it instead of returning it.
 */
let idle: Reader | undefined

/**
 * Parses one XML document into an element tree.
 * @throws MalformedXmlError, LimitExceededError
 */
export function parseXml(text: string, limits?: Partial<XmlLimits>): Element {
  const { maxChars, maxDepth, maxElements } =
    limits === undefined ? DEFAULT_XML_LIMITS : { ...DEFAULT_XML_LIMITS, ...limits }
  if (typeof text !== 'string') throw new MalformedXmlError('XML', 'input is not text')
  if (text.length > maxChars)
    throw new LimitExceededError('LIMIT', 'XML input characters', maxChars, text.length)
  let body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  if (body.includes('<?')) {
    body = body.replace(XML_DECL, '')
    if (body.includes('<?'))
      throw new MalformedXmlError('XML', 'processing instructions are not allowed (RFC 6120 §11.1)')
  }
  if (LONE_SURROGATE.test(body))
    throw new MalformedXmlError('XML', 'unpaired surrogate: not an XML 1.0 character (§2.2 Char)')
  if (hasMarkupDeclaration(body))
    throw new MalformedXmlError('XML', 'DTD and entity declarations are not allowed (RFC 6120 §11.1)')

  const reader = idle ?? newReader()
  idle = undefined
  const { parser, builder } = reader
  builder.reset(maxDepth, maxElements)
  try {
    parser.write(body).close()
  } catch (e) {
    if (e instanceof MalformedXmlError || e instanceof LimitExceededError) throw e
    throw malformed(e instanceof Error ? e.message : 'unreadable XML', e)
  }
  idle = reader
  const { root } = builder
  if (root === undefined) throw new MalformedXmlError('XML', 'no root element')
  root.parent = null
  return root
}
