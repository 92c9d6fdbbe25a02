/**
 * Fuzzing the receive path (bad input gets a typed error and changes no state). Whatever the
 * server sends, arbitrary bytes or generated stanzas cut at arbitrary points:
 * - the strict parser never throws; it reports at most one stream error, and only a
 *   `MalformedXmlError` (rule `XML`) or a `LimitExceededError` (a `STANZA-*` rule);
 * - every stanza it delivers is within the caps (`StanzaLimits`), or is the `type='error'`
 *   placeholder of one that was not, and for generated stanzas the decision is exact: refused
 *   if and only if its UTF-8 size, depth, element count or attribute count is over its cap;
 * - the binding fed with what it delivers writes nothing to the store and emits no error but
 *   typed ones (the generated stanzas carry no element of the binding's protocol: a message
 *   that decrypts is, by design, recorded as processed).
 * Small caps make every cap reachable; 300 runs per property.
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, EncryptionBackend, EncryptionNamespace } from '@vouch/tm-core'
import { DecryptionError } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { vouchXmpp } from '../../src/binding.ts'
import { type StanzaLimits, StrictStreamParser, stanzaLimitError } from '../../src/stream-parser.ts'
import { fakeClient } from '../fake-client.ts'
import { recordingStore } from '../recording-store.ts'
import { tick } from '../stand-in.ts'

const LIMITS: StanzaLimits = { maxStanzaBytes: 400, maxDepth: 4, maxElements: 12, maxAttributes: 3 }
/** three attributes: the header is held to the attribute cap too */
const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
const TYPED = new Set(['MalformedXmlError', 'LimitExceededError'])
const RUNS = { numRuns: 300 }

interface Tree {
  readonly name: string
  readonly attrs: readonly (readonly [string, string])[]
  readonly children: readonly (Tree | string)[]
}

const textUnit = fc.constantFrom('a', 'b', ' ', '€', '😀', 'é', '<', '&', '>', "'", '"', '\n')
const text = fc.string({ unit: textUnit, maxLength: 40 })
const attrs = fc.uniqueArray(fc.tuple(fc.constantFrom('id', 'a', 'b', 'c', 'type', 'from', 'xmlns'), text), {
  selector: ([k]) => k,
  maxLength: 5,
})
const { tree } = fc.letrec<{ tree: Tree; node: Tree | string }>((tie) => ({
  tree: fc.record({
    name: fc.constantFrom('x', 'body', 'key', 'header', 'item', 'query'),
    attrs,
    children: fc.array(tie('node'), { maxLength: 5 }),
  }),
  node: fc.oneof({ maxDepth: 7, depthIdentifier: 'tree' }, text, tie('tree')),
}))
const stanza = fc.record({
  name: fc.constantFrom('message', 'iq', 'presence', 'message', 'r'),
  attrs,
  children: fc.array(fc.oneof(tree, text), { maxLength: 5 }),
})

const escapeXml = (s: string, quote: boolean): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(quote ? /'/g : /(?!)/g, '&apos;')
const serialize = (t: Tree | string): string =>
  typeof t === 'string'
    ? escapeXml(t, false)
    : `<${t.name}${t.attrs
        .filter(([k, v]) => k !== 'xmlns' || v === '' || /^[a-z:]+$/.test(v))
        .map(([k, v]) => ` ${k}='${escapeXml(v, true)}'`)
        .join('')}${t.children.length === 0 ? '/>' : `>${t.children.map(serialize).join('')}</${t.name}>`}`

interface Measure {
  readonly bytes: number
  readonly depth: number
  readonly elements: number
  readonly attributes: number
}
function measure(t: Tree): Omit<Measure, 'bytes'> {
  let depth = 1
  let elements = 1
  let attributes = serialize({ ...t, children: [] }).split("='").length - 1
  for (const c of t.children) {
    if (typeof c === 'string') continue
    const m = measure(c)
    depth = Math.max(depth, m.depth + 1)
    elements += m.elements
    attributes = Math.max(attributes, m.attributes)
  }
  return { depth, elements, attributes }
}

interface Read {
  readonly elements: Element[]
  readonly errors: Error[]
  readonly thrown: unknown[]
}
function read(chunks: readonly (string | Uint8Array)[]): Read {
  const parser = new StrictStreamParser(LIMITS)
  const out: Read = { elements: [], errors: [], thrown: [] }
  parser.on('element', (el: Element) => out.elements.push(el))
  parser.on('error', (e: Error) => out.errors.push(e))
  for (const c of chunks) {
    try {
      parser.write(c)
    } catch (e) {
      out.thrown.push(e)
    }
  }
  return out
}

/** `s` cut at the given fractions of its length. */
function cutAt<T extends string | Uint8Array>(s: T, fractions: readonly number[]): T[] {
  const at = [...new Set(fractions.map((f) => Math.floor(f * s.length)))].sort((a, b) => a - b)
  const points = [0, ...at, s.length]
  return points.slice(1).map((end, i) => s.slice(points[i], end) as T)
}
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 })

function typedOnly(r: Read): void {
  expect(r.thrown).toEqual([])
  expect(r.errors.length).toBeLessThanOrEqual(1)
  for (const e of r.errors) {
    expect(TYPED.has(e.name), `${e.name}: ${e.message}`).toBe(true)
    expect(typeof (e as { rule?: unknown }).rule).toBe('string')
  }
}

/** Within the caps, or a placeholder. */
function capped(el: Element): void {
  const error = stanzaLimitError(el)
  if (error !== undefined) {
    expect(error.rule).toMatch(/^STANZA-(SIZE|DEPTH|ELEMENTS|ATTRIBUTES)$/)
    expect(el.attrs.type).toBe('error')
    return
  }
  const walk = (e: Element, level: number): { depth: number; elements: number } => {
    expect(Object.keys(e.attrs).length).toBeLessThanOrEqual(LIMITS.maxAttributes)
    let depth = level
    let elements = 1
    for (const c of e.children) {
      if (typeof c === 'string') continue
      const m = walk(c as Element, level + 1)
      depth = Math.max(depth, m.depth)
      elements += m.elements
    }
    return { depth, elements }
  }
  const m = walk(el, 1)
  expect(m.depth).toBeLessThanOrEqual(LIMITS.maxDepth)
  expect(m.elements).toBeLessThanOrEqual(LIMITS.maxElements)
}

describe('stream fuzzing: typed errors only, the caps hold exactly', () => {
  it('arbitrary bytes after the stream header: no throw, typed errors only, every delivered stanza capped', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), (chunks) => {
        const r = read([HEADER, ...chunks])
        typedOnly(r)
        for (const el of r.elements) capped(el)
      }),
      RUNS,
    )
  })

  it('generated stanzas, cut anywhere: refused exactly when over a cap; the stream fails only when broken', () => {
    const utf8 = new TextEncoder()
    fc.assert(
      fc.property(
        fc.array(fc.tuple(stanza, fc.constantFrom('', ' ', '\n  ')), { minLength: 1, maxLength: 5 }),
        cuts,
        fc.boolean(),
        (stanzas, fractions, asBytes) => {
          const xml = HEADER + stanzas.map(([s, ws]) => ws + serialize(s)).join('')
          const r = read(asBytes ? cutAt(utf8.encode(xml), fractions) : cutAt(xml, fractions))
          typedOnly(r)
          // what each stanza must become, in order, up to the first one that breaks the stream
          let i = 0
          for (const [s] of stanzas) {
            const m: Measure = { bytes: utf8.encode(serialize(s)).length, ...measure(s) }
            const over = {
              'STANZA-SIZE': m.bytes > LIMITS.maxStanzaBytes,
              'STANZA-DEPTH': m.depth > LIMITS.maxDepth,
              'STANZA-ELEMENTS': m.elements > LIMITS.maxElements,
              'STANZA-ATTRIBUTES': m.attributes > LIMITS.maxAttributes,
            }
            const broken =
              m.bytes > LIMITS.maxStanzaBytes * 8 ||
              m.depth > LIMITS.maxDepth * 8 ||
              (s.name === 'r' && Object.values(over).some(Boolean))
            if (broken) {
              expect(r.errors.map((e) => e.name)).toEqual(['LimitExceededError'])
              expect(r.elements).toHaveLength(i)
              return
            }
            const el = r.elements[i++] as Element
            expect(el?.name).toBe(s.name)
            const rules = Object.entries(over).flatMap(([rule, o]) => (o ? [rule] : []))
            if (rules.length === 0) expect(stanzaLimitError(el), serialize(s)).toBeUndefined()
            else expect(rules, `${JSON.stringify(m)} ${serialize(s)}`).toContain(stanzaLimitError(el)?.rule)
            capped(el)
          }
          expect(r.errors).toEqual([])
          expect(r.elements).toHaveLength(i)
        },
      ),
      RUNS,
    )
  })
})

describe('stream fuzzing through the binding: the store is never written', () => {
  const ALICE = 'alice@localhost' as BareJid
  const NS = 'urn:example:stand-in' as EncryptionNamespace

  it('whatever the parser delivers (arbitrary bytes, generated stanzas), no store write, typed errors only', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(stanza.map(serialize), fc.uint8Array({ maxLength: 200 })), { maxLength: 5 }),
        async (parts) => {
          const backend: EncryptionBackend = {
            namespace: NS,
            capabilities: { oneKeyPerIdentity: true, keyIdLength: 20 },
            ownKeys: async () => [],
            keysOf: async () => [],
            encrypt: () => Promise.reject(new Error('not used')),
            decrypt: () => Promise.reject(new DecryptionError('STAND-IN', 'never')),
          }
          const fake = fakeClient(() => undefined, ALICE)
          const { store, writes } = recordingStore(memoryStore().forAccount(ALICE))
          const vouch = vouchXmpp(fake.xmpp, { store, backends: [backend] })
          const errors: Error[] = []
          vouch.on('error', (e) => errors.push(e))
          const parser = new StrictStreamParser(LIMITS)
          parser.on('element', (el: Element) => fake.receive(el))
          parser.on('error', () => undefined)
          parser.write(HEADER)
          for (const p of parts) parser.write(p)
          await tick(3)
          await vouch.idle()
          vouch.close()
          expect(writes).toEqual([])
          for (const e of errors) expect(TYPED.has(e.name) || e.name === 'StanzaError', e.name).toBe(true)
        },
      ),
      { numRuns: 150 },
    )
  })
})
