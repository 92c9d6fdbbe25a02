/**
 * TM-15 / TM-21 (levels are ATM's, per owner and key): the backend encrypts to a device only when
 * the level its owner's key has in the trust store is accepted. The levels of every recipient are
 * read in one query per message; a level belongs to an (owner, key id) pair, so the same key id
 * claimed under two JIDs keeps each owner's level.
 */
import type { BareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { NS_AXOLOTL } from '../../src/wire.ts'
import { body, introduce, party } from '../helpers.ts'

describe('TM-15 / TM-21: encryption follows each owner’s trust levels', () => {
  it('the same key id trusted under one owner and distrusted under another: only the trusted owner gets a <key/>', async () => {
    const alice = await party('alice@example.org')
    const bob = await party('bob@example.org')
    await introduce(alice, bob, 'manually-trusted')
    // carol@ lists bob's device (same device id, same bundle, same key id): alice distrusts it there
    const carol = 'carol@example.org' as BareJid
    await alice.backend.importDeviceList(carol, [bob.deviceId])
    const keyId = await alice.backend.importBundle(carol, bob.deviceId, await bob.backend.ownBundle())
    await alice.store.addKeys(
      NS_AXOLOTL,
      carol,
      [keyId],
      { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
      'manually-distrusted',
    )
    expect(await alice.store.getTrustLevel(NS_AXOLOTL, bob.jid, keyId)).toBe('manually-trusted')

    // carol's only key is distrusted: refused, typed, whichever order the recipients come in
    for (const to of [[bob.jid, carol], [carol, bob.jid], [carol]])
      await expect(alice.backend.encrypt(body('x'), to)).rejects.toMatchObject({ name: 'UntrustedKeyError' })

    // bob's key (the same key id) stays trusted under bob
    const m = await alice.backend.encrypt(body('for bob'), [bob.jid])
    expect(m.recipients).toEqual([{ encryption: NS_AXOLOTL, owner: bob.jid, keyId }])
  })

  it('a key at a level that is not accepted gets no <key/>; the owner’s other, trusted key does', async () => {
    const alice = await party('alice@example.org')
    const bob1 = await party('bob@example.org')
    const bob2 = await party('bob@example.org')
    await alice.backend.importDeviceList(bob1.jid, [bob1.deviceId, bob2.deviceId])
    const k1 = await alice.backend.importBundle(bob1.jid, bob1.deviceId, await bob1.backend.ownBundle())
    const k2 = await alice.backend.importBundle(bob1.jid, bob2.deviceId, await bob2.backend.ownBundle())
    const ctx = { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() } as const
    await alice.store.addKeys(NS_AXOLOTL, bob1.jid, [k1], ctx, 'automatically-trusted')
    await alice.store.addKeys(NS_AXOLOTL, bob1.jid, [k2], ctx, 'automatically-distrusted')
    const m = await alice.backend.encrypt(body('one of two'), [bob1.jid])
    expect(m.recipients).toEqual([{ encryption: NS_AXOLOTL, owner: bob1.jid, keyId: k1 }])
    const rids = m.element
      .getChild('header')
      ?.getChildren('key')
      .map((k) => Number(k.attrs.rid))
    expect(rids).toEqual([bob1.deviceId])
  })
})
