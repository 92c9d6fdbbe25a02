import { parseXml } from '@vouch/tm-core'
import xml from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { buildEnvelope, DEFAULT_RPAD, NS_SCE, openEnvelope, serializeEnvelope } from '../src/index.ts'
import { ALICE, CAROL, STANZA, T0, TRUST_MESSAGE } from './fixtures.ts'
import { expectRejected, seededRandom } from './helpers.ts'

const trustMessage = () => parseXml(TRUST_MESSAGE)
const base = () => ({ content: trustMessage(), from: `${ALICE}/notebook`, to: CAROL, time: T0 })

describe('XEP-0420 buildEnvelope', () => {
  it('emits urn:xmpp:sce:1 with rpad, time, from, to and the content, in that order', () => {
    const env = buildEnvelope(base())
    expect(env.name).toBe('envelope')
    expect(env.attrs.xmlns).toBe(NS_SCE)
    expect(env.getChildElements().map((c) => c.name)).toEqual(['rpad', 'time', 'from', 'to', 'content'])
    expect(env.getChild('content')?.getChildElements().map(String)).toEqual([
      TRUST_MESSAGE.replace(/'/g, '"'),
    ])
  })

  it('copies the content: the caller keeps its element, and its parent is untouched', () => {
    const parent = xml('message', {}, xml('trust-message', { xmlns: 'urn:xmpp:tm:1' }))
    const tm = parent.getChild('trust-message')!
    const env = buildEnvelope({ ...base(), content: [tm, xml('body', { xmlns: 'jabber:client' }, 'x')] })
    expect(tm.parent).toBe(parent)
    expect(
      env
        .getChild('content')
        ?.getChildElements()
        .map((c) => c.name),
    ).toEqual(['trust-message', 'body'])
    env.getChild('content')?.getChild('trust-message')?.attr('usage', 'changed')
    expect(tm.attrs.usage).toBeUndefined()
  })

  describe('D-2: stamps are XEP-0082 with Z', () => {
    it('D-2: whole seconds without fraction, milliseconds when present, always Z', () => {
      const stamp = (time: Date) => buildEnvelope({ ...base(), time }).getChild('time')?.attrs.stamp
      expect(stamp(new Date('2024-05-01T12:00:00Z'))).toBe('2024-05-01T12:00:00Z')
      expect(stamp(new Date('2024-05-01T14:00:00.042+02:00'))).toBe('2024-05-01T12:00:00.042Z')
      expect(stamp(new Date('0001-01-01T00:00:00Z'))).toBe('0001-01-01T00:00:00Z')
      expect(stamp(new Date('9999-12-31T23:59:59.999Z'))).toBe('9999-12-31T23:59:59.999Z')
    })

    it('D-2: rejects an invalid Date or a year XEP-0082 cannot write', () => {
      for (const time of [
        new Date(Number.NaN),
        new Date('+010000-01-01T00:00:00Z'),
        new Date('-000001-01-01T00:00:00Z'),
      ])
        expectRejected(() => buildEnvelope({ ...base(), time }), 'InvalidEnvelopeError', 'D-2', String(time))
    })
  })

  describe('D-3: <from/> and <to/> are bare JIDs', () => {
    it('D-3: strips resources and normalises case', () => {
      const env = buildEnvelope({
        ...base(),
        from: 'Alice@Example.ORG/Notebook',
        to: 'carol@example.com/tablet',
      })
      expect(env.getChild('from')?.attrs.jid).toBe('alice@example.org')
      expect(env.getChild('to')?.attrs.jid).toBe('carol@example.com')
    })

    it('D-3: rejects malformed JIDs with InvalidJidError', () => {
      for (const [from, to] of [
        ['', CAROL],
        [ALICE, 'carol@'],
        ['a b@example.org', CAROL],
        [ALICE, 'carol@example.com/'],
      ] as const)
        expectRejected(
          () => buildEnvelope({ ...base(), from, to }),
          'InvalidJidError',
          'D-3',
          `${from} → ${to}`,
        )
    })
  })

  // The random part of the rpad alone (XEP-0420 v0.5.0 §4): the D-7 fill is turned off here with
  // minEnvelopeBytes 0 and tested in xep0420-rpad.test.ts.
  describe('TM-17: random-length, random-content rpad', () => {
    const rpadOf = (init: Parameters<typeof buildEnvelope>[0]) =>
      buildEnvelope(init).getChildText('rpad') ?? ''
    const plain = { minEnvelopeBytes: 0 }

    it('TM-17: lengths vary, stay within 0–200 by default, and cover the range', () => {
      const lengths = Array.from({ length: 2000 }, () => rpadOf({ ...base(), rpad: plain }).length)
      expect(Math.min(...lengths)).toBeGreaterThanOrEqual(DEFAULT_RPAD.minLength)
      expect(Math.max(...lengths)).toBeLessThanOrEqual(DEFAULT_RPAD.maxLength)
      expect(new Set(lengths).size).toBeGreaterThan(150)
      // uniform over 201 values: each quarter of the range gets about 25 % (σ ≈ 1 %)
      const quarters = [0, 0, 0, 0]
      for (const n of lengths) quarters[Math.min(3, Math.floor(n / 50.25))]! += 1
      for (const q of quarters) expect(q / lengths.length).toBeGreaterThan(0.2)
      const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length
      expect(mean).toBeGreaterThan(90)
      expect(mean).toBeLessThan(110)
    })

    it('TM-17: content differs between builds and is printable Base64 text', () => {
      const pads = Array.from({ length: 50 }, () =>
        rpadOf({ ...base(), rpad: { ...plain, minLength: 64, maxLength: 64 } }),
      )
      expect(new Set(pads).size).toBe(50)
      for (const p of pads) expect(p).toMatch(/^[A-Za-z0-9+/]{64}$/)
    })

    it('TM-17: honours custom bounds, including a fixed length and 0', () => {
      for (let i = 0; i < 200; i++) {
        const n = rpadOf({ ...base(), rpad: { ...plain, minLength: 10, maxLength: 13 } }).length
        expect(n).toBeGreaterThanOrEqual(10)
        expect(n).toBeLessThanOrEqual(13)
      }
      expect(rpadOf({ ...base(), rpad: { ...plain, minLength: 0, maxLength: 0 } })).toBe('')
      expect(rpadOf({ ...base(), rpad: { ...plain, minLength: 1000, maxLength: 1000 } })).toHaveLength(1000)
      expect(rpadOf({ ...base(), rpad: { ...plain, minLength: 300 } }).length).toBe(300)
    })

    it('TM-17: an injected random source makes the rpad deterministic', () => {
      const a = serializeEnvelope(buildEnvelope({ ...base(), random: seededRandom(42) }))
      const b = serializeEnvelope(buildEnvelope({ ...base(), random: seededRandom(42) }))
      const c = serializeEnvelope(buildEnvelope({ ...base(), random: seededRandom(43) }))
      expect(a).toBe(b)
      expect(a).not.toBe(c)
      const zeros = buildEnvelope({ ...base(), rpad: plain, random: (n) => new Uint8Array(n) })
      expect(zeros.getChildText('rpad')).toBe('')
      const ones = buildEnvelope({
        ...base(),
        rpad: { ...plain, minLength: 8, maxLength: 8 },
        random: (n) => new Uint8Array(n).fill(255),
      })
      expect(ones.getChildText('rpad')).toBe('////////')
    })

    it('TM-17: rejects bad bounds and a random source that returns too few bytes', () => {
      for (const rpad of [
        { minLength: -1 },
        { minLength: 5, maxLength: 4 },
        { maxLength: 1.5 },
        { maxLength: 70_000 },
      ])
        expectRejected(
          () => buildEnvelope({ ...base(), rpad }),
          'InvalidEnvelopeError',
          'TM-17',
          JSON.stringify(rpad),
        )
      expectRejected(
        () => buildEnvelope({ ...base(), random: () => new Uint8Array(2) }),
        'InvalidEnvelopeError',
        'TM-17',
      )
    })
  })

  it('builds what openEnvelope accepts, for every affix rule at once', () => {
    const opened = openEnvelope(serializeEnvelope(buildEnvelope(base())), STANZA)
    expect([opened.from, opened.to, opened.time]).toEqual([ALICE, CAROL, T0])
  })
})
