/**
 * REPLAY (capability `detectsReplay`): libsignal deletes each message key once used, so a second
 * delivery of a WhisperMessage or a PreKeyWhisperMessage is rejected with rule REPLAY, and the
 * rejection changes no state.
 */
import { describe, expect, it } from 'vitest'
import { addressing, body, bodyText, expectError, flushEmpty, pair, snapshot } from '../helpers.ts'

describe('REPLAY: a message delivered twice', () => {
  it('a replayed key exchange (PreKeyWhisperMessage) is rejected and changes nothing', async () => {
    const [alice, bob] = await pair()
    const kex = await alice.backend.encrypt(body('first'), [bob.jid])
    await bob.backend.decrypt(kex.element, addressing(alice, bob))
    const before = await snapshot(bob)
    await expectError(bob.backend.decrypt(kex.element, addressing(alice, bob)), 'DecryptionError', 'REPLAY')
    expect(await snapshot(bob)).toBe(before)
  })

  it('a replayed WhisperMessage is rejected and changes nothing; the next message still decrypts', async () => {
    const [alice, bob] = await pair()
    await bob.backend.decrypt(
      (await alice.backend.encrypt(body('kex'), [bob.jid])).element,
      addressing(alice, bob),
    )
    await flushEmpty(bob, alice)
    const m = await alice.backend.encrypt(body('once'), [bob.jid])
    expect(m.element.getChild('header')?.getChild('key')?.attrs.prekey).toBeUndefined()
    await bob.backend.decrypt(m.element, addressing(alice, bob))
    const before = await snapshot(bob)
    await expectError(bob.backend.decrypt(m.element, addressing(alice, bob)), 'DecryptionError', 'REPLAY')
    expect(await snapshot(bob)).toBe(before)
    const next = await alice.backend.encrypt(body('next'), [bob.jid])
    expect(bodyText((await bob.backend.decrypt(next.element, addressing(alice, bob))).payload)).toBe('next')
  })

  it('a replayed empty message (key transport) is rejected too', async () => {
    const [alice, bob] = await pair()
    await bob.backend.decrypt(
      (await alice.backend.encrypt(body('kex'), [bob.jid])).element,
      addressing(alice, bob),
    )
    const [empty] = await bob.backend.takeEmptyMessages()
    if (empty === undefined) throw new Error('no key exchange answer')
    expect((await alice.backend.decrypt(empty.element, addressing(bob, alice))).sessionOnly).toBe(true)
    await expectError(
      alice.backend.decrypt(empty.element, addressing(bob, alice)),
      'DecryptionError',
      'REPLAY',
    )
  })
})
