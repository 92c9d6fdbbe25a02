/**
 * Length leak: an observer of the ciphertext must not tell a trust message from a chat by its
 * length (XEP-0434 v0.6.0 §5.2.1: the rpad "prevents an attacker from finding out the trust
 * message's content by its length and distinguishing a trust message from another kind of SCE
 * message"; D-7: "<rpad/> first pads the envelope to a fixed minimum size, then adds 0–200 random
 * characters"). The ciphertext length is a function of the serialized envelope's byte length, which
 * is what these tests compare. Envelopes over the minimum are not hidden beyond ±200 (see README).
 */
import { parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { buildEnvelope, DEFAULT_RPAD, serializeEnvelope } from '../../src/index.ts'
import { ALICE, CAROL, chatBody, T0, TRUST_MESSAGE, trustMessageWithKeys } from '../fixtures.ts'
import { seededRandom } from '../helpers.ts'

const MIN = DEFAULT_RPAD.minEnvelopeBytes
const wireBytes = (content: string, random?: (n: number) => Uint8Array) =>
  new TextEncoder().encode(
    serializeEnvelope(
      buildEnvelope({
        content: parseXml(content),
        from: `${ALICE}/notebook`,
        to: CAROL,
        time: T0,
        ...(random === undefined ? {} : { random }),
      }),
    ),
  ).length

const TRUST_MESSAGES = {
  'one key (XEP-0434 Listing 2 shape)': TRUST_MESSAGE,
  'three keys, one owner': trustMessageWithKeys(1, 3),
  'six keys, two owners': trustMessageWithKeys(2, 3),
  'nine keys, three owners': trustMessageWithKeys(3, 3),
}
const CHATS = {
  'empty body': chatBody(''),
  ok: chatBody('ok'),
  'a sentence': chatBody('Hello, how are you? See you at 8.'),
  '500 characters': chatBody('lorem ipsum '.repeat(42).slice(0, 500)),
  'non-ASCII': chatBody('Grüße 🔑 ça va'),
}

describe('security: envelope length does not tell a trust message from a chat (D-7)', () => {
  it('D-7: with the same random bytes, every trust message and chat under the minimum has exactly the same length', () => {
    const contents = { ...TRUST_MESSAGES, ...CHATS }
    for (let seed = 1; seed <= 300; seed++) {
      const lengths = Object.entries(contents).map(
        ([name, c]) => [name, wireBytes(c, seededRandom(seed))] as const,
      )
      const first = lengths[0]![1]
      expect(first).toBeGreaterThanOrEqual(MIN)
      expect(first).toBeLessThanOrEqual(MIN + 200)
      for (const [name, n] of lengths) expect(n, `seed ${seed}: ${name}`).toBe(first)
    }
  })

  it('D-7: over CSPRNG builds, short trust messages and short chats share one distribution (KS distance < 0.1)', () => {
    const sample = (contents: readonly string[]) =>
      Array.from({ length: 2000 }, (_, i) => wireBytes(contents[i % contents.length]!))
    const tm = sample(Object.values(TRUST_MESSAGES))
    const chat = sample(Object.values(CHATS))
    for (const n of [...tm, ...chat]) {
      expect(n).toBeGreaterThanOrEqual(MIN)
      expect(n).toBeLessThanOrEqual(MIN + 200)
    }
    // the best length threshold an observer could pick: Kolmogorov–Smirnov distance of the two
    // samples (for equal distributions, P(D > 0.1) ≈ 2e^-20 with 2000 + 2000 samples)
    const cdf = (xs: readonly number[], t: number) => xs.filter((x) => x <= t).length / xs.length
    let d = 0
    for (let t = MIN; t <= MIN + 200; t++) d = Math.max(d, Math.abs(cdf(tm, t) - cdf(chat, t)))
    expect(d).toBeLessThan(0.1)
  })
})
