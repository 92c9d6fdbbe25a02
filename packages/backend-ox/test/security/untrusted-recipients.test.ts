/**
 * Attack surface: encrypting to keys the user does not trust. The OpenPGP message itself (its
 * PKESK packets) must name only accepted keys and our own (TM-15, TM-21, TOAKAFA).
 */
import * as openpgp from 'openpgp'
import { NS_OX } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { generateOxKey, keyIdOf, readOpenpgpElement } from '../../src/index.ts'
import {
  ALICE,
  BOB,
  body,
  importKey,
  introducedParties,
  MALLORY,
  ownPrivate,
  type Party,
  rejectionOf,
} from '../helpers.ts'

const [alice, bob, _mallory] = await introducedParties(ALICE, BOB, MALLORY)

async function pkeskKeyIds(el: import('@vouch/tm-core').Element): Promise<string[]> {
  const m = await openpgp.readMessage({ binaryMessage: readOpenpgpElement(el) })
  return m.getEncryptionKeyIDs().map((k) => k.toHex())
}

async function encryptionSubkeyId(p: Party): Promise<string> {
  const k = await ownPrivate(p)
  return (await k.getEncryptionKey()).getKeyID().toHex()
}

describe('recipient selection from trust levels', () => {
  it("a signcrypt to bob names exactly bob's and alice's encryption subkeys", async () => {
    const sent = await alice.ox.encrypt(body('x'), [BOB])
    expect((await pkeskKeyIds(sent.element)).sort()).toEqual(
      [await encryptionSubkeyId(alice), await encryptionSubkeyId(bob)].sort(),
    )
  })

  it("a new, automatically distrusted key of bob (after bob's first authentication) is left out", async () => {
    const bobId = (await bob.ox.ownKeys())[0]
    if (bobId === undefined) throw new Error('no key')
    await alice.store.setTrustLevels(NS_OX, [{ owner: BOB, keyIds: [bobId], level: 'authenticated' }], {
      provenance: { kind: 'manual' },
      at: Date.now(),
    })
    const planted = await generateOxKey(BOB)
    // ATM keysDiscovered (TOAKAFA after bob's first authentication) registers it distrusted
    await importKey(alice.ox, alice.store, BOB, planted.toPublic().write(), 'automatically-distrusted')
    expect(await alice.store.getTrustLevel(NS_OX, BOB, keyIdOf(planted))).toBe('automatically-distrusted')
    const sent = await alice.ox.encrypt(body('x'), [BOB])
    const ids = await pkeskKeyIds(sent.element)
    expect(ids).not.toContain((await planted.getEncryptionKey()).getKeyID().toHex())
    expect(ids).toContain(await encryptionSubkeyId(bob))
  })

  it("trust messages (acceptedLevels ['authenticated']) skip automatically trusted keys", async () => {
    // mallory's key is automatically trusted in alice's store
    expect(
      await rejectionOf(alice.ox.encrypt(body('tm'), [MALLORY], { acceptedLevels: ['authenticated'] })),
    ).toMatchObject({
      name: 'UntrustedKeyError',
    })
  })

  it('to our own JID: our key only, other own keys by their level', async () => {
    const sent = await alice.ox.encrypt(body('note to self'), [ALICE], { acceptedLevels: ['authenticated'] })
    expect(await pkeskKeyIds(sent.element)).toEqual([await encryptionSubkeyId(alice)])
  })
})
