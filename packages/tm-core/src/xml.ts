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
  on(event: 'startElement', fn: (name: string, attrs: Record<string, string>) => void): void
  on(event: 'endElement', fn: (name: string) => void): void
  on(event: 'text', fn: (text: string) => void): void
  on(event: 'error', fn: (err: Error) => void): void
  write(data: string): void
  end(data?: string): void
}
// @xmpp/xml exposes its tokenizer only through Parser instances; take its class once.
const Tokenizer = (new Parser() as unknown as { parser: { constructor: new () => Tokenizer } }).parser
  .constructor

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/
const XML_DECL = /^\uFEFF?\s*<\?xml\s[^?]*\?>/

/**
 * Parses one XML document into an element tree.
 * @throws MalformedXmlError, LimitExceededError
 */
export function parseXml(text: string, limits: Partial<XmlLimits> = {}): Element {
  const { maxChars, maxDepth, maxElements } = { ...DEFAULT_XML_LIMITS, ...limits }
  if (typeof text !== 'string') throw new MalformedXmlError('XML', 'input is not text')
  if (text.length > maxChars)
    throw new LimitExceededError('LIMIT', 'XML input characters', maxChars, text.length)
  let body = text.replace(XML_DECL, '')
  if (/<!DOCTYPE|<!ENTITY/i.test(body))
    throw new MalformedXmlError('XML', 'DTD and entity declarations are not allowed (RFC 6120 §11.1)')
  if (body.includes('<?'))
    throw new MalformedXmlError('XML', 'processing instructions are not allowed (RFC 6120 §11.1)')
  body = body.replace(/^\uFEFF/, '')

  const tokenizer = new Tokenizer()
  let root: Element | undefined
  let cursor: Element | undefined
  let done = false
  let depth = 0
  let count = 0
  let failure: Error | undefined
  const fail = (e: Error): void => {
    failure ??= e
  }
  tokenizer.on('startElement', (name, attrs) => {
    if (failure) return
    if (done) return fail(new MalformedXmlError('XML', 'content after the root element'))
    if (!NAME.test(name))
      return fail(new MalformedXmlError('XML', `invalid element name "${name.slice(0, 40)}"`))
    for (const a of Object.keys(attrs)) {
      if (!NAME.test(a))
        return fail(new MalformedXmlError('XML', `invalid attribute name "${a.slice(0, 40)}"`))
    }
    if (++count > maxElements)
      return fail(new LimitExceededError('LIMIT', 'XML elements', maxElements, count))
    if (++depth > maxDepth) return fail(new LimitExceededError('LIMIT', 'XML nesting depth', maxDepth, depth))
    const el = new Element(name, attrs)
    if (cursor) cursor.cnode(el)
    else root = el
    cursor = el
  })
  tokenizer.on('endElement', (name) => {
    if (failure) return
    if (!cursor || cursor.name !== name)
      return fail(new MalformedXmlError('XML', `unexpected closing tag </${name.slice(0, 40)}>`))
    depth--
    const parent = cursor.parent as Element | null | undefined
    if (cursor === root) {
      done = true
      cursor = undefined
    } else {
      cursor = parent ?? undefined
    }
  })
  tokenizer.on('text', (t) => {
    if (failure) return
    if (cursor) cursor.t(t)
    else if (t.trim() !== '')
      fail(
        new MalformedXmlError('XML', done ? 'text after the root element' : 'text before the root element'),
      )
  })
  tokenizer.on('error', (e) => fail(new MalformedXmlError('XML', e.message, { cause: e })))
  try {
    tokenizer.write(body)
    tokenizer.end()
  } catch (e) {
    fail(new MalformedXmlError('XML', e instanceof Error ? e.message : 'unreadable XML', { cause: e }))
  }
  if (failure) throw failure
  if (!root) throw new MalformedXmlError('XML', 'no root element')
  if (!done) throw new MalformedXmlError('XML', `element <${cursor?.name ?? root.name}> is not closed`)
  // the tokenizer only reports text when a tag follows it: check what trails the root by hand
  if (body.slice(body.lastIndexOf('>') + 1).trim() !== '')
    throw new MalformedXmlError('XML', 'text after the root element')
  root.parent = null
  return root
}
