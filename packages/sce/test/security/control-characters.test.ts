/**
 * Attack: characters outside the XML 1.0 `Char` production (§2.2) in an SCE envelope: a C0
 * control, U+FFFE/U+FFFF or an unpaired surrogate in an affix, raw or as a character reference.
 * A lenient reader passes them on, so the sender or recipient JID compares and displays
 * differently in another client. `openEnvelope` rejects them through tm-core's strict reader
 * (MalformedXmlError, rule XML).
 */
import { describe, expect, it } from 'vitest'
import { openEnvelope } from '../../src/index.ts'
import { ALICE, CAROL, envelopeXml, STANZA } from '../fixtures.ts'
import { expectRejected } from '../helpers.ts'

const open = (xml: string) => () => openEnvelope(xml, STANZA)
const RAW = ['\u0000', '\u0001', '\u0008', '\u000B', '\u001B', '\uFFFE', '\uFFFF', '\uD800', '\uDC00']
const label = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`

describe('security: control characters in an SCE envelope (XML 1.0 §2.2 Char)', () => {
  for (const c of RAW) {
    it(`SCE-3: raw ${label(c)} in the <from/> jid is rejected`, () => {
      expectRejected(open(envelopeXml({ from: `${ALICE}${c}/notebook` })), 'MalformedXmlError', 'XML')
    })
    it(`SCE-2: raw ${label(c)} in the <to/> jid is rejected`, () => {
      expectRejected(open(envelopeXml({ to: `${CAROL}${c}` })), 'MalformedXmlError', 'XML')
    })
    it(`raw ${label(c)} in <rpad/> text is rejected`, () => {
      expectRejected(open(envelopeXml({ rpad: `QHqW2arW${c}FewoERL1a43` })), 'MalformedXmlError', 'XML')
    })
  }
  // references to non-characters were already refused before the reader moved to saxes; pinned here
  it('the reference &#1; in the <to/> jid is rejected', () => {
    const xml = envelopeXml({ to: null, extra: `<to jid='carol&#1;@example.com'/>` })
    expectRejected(open(xml), 'MalformedXmlError', 'XML')
  })
  it('a malformed reference (&#99xyz;) in the <to/> jid is rejected, not read as "c"', () => {
    const xml = envelopeXml({ to: null, extra: `<to jid='&#99xyz;arol@example.com'/>` })
    expectRejected(open(xml), 'MalformedXmlError', 'XML')
  })
  it('an envelope without them opens (control)', () => {
    expect(openEnvelope(envelopeXml(), STANZA).from).toBe(ALICE)
  })
})
