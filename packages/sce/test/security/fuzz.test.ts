/**
 * Fuzzing openEnvelope with random and mutated XML: whatever happens, it either returns an
 * envelope or throws a Vouch typed error (never a TypeError, RangeError or a string).
 */
import { isVouchError } from '@vouch/tm-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { openEnvelope } from '../../src/index.ts'
import { envelopeXml, STANZA } from '../fixtures.ts'

const seeds = [
  envelopeXml(),
  envelopeXml({ time: '2024-05-01T14:00:00.5+02:00', from: 'Alice@Example.org', to: 'carol@example.com/x' }),
  envelopeXml({ ns: 'urn:xmpp:sce:0', content: "<payload><body xmlns='jabber:client'>x</body></payload>" }),
  "<content xmlns='urn:xmpp:sce:0'><payload><x/></payload></content>",
]

const tokens = [
  '<',
  '>',
  '/>',
  '</',
  '<envelope',
  '</envelope>',
  "xmlns='urn:xmpp:sce:1'",
  "xmlns='urn:xmpp:sce:0'",
  '<content>',
  '</content>',
  '<payload>',
  '</payload>',
  '<rpad>',
  '</rpad>',
  "<time stamp='",
  "'/>",
  "<from jid='",
  "<to jid='",
  '&amp;',
  '&#0;',
  '&#x1F600;',
  '&bogus;',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '<?xml version="1.0"?>',
  '<!DOCTYPE x>',
  '2024-05-01T12:00:00Z',
  '9999-99-99T99:99:99Z',
  'alice@example.org',
  'carol@example.com',
  '@',
  '/',
  '"',
  "'",
  '=',
  '\u0000',
  '\uFEFF',
  '\uD800',
  'é',
  ' ',
  '\n',
]

/** A mutation: insert, delete or replace a slice of the seed text. */
const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.nat({ max: 12 }),
        fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 6 }), fc.constant('')),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([seed, edits]) =>
    edits.reduce((s, [at, del, ins]) => {
      const i = at % (s.length + 1)
      return s.slice(0, i) + ins + s.slice(i + del)
    }, seed),
  )

const soup = fc
  .array(fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 4 })), { maxLength: 30 })
  .map((a) => a.join(''))

function openOrTypedError(input: string, legacy: boolean): void {
  try {
    const opened = openEnvelope(input, {
      ...STANZA,
      legacy,
      require: { rpad: false, time: false, from: false, to: false },
    })
    expect(typeof opened.rpadLength).toBe('number')
    expect(typeof opened.content.toString()).toBe('string')
  } catch (e) {
    expect(isVouchError(e), `${String(e)} for ${JSON.stringify(input).slice(0, 200)}`).toBe(true)
  }
}

describe('security: fuzzing openEnvelope', () => {
  it('mutated envelopes only ever fail with Vouch typed errors (2000 runs)', () => {
    fc.assert(
      fc.property(mutated, fc.boolean(), (input, legacy) => openOrTypedError(input, legacy)),
      { numRuns: 2000 },
    )
  })

  it('random XML-ish token soup only ever fails with Vouch typed errors (2000 runs)', () => {
    fc.assert(
      fc.property(soup, fc.boolean(), (input, legacy) => openOrTypedError(input, legacy)),
      { numRuns: 2000 },
    )
  })

  it('arbitrary strings only ever fail with Vouch typed errors (1000 runs)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (input) => openOrTypedError(input, true)),
      { numRuns: 1000 },
    )
    // ~0.6 s alone; the whole suite runs beside Chromium tests on 2 cores
  }, 60_000)

  it('the mutations do produce both accepted and rejected envelopes', () => {
    const samples = fc.sample(mutated, { numRuns: 500, seed: 1 })
    let ok = 0
    for (const s of samples) {
      try {
        openEnvelope(s, { ...STANZA, legacy: true })
        ok++
      } catch {}
    }
    expect(ok).toBeGreaterThan(0)
    expect(ok).toBeLessThan(samples.length)
  })
})
