/**
 * Attack: unbound namespace prefixes in an SCE envelope (XML Namespaces 1.0 §5). `<p:to/>` or
 * `p:jid='…'` without `xmlns:p` in scope has no namespace, and readers disagree on it (ignore it
 * as foreign, or match the local name): an affix could count in one client and not in another.
 * `openEnvelope` rejects the envelope through tm-core's strict reader (MalformedXmlError, rule
 * XML); a declared prefix and the predeclared `xml:` still work.
 */
import { describe, expect, it } from 'vitest'
import { openEnvelope } from '../../src/index.ts'
import { ALICE, envelopeXml, STANZA } from '../fixtures.ts'
import { expectRejected } from '../helpers.ts'

const open = (xml: string) => () => openEnvelope(xml, STANZA)

describe('security: unbound namespace prefixes in an SCE envelope', () => {
  it('SCE-2: a second recipient as <p:to/> with p unbound is rejected, not ignored', () => {
    expectRejected(
      open(envelopeXml({ extra: "<p:to jid='mallory@evil.example'/>" })),
      'MalformedXmlError',
      'XML',
    )
  })
  it('SCE-3: a p:jid attribute on <from/> with p unbound is rejected', () => {
    const xml = envelopeXml({
      from: null,
      extra: `<from jid='${ALICE}/notebook' p:jid='mallory@evil.example'/>`,
    })
    expectRejected(open(xml), 'MalformedXmlError', 'XML')
  })
  it('TM-16: an unbound prefix inside <content/> is rejected', () => {
    expectRejected(
      open(envelopeXml({ content: '<content><x:body>hi</x:body></content>' })),
      'MalformedXmlError',
      'XML',
    )
  })
  it('a declared prefix and xml:lang read as before (control)', () => {
    const xml = envelopeXml({ extra: "<x:hint xmlns:x='urn:example:hint' xml:lang='en'/>" })
    expect(openEnvelope(xml, STANZA).from).toBe(ALICE)
  })
})
