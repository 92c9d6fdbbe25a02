import { parseXml, toBareJid } from '@vouch/tm-core'
import { Element } from '@xmpp/xml'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  buildEnvelope,
  DEFAULT_RPAD,
  formatDateTime,
  openEnvelope,
  parseDateTime,
  serializeEnvelope,
} from '../src/index.ts'

// text that XML 1.0 can carry unchanged (no C0 controls except tab/newline, no CR: XML normalises it)
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls are exactly what we leave out
const XML_UNSAFE = /[\u0000-\u0008\u000b-\u001f\ufffe\uffff]/u
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !XML_UNSAFE.test(s))
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/)
const attrs = fc.dictionary(
  name.filter((n) => n !== 'xmlns'),
  fc.oneof(text, fc.constant('')),
  { maxKeys: 3 },
)

const { element } = fc.letrec<{ element: Element; node: Element | string }>((tie) => ({
  element: fc
    .record({
      name,
      attrs,
      xmlns: fc.option(fc.constantFrom('urn:xmpp:tm:1', 'jabber:client', 'urn:example:x'), {
        nil: undefined,
      }),
      children: fc.array(tie('node'), { maxLength: 4, depthIdentifier: 'tree' }),
    })
    .map(({ name: n, attrs: a, xmlns, children }) => {
      const el = new Element(n, xmlns === undefined ? a : { ...a, xmlns })
      for (const c of children) el.cnode(c)
      return el
    }),
  node: fc.oneof({ depthSize: 'small', depthIdentifier: 'tree' }, text, tie('element')),
}))

// IDNA2008 (RFC 7622 domainparts): no `--` in positions 3 and 4
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/).filter((l) => l.slice(2, 4) !== '--')
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.'))
const local = fc.stringMatching(/^[A-Za-z0-9._+=-]{1,16}$/)
const bareJid = fc
  .tuple(fc.option(local, { nil: undefined }), domain)
  .map(([l, d]) => (l === undefined ? d : `${l}@${d}`))
const resource = fc.stringMatching(/^[A-Za-z0-9 ._-]{1,12}$/)
const time = fc.date({
  min: new Date('0001-01-01T00:00:00Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
  noInvalidDate: true,
})

describe('round trip: build → serialize → parse → open', () => {
  it('D-2, D-3, D-7, SCE-1 … SCE-4: every built envelope opens to what was put in, padded as asked (1000 runs)', () => {
    fc.assert(
      fc.property(
        fc.array(element, { minLength: 1, maxLength: 3 }),
        bareJid,
        resource,
        bareJid,
        fc.option(resource, { nil: undefined }),
        time,
        fc.integer({ min: -300_000, max: 300_000 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        fc.oneof(fc.constant(undefined), fc.constant(0), fc.integer({ min: 0, max: 1500 })),
        (content, from, fromRes, to, toRes, t, skew, a, b, minEnvelopeBytes) => {
          const [minLength, maxLength] = a <= b ? [a, b] : [b, a]
          const env = buildEnvelope({
            content,
            from: `${from}/${fromRes}`,
            to,
            time: t,
            rpad: { minLength, maxLength, ...(minEnvelopeBytes === undefined ? {} : { minEnvelopeBytes }) },
          })
          const wire = serializeEnvelope(env)
          const opened = openEnvelope(parseXml(wire), {
            stanzaFrom: `${from}/${fromRes}`,
            stanzaTo: toRes === undefined ? to : `${to}/${toRes}`,
            now: new Date(t.getTime() + skew),
          })
          expect(opened.from).toBe(toBareJid(from))
          expect(opened.to).toBe(toBareJid(to))
          expect(opened.time?.getTime()).toBe(t.getTime())
          // D-7: filled up to the minimum (UTF-8 bytes of the serialized envelope), then the random part
          const min = minEnvelopeBytes ?? DEFAULT_RPAD.minEnvelopeBytes
          const bytes = new TextEncoder().encode(wire).length
          const fill = Math.max(0, min - (bytes - opened.rpadLength))
          expect(bytes).toBeGreaterThanOrEqual(min)
          expect(opened.rpadLength - fill).toBeGreaterThanOrEqual(minLength)
          expect(opened.rpadLength - fill).toBeLessThanOrEqual(maxLength)
          expect(opened.content.getChildElements().map(String)).toEqual(content.map(String))
          expect(openEnvelope(wire, { stanzaFrom: from, stanzaTo: to, now: t }).content.toString()).toBe(
            opened.content.toString(),
          )
        },
      ),
      { numRuns: 1000 },
    )
    // ~0.5 s alone; the whole suite runs beside Chromium tests on 2 cores
  }, 60_000)

  it('D-2: formatDateTime → parseDateTime is the identity on years 0001–9999 (1000 runs)', () => {
    fc.assert(
      fc.property(time, (t) => {
        const s = formatDateTime(t)
        expect(s).toMatch(/Z$/)
        const r = parseDateTime(s ?? '')
        expect(r.ok && r.date.getTime()).toBe(t.getTime())
      }),
      { numRuns: 1000 },
    )
  })
})
