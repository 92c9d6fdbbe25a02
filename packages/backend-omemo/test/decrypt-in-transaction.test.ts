/**
 * DecryptOptions.store: a decrypt joins the caller's transaction, so the ratchet step commits
 * with what the caller applies (a trust decision, a processed id) or not at all.
 */
import { parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { expectError } from './helpers.ts'
import { backendPair, body, stanza } from './security/helpers.ts'

describe('decrypt in the caller’s transaction (DecryptOptions.store)', () => {
  it('a rolled-back caller transaction undoes the ratchet step: the same copy decrypts again', async () => {
    const { alice, bob } = await backendPair()
    const xml = (await alice.backend.encrypt(body('trust decision'), [bob.jid])).element.toString()
    const st = stanza(alice.jid, bob.jid)
    await expect(
      bob.store.transaction(async (tx) => {
        await bob.backend.decrypt(parseXml(xml), st, { store: tx })
        throw new Error('the apply failed')
      }),
    ).rejects.toThrow('the apply failed')
    const r = await bob.backend.decrypt(parseXml(xml), st)
    expect(r.payload.find((p) => p.name === 'body')?.text()).toBe('trust decision')
  })

  it('a committed caller transaction keeps the ratchet step: a second copy is a REPLAY', async () => {
    const { alice, bob } = await backendPair()
    const xml = (await alice.backend.encrypt(body('once'), [bob.jid])).element.toString()
    const st = stanza(alice.jid, bob.jid)
    await bob.store.transaction((tx) => bob.backend.decrypt(parseXml(xml), st, { store: tx }))
    await expectError(() => bob.backend.decrypt(parseXml(xml), st), 'DecryptionError', 'REPLAY')
  })
})
