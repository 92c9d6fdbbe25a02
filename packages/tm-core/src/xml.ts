/**
 * Strict XML reading for everything Vouch parses (trust messages, SCE envelopes, CLI input).
 *
 * XMPP uses a restricted subset of XML (RFC 6120 §11.1). This reader builds `@xmpp/xml`
 * elements with the tokenizer `@xmpp/xml` itself uses (ltx), and adds what a security parser
 * needs and the stream-oriented `@xmpp/xml` parser does not check: one complete root element,
 * nothing after it, no DTD or entity declarations, no processing instructions except a leading
 * XML declaration, valid element names, and caps on size and depth. Every failure is a
 * {@link MalformedXmlError} or a {@link LimitExceededError}.
 */
import { Element, Parser } from '@xmpp/xml'
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

interface Tokenizer {
  emit(event: string, a?: unknown, b?: unknown): boolean
  write(data: string): void
  end(data?: string): void
}
// @xmpp/xml exposes its tokenizer only through Parser instances; take its class once.
const Tokenizer = (new Parser() as unknown as { parser: { constructor: new () => Tokenizer } }).parser
  .constructor

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/
const XML_DECL = /^\uFEFF?\s*<\?xml\s[^?]*\?>/
// Element and attribute names repeat a lot: remember the valid ones (bounded).
const validNames = new Set<string>()
function isValidName(name: string): boolean {
  if (validNames.has(name)) return true
  if (!NAME.test(name)) return false
  if (validNames.size < 4096) validNames.add(name)
  return true
}

/** `<!` is only allowed to open a comment or a CDATA section (no DTD, no entity declarations). */
function hasMarkupDeclaration(body: string): boolean {
  for (let i = body.indexOf('<!'); i !== -1; i = body.indexOf('<!', i + 2)) {
    if (!body.startsWith('<!--', i) && !body.startsWith('<![CDATA[', i)) return true
  }
  return false
}

/** Builds the element tree from tokenizer events, enforcing the structure rules and caps. */
class TreeBuilder {
  root: Element | undefined = undefined
  cursor: Element | undefined = undefined
  done = false
  depth = 0
  count = 0
  failure: Error | undefined = undefined
  readonly maxDepth: number
  readonly maxElements: number
  constructor(maxDepth: number, maxElements: number) {
    this.maxDepth = maxDepth
    this.maxElements = maxElements
  }
  fail(e: Error): undefined {
    this.failure ??= e
  }
  event(event: string, a: unknown, b: unknown): void {
    if (this.failure !== undefined) return
    if (event === 'startElement') this.start(a as string, b as Record<string, string>)
    else if (event === 'endElement') this.end(a as string)
    else if (event === 'text') this.text(a as string)
    else if (event === 'error')
      this.fail(new MalformedXmlError('XML', a instanceof Error ? a.message : String(a), { cause: a }))
  }
  start(name: string, attrs: Record<string, string>): undefined {
    if (this.done) return this.fail(new MalformedXmlError('XML', 'content after the root element'))
    if (!isValidName(name))
      return this.fail(new MalformedXmlError('XML', `invalid element name "${name.slice(0, 40)}"`))
    for (const a in attrs) {
      if (!isValidName(a))
        return this.fail(new MalformedXmlError('XML', `invalid attribute name "${a.slice(0, 40)}"`))
    }
    if (++this.count > this.maxElements)
      return this.fail(new LimitExceededError('LIMIT', 'XML elements', this.maxElements, this.count))
    if (++this.depth > this.maxDepth)
      return this.fail(new LimitExceededError('LIMIT', 'XML nesting depth', this.maxDepth, this.depth))
    const el = new Element(name, attrs)
    if (this.cursor !== undefined) this.cursor.cnode(el)
    else this.root = el
    this.cursor = el
  }
  end(name: string): undefined {
    const cursor = this.cursor
    if (cursor === undefined || cursor.name !== name)
      return this.fail(new MalformedXmlError('XML', `unexpected closing tag </${name.slice(0, 40)}>`))
    this.depth--
    if (cursor === this.root) {
      this.done = true
      this.cursor = undefined
    } else {
      this.cursor = (cursor.parent as Element | null | undefined) ?? undefined
    }
  }
  text(t: string): void {
    if (this.cursor !== undefined) this.cursor.t(t)
    else if (t.trim() !== '')
      this.fail(
        new MalformedXmlError(
          'XML',
          this.done ? 'text after the root element' : 'text before the root element',
        ),
      )
  }
}

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
  if (hasMarkupDeclaration(body))
    throw new MalformedXmlError('XML', 'DTD and entity declarations are not allowed (RFC 6120 §11.1)')

  const builder = new TreeBuilder(maxDepth, maxElements)
  const tokenizer = new Tokenizer()
  // Dispatch the tokenizer's events straight to the builder (no EventEmitter listeners: hot path).
  tokenizer.emit = (event: string, a?: unknown, b?: unknown): boolean => {
    builder.event(event, a, b)
    return true
  }
  try {
    tokenizer.write(body)
    tokenizer.end()
  } catch (e) {
    builder.fail(
      new MalformedXmlError('XML', e instanceof Error ? e.message : 'unreadable XML', { cause: e }),
    )
  }
  const { failure, root, done, cursor } = builder
  if (failure) throw failure
  if (!root) throw new MalformedXmlError('XML', 'no root element')
  if (!done) throw new MalformedXmlError('XML', `element <${cursor?.name ?? root.name}> is not closed`)
  // the tokenizer only reports text when a tag follows it: check what trails the root by hand
  if (body.slice(body.lastIndexOf('>') + 1).trim() !== '')
    throw new MalformedXmlError('XML', 'text after the root element')
  root.parent = null
  return root
}
