import { describe, expect, it } from 'vitest'
import { decodeOmemoAuthenticatedMessage, encodeOmemoAuthenticatedMessage } from '../../src/proto.ts'
import { serializeSession, sessionDecrypt, sessionEncrypt } from '../../src/session.ts'
import { expectError, provider as p } from '../helpers.ts'
import { establishedPair } from './helpers.ts'

describe('tampered MAC (OMEMO-MAC)', () => {
  it('a flipped bit in the MAC, the header or the ciphertext is rejected and leaves the session untouched', async () => {
    const { a, b } = await establishedPair()
    const bytes = sessionEncrypt(p, a, new Uint8Array(48).fill(7)).bytes
    const before = serializeSession(b)
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice()
      t[i] = (t[i] as number) ^ 0x01
      let e: Error & { rule?: string }
      try {
        await sessionDecrypt(p, b, t)
        throw new Error(`byte ${i} flipped was accepted`)
      } catch (x) {
        e = x as Error & { rule?: string }
      }
      expect(e.name, `byte ${i}`).toBe('DecryptionError')
      expect(['OMEMO-MAC', 'OMEMO-PROTO', 'OMEMO-SKIP', 'REPLAY'], `byte ${i}: ${e.message}`).toContain(
        e.rule,
      )
      expect(serializeSession(b), `byte ${i}`).toEqual(before)
    }
    expect(await sessionDecrypt(p, b, bytes)).toEqual(new Uint8Array(48).fill(7))
  })

  it('a MAC moved onto another message is rejected', async () => {
    const { a, b } = await establishedPair()
    const one = decodeOmemoAuthenticatedMessage(sessionEncrypt(p, a, new Uint8Array(48)).bytes)
    const two = decodeOmemoAuthenticatedMessage(sessionEncrypt(p, a, new Uint8Array(48)).bytes)
    await expectError(
      () => sessionDecrypt(p, b, encodeOmemoAuthenticatedMessage({ mac: one.mac, message: two.message })),
      'DecryptionError',
      'OMEMO-MAC',
    )
  })
})
