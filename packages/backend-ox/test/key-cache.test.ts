/**
 * The parsed-key cache of the backend (per instance, per state key, re-validated against the
 * stored bytes on every use): an update, a revocation, a removal or a new own key written by
 * another instance on the same store — or straight into the store — is seen at once, and one
 * account's keys never show through another's backend.
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import { describe, expect, it } from 'vitest'
import { generateOxKey, keyIdOf, oxBackend } from '../src/index.ts'
import { ALICE, BOB, body, importKey, introducedParties, ownPrivate, rejectionOf, stanza } from './helpers.ts'

const CAROL = 'carol@example.org' as BareJid

const [alice, bob] = await introducedParties(ALICE, BOB)

/** Two backend instances (a cache each) on one store of bob's account. */
async function twoInstancesOfBob() {
  const store = memoryStore().forAccount(BOB)
  const first = oxBackend()({ store })
  await first.importOwnKey(await ownPrivate(bob))
  await importKey(first, store, ALICE, await alice.ox.exportPublicKey())
  const second = oxBackend()({ store })
  return { store, first, second }
}

describe('parsed-key cache', () => {
  it("sees a revocation of the sender's key imported through another instance (OX-KEY)", async () => {
    const { first, second } = await twoInstancesOfBob()
    const sent = await alice.ox.encrypt(body('hi'), [BOB])
    expect((await first.decrypt(sent.element, stanza(ALICE, BOB))).signed).toBe(true) // cache warm
    const { publicKey: revoked } = await openpgp.revokeKey({ key: await ownPrivate(alice), format: 'object' })
    await second.importPublicKey(ALICE, revoked.write())
    expect(await rejectionOf(first.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-KEY',
    })
    expect(await first.keysOf(ALICE)).toEqual([])
    expect(await rejectionOf(first.encrypt(body('x'), [ALICE]))).toMatchObject({ name: 'UntrustedKeyError' })
  })

  it('sees key bytes replaced in the store directly (no backend call in between)', async () => {
    const { store, first } = await twoInstancesOfBob()
    const aliceKey = await ownPrivate(alice)
    expect(await first.keysOf(ALICE)).toEqual([keyIdOf(aliceKey)])
    const { publicKey: revoked } = await openpgp.revokeKey({ key: aliceKey, format: 'object' })
    await store.setState('ox', `key:${ALICE}:${aliceKey.getFingerprint().toUpperCase()}`, revoked.write())
    expect(await first.keysOf(ALICE)).toEqual([])
    const [known] = await first.knownKeys(ALICE)
    expect(known?.status).toMatchObject({ usable: false, reason: 'revoked' })
  })

  it('forgets a key removed through another instance', async () => {
    const { first, second } = await twoInstancesOfBob()
    const aliceId = keyIdOf(await ownPrivate(alice))
    expect(await first.keysOf(ALICE)).toEqual([aliceId])
    await second.removePublicKey(ALICE, aliceId)
    expect(await first.knownKeys(ALICE)).toEqual([])
    expect(await rejectionOf(first.encrypt(body('x'), [ALICE]))).toMatchObject({ name: 'UntrustedKeyError' })
  })

  it('uses a new own key set through another instance (signing and encrypting to self)', async () => {
    const { first, second } = await twoInstancesOfBob()
    const before = await first.encrypt(body('x'), [ALICE]) // own key cached
    const newKey = await generateOxKey(BOB)
    await second.importOwnKey(newKey, { replace: true })
    const after = await first.encrypt(body('y'), [ALICE])
    expect(before.recipients[0]?.keyId).toBe(keyIdOf(await ownPrivate(bob)))
    expect(after.recipients[0]).toEqual({
      encryption: 'urn:xmpp:openpgp:0',
      owner: BOB,
      keyId: keyIdOf(newKey),
    })
    expect(await first.ownKeys()).toEqual([keyIdOf(newKey)])
    // alice learns the new key: the message is signed by it
    await alice.ox.importPublicKey(BOB, await second.exportPublicKey())
    const opened = await alice.ox.decrypt(after.element, stanza(BOB, ALICE))
    expect(opened.signed && opened.senderKey).toBe(keyIdOf(newKey))
  })

  it('keeps accounts apart on one store: a revocation in one account does not reach the other', async () => {
    const shared = memoryStore()
    const aliceStore = shared.forAccount(ALICE)
    const bobStore = shared.forAccount(BOB)
    const aliceOx = oxBackend()({ store: aliceStore })
    const bobOx = oxBackend()({ store: bobStore })
    await aliceOx.importOwnKey(await ownPrivate(alice))
    await bobOx.importOwnKey(await ownPrivate(bob))
    const carolKey = await generateOxKey(CAROL)
    await importKey(aliceOx, aliceStore, CAROL, carolKey.toPublic().write())
    await importKey(bobOx, bobStore, CAROL, carolKey.toPublic().write())
    await aliceOx.encrypt(body('x'), [CAROL]) // both caches warm
    await bobOx.encrypt(body('x'), [CAROL])
    const { publicKey: revoked } = await openpgp.revokeKey({ key: carolKey, format: 'object' })
    await aliceOx.importPublicKey(CAROL, revoked.write())
    expect(await aliceOx.keysOf(CAROL)).toEqual([])
    expect(await bobOx.keysOf(CAROL)).toEqual([keyIdOf(carolKey)])
    expect((await bobOx.encrypt(body('x'), [CAROL])).recipients.map((r) => r.owner)).toEqual([BOB, CAROL])
    // a key only one account holds is never seen by the other's backend
    const dave = 'dave@example.org' as BareJid
    const daveKey = await generateOxKey(dave)
    await bobOx.importPublicKey(dave, daveKey.toPublic().write())
    expect(await bobOx.keysOf(dave)).toEqual([keyIdOf(daveKey)])
    expect(await aliceOx.knownKeys(dave)).toEqual([])
    expect(await rejectionOf(aliceOx.encrypt(body('x'), [dave]))).toMatchObject({ name: 'UntrustedKeyError' })
  })
})
