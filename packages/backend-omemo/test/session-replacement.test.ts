/**
 * XEP-0384 v0.9 §6: "clients MUST offer a way to manually replace broken sessions". Bob restores
 * a backup taken before his session with Alice existed: Alice's messages no longer decrypt for
 * him (OMEMO-NO-SESSION). Alice replaces her session with Bob's device (`replaceSessions`): a new
 * session on his bundle, announced by an empty message that carries the key exchange; Bob accepts
 * it, answers, and messages go both ways again. The session is only replaced on request: the
 * backend never does it by itself (§8: not in reaction to a decryption error).
 */
import type { AccountTrustStore, Element } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { OMEMO_STATE_NAMESPACE } from '../src/state.ts'
import { parseEncrypted } from '../src/xep0384.ts'
import { expectError } from './helpers.ts'
import { backendPair, body, stanza } from './security/helpers.ts'

type State = Map<string, Uint8Array>
async function backup(store: AccountTrustStore): Promise<State> {
  const out: State = new Map()
  for (const k of await store.listState(OMEMO_STATE_NAMESPACE, ''))
    out.set(k, (await store.getState(OMEMO_STATE_NAMESPACE, k)) as Uint8Array)
  return out
}
async function restore(store: AccountTrustStore, saved: State): Promise<void> {
  for (const k of await store.listState(OMEMO_STATE_NAMESPACE, ''))
    if (!saved.has(k)) await store.deleteState(OMEMO_STATE_NAMESPACE, k)
  for (const [k, v] of saved) await store.setState(OMEMO_STATE_NAMESPACE, k, v)
}
const text = (payload: readonly { getText(): string }[]) => payload.map((e) => e.getText()).join('')

describe('manual session replacement (XEP-0384 v0.9 §6)', () => {
  it('XEP-0384 §6: a session broken by a restored backup is replaced on request; the key exchange travels in an empty message, Bob answers, both directions work again', async () => {
    const { alice, bob } = await backendPair()
    const bobId = (await bob.backend.ownDeviceId()) as number
    const saved = await backup(bob.store)
    // a working session
    const one = await alice.backend.encrypt(body('one'), [bob.jid])
    expect(text((await bob.backend.decrypt(one.element, stanza(alice.jid, bob.jid))).payload)).toBe('one')
    for (const m of await bob.backend.takeEmptyMessages())
      await alice.backend.decryptMessage(m.element, stanza(bob.jid, alice.jid))
    // Bob restores his backup: the session is gone on his side
    await restore(bob.store, saved)
    const two = await alice.backend.encrypt(body('two'), [bob.jid])
    await expectError(() => bob.backend.decrypt(two.element, stanza(alice.jid, bob.jid)), 'DecryptionError')
    // nothing replaced it by itself
    expect(await alice.backend.takeEmptyMessages()).toEqual([])
    // the user asks for it
    expect(await alice.backend.replaceSessions(bob.jid)).toEqual([bobId])
    const empties = await alice.backend.takeEmptyMessages()
    expect(empties.map((e) => e.to)).toEqual([bob.jid])
    const empty = (empties[0] as { element: Element }).element
    const kex = parseEncrypted(empty)
    expect(kex.payload).toBeUndefined()
    expect(kex.keys.get(bob.jid)?.map((k) => [k.rid, k.kex])).toEqual([[bobId, true]])
    const got = await bob.backend.decryptMessage(empty, stanza(alice.jid, bob.jid))
    expect(got.kind).toBe('empty')
    expect(got.keyExchange).toBe(true)
    // Bob answers the key exchange; Alice's next message carries no key exchange any more
    for (const m of await bob.backend.takeEmptyMessages())
      await alice.backend.decryptMessage(m.element, stanza(bob.jid, alice.jid))
    const three = await alice.backend.encrypt(body('three'), [bob.jid])
    expect(
      parseEncrypted(three.element)
        .keys.get(bob.jid)
        ?.map((k) => k.kex),
    ).toEqual([false])
    expect(text((await bob.backend.decrypt(three.element, stanza(alice.jid, bob.jid))).payload)).toBe('three')
    const four = await bob.backend.encrypt(body('four'), [alice.jid])
    expect(text((await alice.backend.decrypt(four.element, stanza(bob.jid, alice.jid))).payload)).toBe('four')
  })

  it('XEP-0384 §6: only listed devices with a bundle are replaced, never our own device; an explicit device list narrows it', async () => {
    const { alice, bob } = await backendPair()
    const aliceId = (await alice.backend.ownDeviceId()) as number
    const bobId = (await bob.backend.ownDeviceId()) as number
    expect(await alice.backend.replaceSessions(alice.jid)).toEqual([])
    expect(await alice.backend.replaceSessions(bob.jid, [bobId + 1])).toEqual([])
    expect(await alice.backend.replaceSessions(bob.jid, [bobId, bobId])).toEqual([bobId])
    expect(await bob.backend.replaceSessions(alice.jid, [aliceId])).toEqual([aliceId])
  })
})
