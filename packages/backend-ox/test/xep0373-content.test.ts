/**
 * XEP-0373 v0.7.0 §3.1: content elements, as vectors (valid / invalid with the reason).
 */
import { Element } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { buildContent, parseContent } from '../src/index.ts'

const NS = "xmlns='urn:xmpp:openpgp:0'"
const T = "<time stamp='2026-01-01T00:00:00Z'/>"
const P = "<payload><body xmlns='jabber:client'>hi</body></payload>"

const valid: Array<[string, string]> = [
  [
    'signcrypt with one <to/>',
    `<signcrypt ${NS}><to jid='juliet@example.org'/>${T}<rpad>abc</rpad>${P}</signcrypt>`,
  ],
  ['sign with two <to/>', `<sign ${NS}><to jid='a@example.org'/><to jid='b@example.org'/>${T}${P}</sign>`],
  ['crypt without <to/> (optional)', `<crypt ${NS}>${T}${P}</crypt>`],
  ['rpad absent is allowed', `<signcrypt ${NS}><to jid='a@example.org'/>${T}${P}</signcrypt>`],
  ['a full JID in <to/> is read bare', `<signcrypt ${NS}><to jid='a@example.org/res'/>${T}${P}</signcrypt>`],
  [
    'a stamp without a zone is UTC (D-2)',
    `<sign ${NS}><to jid='a@example.org'/><time stamp='2026-01-01T00:00:00'/>${P}</sign>`,
  ],
  ['foreign extension elements are ignored', `<crypt ${NS}>${T}<x xmlns='urn:example'/>${P}</crypt>`],
  [
    'a jabber:server body is kept',
    `<crypt ${NS}>${T}<payload><body xmlns='jabber:server'>x</body></payload></crypt>`,
  ],
]

const invalid: Array<[string, string]> = [
  ['unknown root element', `<encrypt ${NS}>${T}${P}</encrypt>`],
  ['wrong namespace', `<signcrypt xmlns='urn:xmpp:openpgp:1'><to jid='a@example.org'/>${T}${P}</signcrypt>`],
  ['signcrypt without <to/>', `<signcrypt ${NS}>${T}${P}</signcrypt>`],
  ['sign without <to/>', `<sign ${NS}>${T}${P}</sign>`],
  ['no <time/>', `<crypt ${NS}>${P}</crypt>`],
  ['two <time/>', `<crypt ${NS}>${T}${T}${P}</crypt>`],
  ['bad stamp', `<crypt ${NS}><time stamp='yesterday'/>${P}</crypt>`],
  ['no <payload/>', `<crypt ${NS}>${T}</crypt>`],
  ['two <payload/>', `<crypt ${NS}>${T}${P}${P}</crypt>`],
  ['two <rpad/>', `<crypt ${NS}>${T}<rpad/><rpad/>${P}</crypt>`],
  ['<to/> without jid', `<signcrypt ${NS}><to/>${T}${P}</signcrypt>`],
  ['<to/> with a malformed JID', `<signcrypt ${NS}><to jid='a@@b'/>${T}${P}</signcrypt>`],
  ['unknown OX child', `<crypt ${NS}>${T}<from jid='a@example.org'/>${P}</crypt>`],
  ['not XML', `<crypt ${NS}>${T}`],
  ['a DTD', `<!DOCTYPE x [<!ENTITY a 'b'>]><crypt ${NS}>${T}${P}</crypt>`],
]

describe('XEP-0373 §3.1 content elements', () => {
  for (const [i, [comment, xml]] of valid.entries())
    it(`valid #${i}: ${comment}`, () => {
      const c = parseContent(xml)
      expect(c.payload.length, comment).toBe(1)
      expect(c.time.getTime(), comment).toBe(Date.UTC(2026, 0, 1))
    })
  for (const [i, [comment, xml]] of invalid.entries())
    it(`invalid #${i}: ${comment}`, () => {
      expect(() => parseContent(xml), comment).toThrowError(
        expect.objectContaining({ name: expect.stringMatching(/DecryptionError|MalformedXmlError/) }),
      )
    })

  it('rejects more <to/> than the cap (LimitExceededError)', () => {
    const tos = Array.from({ length: 5 }, (_, i) => `<to jid='u${i}@example.org'/>`).join('')
    expect(() => parseContent(`<sign ${NS}>${tos}${T}${P}</sign>`, { maxTo: 4 })).toThrowError(
      expect.objectContaining({ name: 'LimitExceededError', rule: 'OX-SIZE' }),
    )
  })

  it('builds what it parses: bare <to/>, Z stamp, rpad, cloned payload', () => {
    const body = new Element('body', { xmlns: 'jabber:client' }).t('hi')
    const el = buildContent({
      mode: 'signcrypt',
      to: ['Juliet@Example.org/balcony'],
      time: new Date(Date.UTC(2026, 0, 1, 12)),
      payload: [body],
      rpad: 'xyz',
    })
    expect(el.toString()).toBe(
      '<signcrypt xmlns="urn:xmpp:openpgp:0"><to jid="juliet@example.org"/><time stamp="2026-01-01T12:00:00Z"/><rpad>xyz</rpad><payload><body xmlns="jabber:client">hi</body></payload></signcrypt>',
    )
    expect(body.parent ?? null).toBeNull()
    const back = parseContent(el.toString())
    expect(back).toMatchObject({ mode: 'signcrypt', to: ['juliet@example.org'], rpad: 'xyz' })
  })

  it('refuses to build a <time/> XEP-0082 cannot write (an invalid Date, a year after 9999)', () => {
    for (const time of [new Date(Number.NaN), new Date('+010000-01-01T00:00:00Z')])
      expect(() => buildContent({ mode: 'crypt', to: [], time, payload: [] })).toThrowError(
        expect.objectContaining({ name: 'DecryptionError', rule: 'OX-CONTENT' }),
      )
  })

  it('refuses to build <signcrypt/> without a recipient', () => {
    expect(() => buildContent({ mode: 'signcrypt', to: [], time: new Date(), payload: [] })).toThrowError(
      expect.objectContaining({ rule: 'OX-CONTENT' }),
    )
  })
})
