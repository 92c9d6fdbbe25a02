/**
 * Attack: duplicate attributes in an SCE envelope (XML 1.0 §3.1 Unique Att Spec). With
 * `<from jid='alice…' jid='mallory…'/>` a lenient reader keeps one value and another client the
 * other, so the SCE-3 sender check would pass on one side for a different sender than the other
 * side displays. `openEnvelope` reads text through tm-core's strict reader, which rejects the
 * envelope (MalformedXmlError, rule XML) before any SCE rule runs.
 */
import { describe, expect, it } from 'vitest'
import { openEnvelope } from '../../src/index.ts'
import { ALICE, CAROL, envelopeXml, STANZA } from '../fixtures.ts'
import { expectRejected } from '../helpers.ts'

const open = (xml: string) => () => openEnvelope(xml, STANZA)

describe('security: duplicate attributes in an SCE envelope', () => {
  it('SCE-3: <from/> with two jid attributes is rejected', () => {
    const xml = envelopeXml({
      from: null,
      extra: `<from jid='${ALICE}/notebook' jid='mallory@evil.example/x'/>`,
    })
    expectRejected(open(xml), 'MalformedXmlError', 'XML')
  })
  it('SCE-2: <to/> with two jid attributes is rejected', () => {
    const xml = envelopeXml({ to: null, extra: `<to jid='${CAROL}' jid='dave@example.net'/>` })
    expectRejected(open(xml), 'MalformedXmlError', 'XML')
  })
  it('SCE-1: <time/> with two stamp attributes is rejected', () => {
    const xml = envelopeXml({
      time: null,
      extra: "<time stamp='2024-05-01T12:00:00Z' stamp='2030-01-01T00:00:00Z'/>",
    })
    expectRejected(open(xml), 'MalformedXmlError', 'XML')
  })
  it('SCE: an envelope with two xmlns attributes is rejected', () => {
    const xml = envelopeXml().replace(
      "xmlns='urn:xmpp:sce:1'",
      "xmlns='urn:xmpp:sce:1' xmlns='urn:xmpp:sce:0'",
    )
    expectRejected(open(xml), 'MalformedXmlError', 'XML')
  })
  it('the same envelope with single attributes opens (control)', () => {
    expect(openEnvelope(envelopeXml(), STANZA).from).toBe(ALICE)
  })
})
