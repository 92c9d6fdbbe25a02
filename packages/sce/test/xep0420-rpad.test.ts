/**
 * `<rpad/>` sizing, D-7 on top of XEP-0420 v0.5.0 §4 "Affix Elements".
 *
 * The XEP's `<rpad/>` row asks for "a randomly generated sequence of random length between 0 and
 * 200 characters" (and ends "TODO: sane boundaries?"): that is the random part. D-7 adds a first
 * step, a fill up to a fixed minimum size of the serialized envelope, so that short trust messages
 * and short chats have the same length. Receivers accept the longer rpad: "longer paddings than
 * expected MUST not be rejected" (§4, SCE-4).
 */
import { parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  buildEnvelope,
  DEFAULT_RPAD,
  MAX_RPAD_LENGTH,
  openEnvelope,
  serializeEnvelope,
} from '../src/index.ts'
import { ALICE, CAROL, chatBody, STANZA, T0, TRUST_MESSAGE, trustMessageWithKeys } from './fixtures.ts'
import { expectRejected } from './helpers.ts'

type Rpad = NonNullable<Parameters<typeof buildEnvelope>[0]['rpad']>

const build = (content: string, rpad?: Rpad) =>
  buildEnvelope({
    content: parseXml(content),
    from: `${ALICE}/notebook`,
    to: CAROL,
    time: T0,
    ...(rpad === undefined ? {} : { rpad }),
  })
const bytes = (s: string) => new TextEncoder().encode(s).length
/** Bytes of the serialized envelope with an empty rpad (no fill, no random part). */
const unpadded = (content: string) =>
  bytes(serializeEnvelope(build(content, { minLength: 0, maxLength: 0, minEnvelopeBytes: 0 })))
/** A chat whose unpadded envelope is exactly `size` bytes (from a 1-character body: an empty one is written `<body/>`). */
const chatOfSize = (size: number) => chatBody('x'.repeat(size - unpadded(chatBody('x')) + 1))

const MIN = DEFAULT_RPAD.minEnvelopeBytes
const SHORT_CHAT = chatBody('ok')

describe('D-7, XEP-0420 v0.5.0 §4 <rpad/>: fill to a minimum size, then 0–200 random characters', () => {
  it('D-7: the default minimum is 1024 bytes and the random part 0–200 characters', () => {
    expect(DEFAULT_RPAD).toEqual({ minLength: 0, maxLength: 200, minEnvelopeBytes: 1024 })
  })

  it('D-7: a short trust message and a short chat both serialize to 1024–1224 bytes, and open (SCE-4)', () => {
    for (const content of [TRUST_MESSAGE, SHORT_CHAT]) {
      expect(unpadded(content), 'the fixture must be under the minimum').toBeLessThan(MIN)
      for (let i = 0; i < 300; i++) {
        const wire = serializeEnvelope(build(content))
        const n = bytes(wire)
        expect(n).toBeGreaterThanOrEqual(MIN)
        expect(n).toBeLessThanOrEqual(MIN + 200)
        // the rpad is what was added: every byte over the unpadded size is an rpad character
        expect(openEnvelope(wire, STANZA).rpadLength).toBe(n - unpadded(content))
      }
    }
  })

  it('D-7, XEP-0420 §4: over many builds the random part is uniform over 0–200', () => {
    const extra = Array.from({ length: 4000 }, () => bytes(serializeEnvelope(build(SHORT_CHAT))) - MIN)
    // 4000 draws of 201 values: missing an end has probability (200/201)^4000 ≈ 2·10⁻⁹
    expect(Math.min(...extra)).toBe(0)
    expect(Math.max(...extra)).toBe(200)
    expect(new Set(extra).size).toBeGreaterThan(190)
    const quarters = [0, 0, 0, 0]
    for (const n of extra) quarters[Math.min(3, Math.floor(n / 50.25))]! += 1
    for (const q of quarters) expect(q / extra.length).toBeGreaterThan(0.2)
    const mean = extra.reduce((a, b) => a + b, 0) / extra.length
    expect(mean).toBeGreaterThan(94)
    expect(mean).toBeLessThan(106)
  })

  it('D-7: the fill stops at the minimum; an envelope already at or over it gets only 0–200 characters', () => {
    // exact at the edge, with the random part fixed at 0
    const fixed = { minLength: 0, maxLength: 0 }
    for (const size of [MIN - 1, MIN, MIN + 1]) expect(unpadded(chatOfSize(size))).toBe(size)
    expect(bytes(serializeEnvelope(build(chatOfSize(MIN - 1), fixed)))).toBe(MIN)
    expect(bytes(serializeEnvelope(build(chatOfSize(MIN), fixed)))).toBe(MIN)
    expect(bytes(serializeEnvelope(build(chatOfSize(MIN + 1), fixed)))).toBe(MIN + 1)
    // a 16-key trust message and a long chat are over the minimum: the random part only
    for (const content of [trustMessageWithKeys(4, 4), chatOfSize(MIN + 1), chatBody('y'.repeat(3000))]) {
      const base = unpadded(content)
      expect(base).toBeGreaterThan(MIN)
      const pads = Array.from({ length: 1000 }, () => build(content).getChildText('rpad') ?? '')
      for (const p of pads) expect(p.length).toBeLessThanOrEqual(200)
      expect(Math.min(...pads.map((p) => p.length))).toBeLessThan(20)
      expect(Math.max(...pads.map((p) => p.length))).toBeGreaterThan(180)
    }
  })

  it('D-7: the minimum is configurable; minEnvelopeBytes 0 gives the plain XEP-0420 0–200 rpad', () => {
    for (let i = 0; i < 200; i++) {
      const n = bytes(serializeEnvelope(build(TRUST_MESSAGE, { minEnvelopeBytes: 2048 })))
      expect(n).toBeGreaterThanOrEqual(2048)
      expect(n).toBeLessThanOrEqual(2248)
      const plain = build(TRUST_MESSAGE, { minEnvelopeBytes: 0 }).getChildText('rpad') ?? ''
      expect(plain.length).toBeLessThanOrEqual(200)
    }
    // the random-part bounds still apply on top of the fill
    expect(
      bytes(serializeEnvelope(build(SHORT_CHAT, { minLength: 10, maxLength: 10, minEnvelopeBytes: 1500 }))),
    ).toBe(1510)
    expect(
      bytes(
        serializeEnvelope(
          build(SHORT_CHAT, { minLength: 0, maxLength: 0, minEnvelopeBytes: MAX_RPAD_LENGTH }),
        ),
      ),
    ).toBe(MAX_RPAD_LENGTH)
  })

  it('D-7: the size is measured in UTF-8 bytes of serializeEnvelope, after XML escaping', () => {
    const fixed = { minLength: 0, maxLength: 0 }
    // 2-byte, 4-byte (a surrogate pair: 2 UTF-16 units) and escaped characters (& → &amp;)
    for (const text of [
      'é'.repeat(150),
      '🔑'.repeat(60),
      '&amp;&lt;&gt;'.repeat(40),
      `${'ü'.repeat(300)}&amp;`,
    ]) {
      const wire = serializeEnvelope(build(chatBody(text), fixed))
      expect(bytes(wire), text.slice(0, 12)).toBe(MIN)
      expect(wire.length).toBeLessThanOrEqual(MIN)
    }
  })

  it('D-7, XEP-0420 §4: the whole rpad, fill included, is fresh CSPRNG Base64 that needs no escaping', () => {
    const pads = Array.from({ length: 20 }, () => build(SHORT_CHAT).getChildText('rpad') ?? '')
    expect(new Set(pads).size).toBe(20)
    for (const p of pads) {
      expect(p.length).toBeGreaterThanOrEqual(MIN - unpadded(SHORT_CHAT))
      expect(p).toMatch(/^[A-Za-z0-9+/]+$/)
      // the fill is random too, not a run of one character
      expect(new Set(p.slice(0, 600)).size).toBeGreaterThan(50)
    }
  })

  it('TM-17: rejects a minEnvelopeBytes that is not an integer in 0…65536', () => {
    for (const minEnvelopeBytes of [-1, 1.5, MAX_RPAD_LENGTH + 1, Number.NaN, Number.POSITIVE_INFINITY])
      expectRejected(
        () => build(SHORT_CHAT, { minEnvelopeBytes }),
        'InvalidEnvelopeError',
        'TM-17',
        String(minEnvelopeBytes),
      )
  })
})
