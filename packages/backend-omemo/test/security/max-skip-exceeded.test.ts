import { describe, expect, it } from 'vitest'
import { DEFAULT_RATCHET_LIMITS } from '../../src/ratchet.ts'
import { serializeSession, sessionDecrypt, sessionEncrypt } from '../../src/session.ts'
import { expectError, provider as p } from '../helpers.ts'
import { establishedPair } from './helpers.ts'

describe('MAX_SKIP exceeded (OMEMO-SKIP)', () => {
  it('a message more than MAX_SKIP (1000) ahead is rejected without computing keys; the state is untouched', async () => {
    expect(DEFAULT_RATCHET_LIMITS.maxSkip).toBe(1000)
    const { a, b } = await establishedPair()
    for (let i = 0; i < 1001; i++) sessionEncrypt(p, a, new Uint8Array(48))
    const far = sessionEncrypt(p, a, new Uint8Array(48)).bytes
    const before = serializeSession(b)
    await expectError(() => sessionDecrypt(p, b, far), 'DecryptionError', 'OMEMO-SKIP')
    expect(serializeSession(b)).toEqual(before)
  })

  it('exactly MAX_SKIP skipped keys are accepted and kept', async () => {
    const { a, b } = await establishedPair()
    const limits = { maxSkip: 10, maxSkippedKeys: 10 }
    for (let i = 0; i < 10; i++) sessionEncrypt(p, a, new Uint8Array(48))
    await sessionDecrypt(p, b, sessionEncrypt(p, a, new Uint8Array(48)).bytes, limits)
    expect(b.ratchet.skipped).toHaveLength(10)
  })

  it('the skipped keys kept per session are capped (oldest dropped)', async () => {
    const { a, b } = await establishedPair()
    const limits = { maxSkip: 8, maxSkippedKeys: 10 }
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 8; i++) sessionEncrypt(p, a, new Uint8Array(48))
      await sessionDecrypt(p, b, sessionEncrypt(p, a, new Uint8Array(48)).bytes, limits)
    }
    expect(b.ratchet.skipped).toHaveLength(10)
  })
})
