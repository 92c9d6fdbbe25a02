import { parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { envelopeToJson, openEnvelope } from '../src/index.ts'
import { ALICE, CAROL, envelopeXml, STANZA, T0, TRUST_MESSAGE } from './fixtures.ts'
import { expectRejected } from './helpers.ts'

const at = (iso: string): Date => new Date(iso)
const plus = (d: Date, ms: number): Date => new Date(d.getTime() + ms)

describe('XEP-0420 openEnvelope: receiver checks', () => {
  it('opens a valid trust-message envelope and returns a detached <content/> with its xmlns', () => {
    const opened = openEnvelope(envelopeXml(), STANZA)
    expect(opened.namespace).toBe('urn:xmpp:sce:1')
    expect(opened.legacy).toBe(false)
    expect(opened.time?.toISOString()).toBe('2024-05-01T12:00:00.000Z')
    expect(opened.from).toBe(ALICE)
    expect(opened.to).toBe(CAROL)
    expect(opened.rpadLength).toBe(19)
    expect(opened.content.parent).toBeNull()
    expect(opened.content.toString()).toBe(
      `<content xmlns="urn:xmpp:sce:1">${parseXml(TRUST_MESSAGE)}</content>`,
    )
    expect(opened.content.getChild('trust-message', 'urn:xmpp:tm:1')?.attrs.usage).toBe('urn:xmpp:atm:1')
  })

  it('accepts an element as well as text, and does not modify the element', () => {
    const el = parseXml(envelopeXml())
    const before = el.toString()
    const opened = openEnvelope(el, STANZA)
    expect(opened.from).toBe(ALICE)
    expect(el.toString()).toBe(before)
  })

  describe('SCE-1: <time stamp> is an XEP-0082 DateTime within the margin of the sending time', () => {
    it('SCE-1: accepts the margin edges exactly (±300 s) and rejects 1 ms beyond', () => {
      const stamp = '2024-05-01T12:00:00Z'
      const xml = envelopeXml({ time: stamp })
      for (const now of [plus(T0, 300_000), plus(T0, -300_000)])
        expect(openEnvelope(xml, { ...STANZA, now }).time?.toISOString()).toBe('2024-05-01T12:00:00.000Z')
      expectRejected(
        () => openEnvelope(xml, { ...STANZA, now: plus(T0, 300_001) }),
        'InvalidEnvelopeError',
        'SCE-1',
        'stale by 1 ms',
      )
      expectRejected(
        () => openEnvelope(xml, { ...STANZA, now: plus(T0, -300_001) }),
        'InvalidEnvelopeError',
        'SCE-1',
        'future by 1 ms',
      )
    })

    it('SCE-1: honours a custom margin, including 0', () => {
      const xml = envelopeXml({ time: '2024-05-01T12:00:00.250Z' })
      expect(
        openEnvelope(xml, { ...STANZA, now: at('2024-05-01T12:00:00.250Z'), marginSeconds: 0 }).time,
      ).toEqual(at('2024-05-01T12:00:00.250Z'))
      expectRejected(
        () => openEnvelope(xml, { ...STANZA, marginSeconds: 0 }),
        'InvalidEnvelopeError',
        'SCE-1',
      )
      expect(
        openEnvelope(envelopeXml({ time: '2024-05-01T11:00:00Z' }), { ...STANZA, marginSeconds: 3600 }).time,
      ).toEqual(at('2024-05-01T11:00:00Z'))
    })

    it('SCE-1: an asymmetric window (maxAgeSeconds, futureSkewSeconds) is inclusive at both edges', () => {
      const xml = envelopeXml({ time: '2024-05-01T12:00:00Z' })
      const window = { maxAgeSeconds: 3600, futureSkewSeconds: 10 }
      // now after the stamp: the envelope is old
      expect(openEnvelope(xml, { ...STANZA, now: plus(T0, 3_600_000), window }).time).toEqual(T0)
      expectRejected(
        () => openEnvelope(xml, { ...STANZA, now: plus(T0, 3_600_001), window }),
        'InvalidEnvelopeError',
        'SCE-1',
        'older than maxAgeSeconds by 1 ms',
      )
      // now before the stamp: the envelope is dated in the future
      expect(openEnvelope(xml, { ...STANZA, now: plus(T0, -10_000), window }).time).toEqual(T0)
      expectRejected(
        () => openEnvelope(xml, { ...STANZA, now: plus(T0, -10_001), window }),
        'InvalidEnvelopeError',
        'SCE-1',
        'beyond futureSkewSeconds by 1 ms',
      )
    })

    it('SCE-1: marginSeconds m is the window { maxAgeSeconds: m, futureSkewSeconds: m }', () => {
      for (const ms of [-60_001, -60_000, 0, 60_000, 60_001]) {
        const xml = envelopeXml({ time: plus(T0, ms).toISOString() })
        const outcome = (o: object): string => {
          try {
            openEnvelope(xml, { ...STANZA, ...o })
            return 'ok'
          } catch (e) {
            return (e as { rule?: string }).rule ?? 'error'
          }
        }
        expect(outcome({ marginSeconds: 60 }), String(ms)).toBe(
          outcome({ window: { maxAgeSeconds: 60, futureSkewSeconds: 60 } }),
        )
        expect(outcome({ marginSeconds: 60 }), String(ms)).toBe(Math.abs(ms) > 60_000 ? 'SCE-1' : 'ok')
      }
    })

    it('SCE-1: compares with the XEP-0203 delay stamp when the stanza came from an archive', () => {
      const xml = envelopeXml({ time: '2024-01-01T08:00:00Z' })
      const late = { ...STANZA, now: at('2024-05-01T12:00:00Z') }
      expectRejected(
        () => openEnvelope(xml, late),
        'InvalidEnvelopeError',
        'SCE-1',
        'without delay: months old',
      )
      expect(openEnvelope(xml, { ...late, stanzaTime: at('2024-01-01T08:04:00Z') }).time).toEqual(
        at('2024-01-01T08:00:00Z'),
      )
      expectRejected(
        () => openEnvelope(xml, { ...late, stanzaTime: at('2024-01-01T08:06:00Z') }),
        'InvalidEnvelopeError',
        'SCE-1',
        'delay stamp 6 min after the SCE time',
      )
    })

    it('SCE-1: applies zone offsets and fractional seconds', () => {
      const cases: [string, string][] = [
        ['2024-05-01T14:00:00+02:00', '2024-05-01T12:00:00.000Z'],
        ['2024-05-01T06:30:00-05:30', '2024-05-01T12:00:00.000Z'],
        ['2024-05-01T12:00:00-00:00', '2024-05-01T12:00:00.000Z'],
        ['2024-05-02T02:00:00+14:00', '2024-05-01T12:00:00.000Z'],
        ['2024-05-01T12:00:00.5Z', '2024-05-01T12:00:00.500Z'],
        ['2024-05-01T12:00:00.123456789Z', '2024-05-01T12:00:00.123Z'],
        ['2024-05-01T13:01:02.03+01:00', '2024-05-01T12:01:02.030Z'],
      ]
      for (const [stamp, iso] of cases)
        expect(openEnvelope(envelopeXml({ time: stamp }), STANZA).time?.toISOString(), stamp).toBe(iso)
    })

    it('SCE-1: rejects stamps that are not XEP-0082 DateTimes', () => {
      const bad = [
        '',
        'yesterday',
        '2024-05-01',
        '2024-05-01 12:00:00Z',
        '2024-05-01t12:00:00Z',
        '2024-05-01T12:00:00z',
        '2024-05-01T12:00Z',
        '24-05-01T12:00:00Z',
        '+2024-05-01T12:00:00Z',
        '2024-5-01T12:00:00Z',
        '2024-13-01T12:00:00Z',
        '2024-00-01T12:00:00Z',
        '2023-02-29T12:00:00Z',
        '2024-04-31T12:00:00Z',
        '2024-05-01T24:00:00Z',
        '2024-05-01T12:60:00Z',
        '2024-05-01T12:00:60Z',
        '2024-05-01T12:00:00.Z',
        '2024-05-01T12:00:00+020',
        '2024-05-01T12:00:00+02',
        '2024-05-01T12:00:00+15:00',
        '2024-05-01T12:00:00+14:01',
        '2024-05-01T12:00:00+02:60',
        ' 2024-05-01T12:00:00Z',
        '2024-05-01T12:00:00Z ',
        '0000-01-01T00:00:00Z',
        '1714564800',
      ]
      for (const stamp of bad)
        expectRejected(
          () => openEnvelope(envelopeXml({ time: stamp }), STANZA),
          'InvalidEnvelopeError',
          'SCE-1',
          stamp,
        )
    })

    it('SCE-1: rejects a <time/> without a stamp', () => {
      const xml = envelopeXml({ time: null, extra: '<time/>' })
      expectRejected(() => openEnvelope(xml, STANZA), 'InvalidEnvelopeError', 'SCE-1')
    })
  })

  describe('D-2: a stamp without a zone is read as UTC', () => {
    it('D-2: 2024-05-01T12:00:00 equals 2024-05-01T12:00:00Z', () => {
      expect(openEnvelope(envelopeXml({ time: '2024-05-01T12:00:00' }), STANZA).time).toEqual(T0)
      expect(openEnvelope(envelopeXml({ time: '2024-05-01T12:00:00.75' }), STANZA).time).toEqual(
        plus(T0, 750),
      )
    })

    it('D-2: a zone-less stamp 301 s off is stale, as it would be with Z', () => {
      expectRejected(
        () => openEnvelope(envelopeXml({ time: '2024-05-01T11:54:59' }), STANZA),
        'InvalidEnvelopeError',
        'SCE-1',
      )
    })

    it('D-2a: a ±hhmm offset (as Profanity writes it) is the same instant, under the same window', () => {
      expect(openEnvelope(envelopeXml({ time: '2024-05-01T14:00:00+0200' }), STANZA).time).toEqual(T0)
      expect(openEnvelope(envelopeXml({ time: '2024-05-01T12:00:00+0000' }), STANZA).time).toEqual(T0)
      expectRejected(
        () => openEnvelope(envelopeXml({ time: '2024-05-01T13:54:59+0200' }), STANZA),
        'InvalidEnvelopeError',
        'SCE-1',
        '301 s old',
      )
    })

    it('D-2: envelopeToJson prints the time in ISO 8601 with Z', () => {
      const json = envelopeToJson(openEnvelope(envelopeXml({ time: '2024-05-01T14:00:00+02:00' }), STANZA))
      expect(json.time).toBe('2024-05-01T12:00:00.000Z')
    })
  })

  describe('SCE-2: <to jid> matches the stanza to (bare parts, D-3)', () => {
    it('SCE-2: rejects an envelope whose <to/> differs from the stanza to', () => {
      expectRejected(
        () => openEnvelope(envelopeXml({ to: 'dave@example.com' }), STANZA),
        'InvalidEnvelopeError',
        'SCE-2',
      )
      expectRejected(
        () => openEnvelope(envelopeXml({ to: 'carol@example.net' }), STANZA),
        'InvalidEnvelopeError',
        'SCE-2',
        'same localpart, other domain',
      )
      expectRejected(
        () => openEnvelope(envelopeXml({ to: 'example.com' }), STANZA),
        'InvalidEnvelopeError',
        'SCE-2',
        'domain JID is not the account',
      )
    })

    it('SCE-2: accepts a full JID on either side and case differences', () => {
      for (const [to, stanzaTo] of [
        ['carol@example.com/tablet', 'carol@example.com'],
        ['carol@example.com', 'carol@example.com/tablet'],
        ['Carol@Example.COM', 'carol@example.com/x'],
        ['carol@example.com.', 'CAROL@EXAMPLE.COM'],
      ] as const)
        expect(openEnvelope(envelopeXml({ to }), { ...STANZA, stanzaTo }).to, `${to} vs ${stanzaTo}`).toBe(
          CAROL,
        )
    })

    it('SCE-2: a malformed JID in <to/> or in the stanza to is an SCE-2 error with the JID error as cause', () => {
      const e = expectRejected(
        () => openEnvelope(envelopeXml({ to: 'carol@@example.com' }), STANZA),
        'InvalidEnvelopeError',
        'SCE-2',
      )
      expect((e.cause as Error).name).toBe('InvalidJidError')
      expectRejected(
        () => openEnvelope(envelopeXml(), { ...STANZA, stanzaTo: '' }),
        'InvalidEnvelopeError',
        'SCE-2',
      )
      expectRejected(
        () => openEnvelope(envelopeXml({ to: null, extra: '<to/>' }), STANZA),
        'InvalidEnvelopeError',
        'SCE-2',
        '<to/> without jid',
      )
    })
  })

  describe('SCE-3: <from jid> matches the stanza from (bare parts, D-3)', () => {
    it('SCE-3: rejects an envelope whose <from/> differs from the stanza from', () => {
      expectRejected(
        () => openEnvelope(envelopeXml({ from: 'mallory@example.org' }), STANZA),
        'InvalidEnvelopeError',
        'SCE-3',
      )
      expectRejected(
        () => openEnvelope(envelopeXml(), { ...STANZA, stanzaFrom: 'mallory@example.org/notebook' }),
        'InvalidEnvelopeError',
        'SCE-3',
        'same resource, other account',
      )
    })

    it('SCE-3: accepts a full JID in <from/> as in XEP-0434 Listing 2, from any resource of the sender', () => {
      for (const [from, stanzaFrom] of [
        ['alice@example.org/notebook', 'alice@example.org/notebook'],
        ['alice@example.org/notebook', 'alice@example.org/phone'],
        ['alice@example.org', 'alice@example.org/phone'],
        ['ALICE@example.org', 'alice@EXAMPLE.org/notebook'],
      ] as const)
        expect(
          openEnvelope(envelopeXml({ from }), { ...STANZA, stanzaFrom }).from,
          `${from} vs ${stanzaFrom}`,
        ).toBe(ALICE)
    })

    it('SCE-3: a malformed JID in <from/> or in the stanza from is an SCE-3 error', () => {
      for (const from of [
        '@example.org',
        'alice@',
        'alice@example.org/',
        'al ice@example.org',
        'alice@exa..mple.org',
      ])
        expectRejected(
          () => openEnvelope(envelopeXml({ from }), STANZA),
          'InvalidEnvelopeError',
          'SCE-3',
          from,
        )
      expectRejected(
        () => openEnvelope(envelopeXml(), { ...STANZA, stanzaFrom: 'alice@' }),
        'InvalidEnvelopeError',
        'SCE-3',
      )
    })
  })

  describe('SCE-4: a longer-than-expected rpad is not rejected', () => {
    it('SCE-4: accepts rpads of 0, 200, 201 and 100 000 characters, and any text', () => {
      for (const n of [0, 200, 201, 100_000])
        expect(openEnvelope(envelopeXml({ rpad: 'x'.repeat(n) }), STANZA).rpadLength).toBe(n)
      const odd = 'C1DHN9HK-9A25tSmwK4hU!Jji9%GKYK^syIlHJT9TnI4 &amp; &lt;é'
      expect(openEnvelope(envelopeXml({ rpad: odd }), STANZA).rpadLength).toBe(49)
    })

    it('SCE-4: only the XML size cap (or an explicit maxRpadChars) limits it', () => {
      const xml = envelopeXml({ rpad: 'x'.repeat(5000) })
      expectRejected(
        () => openEnvelope(xml, { ...STANZA, xmlLimits: { maxChars: 4096 } }),
        'LimitExceededError',
        'LIMIT',
      )
      expectRejected(
        () => openEnvelope(xml, { ...STANZA, maxRpadChars: 4999 }),
        'LimitExceededError',
        'LIMIT',
      )
      expect(openEnvelope(xml, { ...STANZA, maxRpadChars: 5000 }).rpadLength).toBe(5000)
    })
  })

  describe('TM-17 … TM-20: the trust-message profile requires all four affixes', () => {
    const cases = [
      ['TM-17', 'rpad'],
      ['TM-18', 'time'],
      ['TM-19', 'from'],
      ['TM-20', 'to'],
    ] as const
    for (const [rule, affix] of cases) {
      it(`${rule}: rejects an envelope without <${affix}/>, unless the caller relaxes it`, () => {
        const xml = envelopeXml({ [affix]: null })
        expectRejected(() => openEnvelope(xml, STANZA), 'InvalidEnvelopeError', rule)
        const opened = openEnvelope(xml, { ...STANZA, require: { [affix]: false } })
        expect(affix === 'rpad' ? opened.rpadLength : opened[affix]).toBe(affix === 'rpad' ? 0 : undefined)
      })
    }

    it('TM-17: an empty <rpad/> is present (length 0) and satisfies the rule', () => {
      expect(openEnvelope(envelopeXml({ rpad: '' }), STANZA).rpadLength).toBe(0)
    })

    it('TM-18: relaxing the other affixes does not relax the time requirement', () => {
      const xml = envelopeXml({ time: null, rpad: null, from: null, to: null })
      expectRejected(
        () => openEnvelope(xml, { ...STANZA, require: { rpad: false, from: false, to: false } }),
        'InvalidEnvelopeError',
        'TM-18',
      )
    })

    it('TM-19/TM-20: a present affix is still checked when not required', () => {
      const lax = { ...STANZA, require: { rpad: false, time: false, from: false, to: false } }
      expectRejected(
        () => openEnvelope(envelopeXml({ from: 'eve@example.org' }), lax),
        'InvalidEnvelopeError',
        'SCE-3',
      )
      expectRejected(
        () => openEnvelope(envelopeXml({ to: 'eve@example.org' }), lax),
        'InvalidEnvelopeError',
        'SCE-2',
      )
      expectRejected(
        () => openEnvelope(envelopeXml({ time: '2000-01-01T00:00:00Z' }), lax),
        'InvalidEnvelopeError',
        'SCE-1',
      )
    })
  })

  describe('structure', () => {
    it('SCE: ignores profile-defined affixes in other namespaces, reads children in any order', () => {
      const xml =
        "<envelope xmlns='urn:xmpp:sce:1'>\n  <content><body xmlns='jabber:client'>hi</body></content>" +
        "<x xmlns='urn:example:affix'/><to jid='carol@example.com'/><from jid='alice@example.org'/>" +
        "<time stamp='2024-05-01T12:00:00Z'/><rpad>abc</rpad>\n</envelope>"
      const opened = openEnvelope(xml, STANZA)
      expect(opened.rpadLength).toBe(3)
      expect(opened.content.getChildText('body', 'jabber:client')).toBe('hi')
    })

    it('SCE: rejects invalid options as OPTIONS errors', () => {
      expectRejected(
        () => openEnvelope(envelopeXml(), { ...STANZA, marginSeconds: -1 }),
        'InvalidEnvelopeError',
        'OPTIONS',
      )
      expectRejected(
        () => openEnvelope(envelopeXml(), { ...STANZA, marginSeconds: Number.NaN }),
        'InvalidEnvelopeError',
        'OPTIONS',
      )
      for (const window of [
        { maxAgeSeconds: -1, futureSkewSeconds: 0 },
        { maxAgeSeconds: 0, futureSkewSeconds: Number.NaN },
        { maxAgeSeconds: Number.POSITIVE_INFINITY, futureSkewSeconds: 0 },
      ])
        expectRejected(
          () => openEnvelope(envelopeXml(), { ...STANZA, window }),
          'InvalidEnvelopeError',
          'OPTIONS',
          JSON.stringify(window),
        )
      expectRejected(
        () =>
          openEnvelope(envelopeXml(), {
            ...STANZA,
            marginSeconds: 60,
            window: { maxAgeSeconds: 60, futureSkewSeconds: 60 },
          }),
        'InvalidEnvelopeError',
        'OPTIONS',
        'window and marginSeconds both',
      )
      expectRejected(
        () => openEnvelope(envelopeXml(), { ...STANZA, now: new Date('x') }),
        'InvalidEnvelopeError',
        'OPTIONS',
      )
    })
  })
})
