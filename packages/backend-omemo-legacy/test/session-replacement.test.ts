/**
 * XEP-0384 (v0.3 and v0.9 §6): a user can replace a broken session by hand. Bob restores a backup
 * taken before his session with Alice existed, so Alice's messages no longer decrypt for him.
 * Alice replaces her session with his device (`replaceSessions`): libsignal builds a new session
 * on his bundle (archiving the old one), an empty key transport message carries the
 * PreKeyWhisperMessage, Bob answers, and messages go both ways again. Never done by itself.
 */
import type { Element } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { parseEncrypted } from '../src/wire.ts'
import { addressing, body, bodyText, expectError, flushEmpty, pair, type Party } from './helpers.ts'

type State = Map<string, Uint8Array>
async function backup(p: Party): Promise<State> {
  const out: State = new Map()
  for (const k of await p.store.listState('omemo03', ''))
    out.set(k, (await p.store.getState('omemo03', k)) as Uint8Array)
  return out
}
async function restore(p: Party, saved: State): Promise<void> {
  for (const k of await p.store.listState('omemo03', ''))
    if (!saved.has(k)) await p.store.deleteState('omemo03', k)
  for (const [k, v] of saved) await p.store.setState('omemo03', k, v)
}

describe('manual session replacement (XEP-0384 v0.3)', () => {
  it('XEP-0384 §6: a session broken by a restored backup is replaced on request; the PreKeyWhisperMessage travels in an empty message, Bob answers, both directions work again', async () => {
    const [alice, bob] = await pair()
    const saved = await backup(bob)
    const one = await alice.backend.encrypt(body('one'), [bob.jid])
    expect(bodyText((await bob.backend.decrypt(one.element, addressing(alice, bob))).payload)).toBe('one')
    expect(await flushEmpty(bob, alice)).toBe(1)
    await restore(bob, saved)
    const two = await alice.backend.encrypt(body('two'), [bob.jid])
    await expectError(bob.backend.decrypt(two.element, addressing(alice, bob)), 'DecryptionError')
    expect(await alice.backend.takeEmptyMessages()).toEqual([]) // nothing replaced it by itself
    expect(await alice.backend.replaceSessions(bob.jid)).toEqual([bob.deviceId])
    const empties = await alice.backend.takeEmptyMessages()
    expect(empties.map((e) => e.to)).toEqual([bob.jid])
    const empty = (empties[0] as { element: Element }).element
    const parsed = parseEncrypted(empty)
    expect(parsed.payload).toBeUndefined()
    expect(parsed.keys.map((k) => [k.rid, k.prekey])).toEqual([[bob.deviceId, true]])
    const got = await bob.backend.decryptMessage(empty, addressing(alice, bob))
    expect(got.kind).toBe('empty')
    expect(got.keyExchange).toBe(true)
    expect(await flushEmpty(bob, alice)).toBe(1)
    const three = await alice.backend.encrypt(body('three'), [bob.jid])
    expect(parseEncrypted(three.element).keys.map((k) => k.prekey)).toEqual([false])
    expect(bodyText((await bob.backend.decrypt(three.element, addressing(alice, bob))).payload)).toBe('three')
    const four = await bob.backend.encrypt(body('four'), [alice.jid])
    expect(bodyText((await alice.backend.decrypt(four.element, addressing(bob, alice))).payload)).toBe('four')
  })

  it('XEP-0384 §6: only devices with a bundle are replaced, never our own device', async () => {
    const [alice, bob] = await pair()
    expect(await alice.backend.replaceSessions(alice.jid)).toEqual([])
    expect(await alice.backend.replaceSessions(bob.jid, [bob.deviceId + 1])).toEqual([])
    expect(await alice.backend.replaceSessions(bob.jid, [bob.deviceId, bob.deviceId])).toEqual([bob.deviceId])
  })
})
