/**
 * Attack: a keyring (several keys in one import) where one key is not the owner's. Bad input
 * changes no state: the import is rejected with a typed error and none of its keys is stored,
 * not even the good ones before the bad one.
 */
import * as openpgp from 'openpgp'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { NS_OX, OX_STATE_NAMESPACE } from '../../src/index.ts'
import { ALICE, BOB, type Party, party, rejectionOf } from '../helpers.ts'

let alice: Party
let bob: Party
beforeAll(async () => {
  bob = await party(BOB)
})
beforeEach(async () => {
  alice = await party(ALICE)
})

const keyring = (...keys: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(keys))

describe('a keyring holding a key that is not the owner’s (OX-UID)', () => {
  it("stores none of the keyring's keys, not even bob's valid key read before the impostor", async () => {
    const { publicKey: impostor } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'xmpp:mallory@example.net' }],
      format: 'binary',
    })
    const input = keyring(await bob.ox.exportPublicKey(), impostor)
    expect(await rejectionOf(alice.ox.importPublicKey(BOB, input))).toMatchObject({
      name: 'InvalidKeyIdError',
      rule: 'OX-UID',
    })
    expect(await alice.ox.knownKeys(BOB)).toEqual([])
    expect(await alice.store.getKeys(NS_OX)).toEqual([])
    // contacts' keys live under `key:<owner>:<fingerprint>`; alice's own key is not one of them
    expect((await alice.store.listState(OX_STATE_NAMESPACE)).filter((k) => k.startsWith('key:'))).toEqual([])
  })

  it('the same import without the impostor stores bob’s key (the rejection above is about the impostor)', async () => {
    const [r] = await alice.ox.importPublicKey(BOB, keyring(await bob.ox.exportPublicKey()))
    expect(r?.change).toBe('added')
    expect((await alice.ox.knownKeys(BOB)).map((k) => k.info.fingerprint)).toEqual([
      (await bob.ox.ownKeyInfo())?.fingerprint,
    ])
  })
})
