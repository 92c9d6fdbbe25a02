import { describe, expect, it } from 'vitest'
import { parseAuthenticated } from '../src/ratchet.ts'
import {
  acceptKeyExchange,
  createActiveSession,
  parseKeyExchange,
  sessionDecrypt,
  sessionEncrypt,
} from '../src/session.ts'
import { makeDevice, provider as p } from './helpers.ts'

async function pair() {
  const alice = await makeDevice()
  const bob = await makeDevice()
  const a = await createActiveSession(p, alice.identity, bob.bundle)
  const first = sessionEncrypt(p, a, new Uint8Array(48).fill(1))
  expect(first.kex).toBe(true)
  const kex = parseKeyExchange(first.bytes)
  const { session: b, plaintext } = await acceptKeyExchange(p, bob.identity, kex, {
    spk: bob.spk,
    pkPriv: bob.pks.get(kex.pkId)?.priv as Uint8Array,
  })
  expect(plaintext).toEqual(new Uint8Array(48).fill(1))
  return { a, b }
}

describe('Double Ratchet (OMEMO 2 KDF labels)', () => {
  it('keeps the key exchange on every message until the peer answers', async () => {
    const { a, b } = await pair()
    const m2 = sessionEncrypt(p, a, new Uint8Array(48).fill(2))
    expect(m2.kex).toBe(true)
    expect(await sessionDecrypt(p, b, parseKeyExchange(m2.bytes).message)).toEqual(new Uint8Array(48).fill(2))
    const reply = sessionEncrypt(p, b, new Uint8Array(32))
    expect(reply.kex).toBe(false)
    expect(await sessionDecrypt(p, a, reply.bytes)).toEqual(new Uint8Array(32))
    expect(sessionEncrypt(p, a, new Uint8Array(48)).kex).toBe(false)
  })

  it('ping-pong: a new ratchet key per turn, pn carries the previous chain length', async () => {
    const { a, b } = await pair()
    const r = sessionEncrypt(p, b, new Uint8Array(32))
    await sessionDecrypt(p, a, r.bytes)
    for (let i = 0; i < 20; i++) {
      const [s, d] = i % 2 === 0 ? [a, b] : [b, a]
      const m = sessionEncrypt(p, s, new Uint8Array(48).fill(i))
      expect(await sessionDecrypt(p, d, m.bytes)).toEqual(new Uint8Array(48).fill(i))
    }
  })

  it('decrypts out of order and skipped messages across ratchet steps', async () => {
    const { a, b } = await pair()
    await sessionDecrypt(p, a, sessionEncrypt(p, b, new Uint8Array(32)).bytes)
    const msgs = Array.from({ length: 5 }, (_, i) => sessionEncrypt(p, a, new Uint8Array(48).fill(i)).bytes)
    expect(await sessionDecrypt(p, b, msgs[4] as Uint8Array)).toEqual(new Uint8Array(48).fill(4))
    expect(await sessionDecrypt(p, b, msgs[1] as Uint8Array)).toEqual(new Uint8Array(48).fill(1))
    // bob replies (new ratchet), alice sends more on her next chain; the old ones still decrypt
    await sessionDecrypt(p, a, sessionEncrypt(p, b, new Uint8Array(32)).bytes)
    const next = sessionEncrypt(p, a, new Uint8Array(48).fill(9)).bytes
    expect(parseAuthenticated(next).header.pn).toBe(5)
    expect(await sessionDecrypt(p, b, next)).toEqual(new Uint8Array(48).fill(9))
    for (const i of [0, 2, 3])
      expect(await sessionDecrypt(p, b, msgs[i] as Uint8Array)).toEqual(new Uint8Array(48).fill(i))
    expect(b.ratchet.skipped).toEqual([])
  })
})
