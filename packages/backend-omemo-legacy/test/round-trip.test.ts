/**
 * OMEMO 0.3 message flow between two of our backends: key exchange, its answer, ratchet steps
 * in both directions, out-of-order delivery, empty messages (XEP-0384 v0.3 §4.5–4.6).
 */
import type { EncryptResult } from '@vouch/tm-core'
import { describe, expect, it, vi } from 'vitest'
import { addressing, body, bodyText, flushEmpty, pair } from './helpers.ts'

// hundreds of ratchet steps: seconds on a loaded 2-core machine
vi.setConfig({ testTimeout: 60_000 })

describe('OMEMO 0.3 round trip', () => {
  it('a first message is a key exchange (prekey=true), answered by an empty message, then plain messages', async () => {
    const [alice, bob] = await pair()
    const first = await alice.backend.encrypt(body('hello'), [bob.jid])
    const key = first.element.getChild('header')?.getChildren('key') ?? []
    expect(key.map((k) => k.attrs.prekey)).toEqual(['true'])
    const r = await bob.backend.decryptMessage(first.element, addressing(alice, bob))
    expect(r.kind).toBe('content')
    if (r.kind !== 'content') return
    expect(bodyText(r.content.payload)).toBe('hello')
    expect(r.keyExchange).toBe(true)
    expect(r.bundleChanged).toBe(true)
    expect(r.content.learnedKeys).toEqual(await alice.backend.ownKeys())
    // until alice hears back, she repeats the key exchange
    const second = await alice.backend.encrypt(body('again'), [bob.jid])
    expect(second.element.getChild('header')?.getChild('key')?.attrs.prekey).toBe('true')
    expect(bodyText((await bob.backend.decrypt(second.element, addressing(alice, bob))).payload)).toBe(
      'again',
    )
    expect(await flushEmpty(bob, alice)).toBe(1)
    const third = await alice.backend.encrypt(body('established'), [bob.jid])
    expect(third.element.getChild('header')?.getChild('key')?.attrs.prekey).toBeUndefined()
    expect(bodyText((await bob.backend.decrypt(third.element, addressing(alice, bob))).payload)).toBe(
      'established',
    )
  })

  it('ping-pong and out-of-order delivery', async () => {
    const [alice, bob] = await pair()
    const m0 = await alice.backend.encrypt(body('0'), [bob.jid])
    await bob.backend.decrypt(m0.element, addressing(alice, bob))
    for (let i = 1; i < 20; i++) {
      const [s, r] = i % 2 === 0 ? [alice, bob] : [bob, alice]
      const m = await s.backend.encrypt(body(String(i)), [r.jid])
      expect(bodyText((await r.backend.decrypt(m.element, addressing(s, r))).payload)).toBe(String(i))
    }
    const batch = []
    for (let i = 0; i < 5; i++) batch.push(await alice.backend.encrypt(body(`b${i}`), [bob.jid]))
    for (const i of [3, 0, 4, 2, 1])
      expect(
        bodyText(
          (await bob.backend.decrypt((batch[i] as EncryptResult).element, addressing(alice, bob))).payload,
        ),
      ).toBe(`b${i}`)
  })

  it('the session record stays bounded over a long ping-pong', async () => {
    const [alice, bob] = await pair()
    let size = 0
    for (let i = 0; i < 200; i++) {
      const [s, r] = i % 2 === 0 ? [alice, bob] : [bob, alice]
      const m = await s.backend.encrypt(body(String(i)), [r.jid])
      await r.backend.decrypt(m.element, addressing(s, r))
      if (i === 49) size = (await alice.backend.sessionRecord(bob.jid, bob.deviceId))?.length ?? 0
    }
    const after = (await alice.backend.sessionRecord(bob.jid, bob.deviceId))?.length ?? 0
    expect(after).toBeLessThan(size * 1.1)
  })
})
