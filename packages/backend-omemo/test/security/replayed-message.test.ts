import { parseXml } from '@vouch/tm-core'
import { describe, it } from 'vitest'
import { sessionDecrypt, sessionEncrypt } from '../../src/session.ts'
import { expectError, provider as p } from '../helpers.ts'
import { backendPair, body, establishedPair, stanza } from './helpers.ts'

describe('replayed message (REPLAY)', () => {
  it('the same message twice, in the current chain', async () => {
    const { a, b } = await establishedPair()
    const m = sessionEncrypt(p, a, new Uint8Array(48)).bytes
    await sessionDecrypt(p, b, m)
    await expectError(() => sessionDecrypt(p, b, m), 'DecryptionError', 'REPLAY')
  })

  it('a skipped message key is used once only', async () => {
    const { a, b } = await establishedPair()
    const m1 = sessionEncrypt(p, a, new Uint8Array(48)).bytes
    const m2 = sessionEncrypt(p, a, new Uint8Array(48)).bytes
    await sessionDecrypt(p, b, m2)
    await sessionDecrypt(p, b, m1)
    await expectError(() => sessionDecrypt(p, b, m1), 'DecryptionError', 'REPLAY')
  })

  it('a message of an earlier receiving chain, after a ratchet step', async () => {
    const { a, b } = await establishedPair()
    const old = sessionEncrypt(p, a, new Uint8Array(48)).bytes
    await sessionDecrypt(p, b, old)
    await sessionDecrypt(p, a, sessionEncrypt(p, b, new Uint8Array(48)).bytes)
    await sessionDecrypt(p, b, sessionEncrypt(p, a, new Uint8Array(48)).bytes)
    await expectError(() => sessionDecrypt(p, b, old), 'DecryptionError', 'REPLAY')
  })

  it('the backend rejects a second delivery of a stanza, also of the key exchange message', async () => {
    const { alice, bob } = await backendPair()
    const first = await alice.backend.encrypt(body('first'), [bob.jid])
    const xml = first.element.toString()
    await bob.backend.decrypt(parseXml(xml), stanza(alice.jid, bob.jid))
    await expectError(
      () => bob.backend.decrypt(parseXml(xml), stanza(alice.jid, bob.jid)),
      'DecryptionError',
      'REPLAY',
    )
    const second = (await alice.backend.encrypt(body('second'), [bob.jid])).element.toString()
    await bob.backend.decrypt(parseXml(second), stanza(alice.jid, bob.jid))
    await expectError(
      () => bob.backend.decrypt(parseXml(second), stanza(alice.jid, bob.jid)),
      'DecryptionError',
      'REPLAY',
    )
  })
})
