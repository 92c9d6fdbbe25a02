/**
 * Attack: using a revoked (compromised) or expired key. A revoked sender key verifies nothing
 * (OX-KEY), a revoked recipient key is never encrypted to, and an old copy of the key does not
 * undo the revocation.
 */
import * as openpgp from 'openpgp'
import { describe, expect, it } from 'vitest'
import { generateOxKey, keyIdOf, oxBackend } from '../../src/index.ts'
import { memoryStore } from '@vouch/store-memory'
import {
  ALICE,
  BOB,
  body,
  importKey,
  introducedParties,
  ownPrivate,
  rejectionOf,
  stanza,
} from '../helpers.ts'

const [alice, bob] = await introducedParties(ALICE, BOB)

describe('revoked and expired keys', () => {
  it("rejects a message signed by alice's key after bob learned of its revocation (OX-KEY)", async () => {
    const store = memoryStore().forAccount(BOB)
    const bob2 = oxBackend()({ store })
    await bob2.importOwnKey(await ownPrivate(bob))
    await bob2.importPublicKey(ALICE, await alice.ox.exportPublicKey())
    const sent = await alice.ox.encrypt(body('before revocation'), [BOB])
    expect((await bob2.decrypt(sent.element, stanza(ALICE, BOB))).signed).toBe(true)
    const { publicKey: revoked } = await openpgp.revokeKey({ key: await ownPrivate(alice), format: 'object' })
    await bob2.importPublicKey(ALICE, revoked.write())
    expect(await rejectionOf(bob2.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-KEY',
    })
  })

  it('never encrypts to a revoked key (UntrustedKeyError when it was the only one)', async () => {
    const store = memoryStore().forAccount(ALICE)
    const a2 = oxBackend()({ store })
    await a2.importOwnKey(await ownPrivate(alice))
    const bobKey = await ownPrivate(bob)
    // registered while usable (as ATM would): the level stays, the revocation alone stops it
    await importKey(a2, store, BOB, bobKey.toPublic().write())
    const { publicKey: revoked } = await openpgp.revokeKey({ key: bobKey, format: 'object' })
    await a2.importPublicKey(BOB, revoked.write())
    await a2.importPublicKey(BOB, bobKey.toPublic().write()) // an old copy from a cache
    expect(await rejectionOf(a2.encrypt(body('x'), [BOB]))).toMatchObject({ name: 'UntrustedKeyError' })
    expect(await a2.keysOf(BOB)).toEqual([])
  })

  it('never encrypts to an expired key', async () => {
    const store = memoryStore().forAccount(ALICE)
    const a2 = oxBackend()({ store })
    await a2.importOwnKey(await ownPrivate(alice))
    const { privateKey: shortLived } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: `xmpp:${BOB}` }],
      keyExpirationTime: 600,
      date: new Date(Date.now() - 3600_000),
      format: 'object',
    })
    const [r] = await importKey(a2, store, BOB, shortLived.toPublic().write())
    expect(r?.status).toMatchObject({ usable: false, reason: 'expired' })
    expect(await rejectionOf(a2.encrypt(body('x'), [BOB]))).toMatchObject({ name: 'UntrustedKeyError' })
  })

  it("a fresh key of bob's replaces nothing: both are kept, only usable ones are encrypted to", async () => {
    const store = memoryStore().forAccount(ALICE)
    const a2 = oxBackend()({ store })
    await a2.importOwnKey(await ownPrivate(alice))
    const second = await generateOxKey(BOB)
    await importKey(a2, store, BOB, (await ownPrivate(bob)).toPublic().write())
    await importKey(a2, store, BOB, second.toPublic().write())
    const sent = await a2.encrypt(body('x'), [BOB])
    expect(sent.recipients.map((r) => r.keyId).sort()).toEqual(
      [keyIdOf(second), keyIdOf(await ownPrivate(bob)), keyIdOf(await ownPrivate(alice))].sort(),
    )
  })
})
