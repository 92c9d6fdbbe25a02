/**
 * Attack: a valid signature by a key that is not the sender's (OX.md receiver checks: "made by
 * a key of the sender's bare JID carrying xmpp:<bare-jid>; pass only the sender's keys").
 */
import * as openpgp from 'openpgp'
import { describe, expect, it } from 'vitest'
import {
  ALICE,
  BOB,
  contentXml,
  introducedParties,
  MALLORY,
  ownPrivate,
  rawOpenpgp,
  rejectionOf,
  stanza,
} from '../helpers.ts'

const [, bob, mallory] = await introducedParties(ALICE, BOB, MALLORY)

async function bobPublic(): Promise<openpgp.PublicKey> {
  return openpgp.readKey({ binaryKey: await bob.ox.exportPublicKey() })
}

describe('impostor keys (OX-SIGNER)', () => {
  it("rejects a signcrypt claiming alice but signed by mallory's (another JID's) key", async () => {
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], new Date()),
      encryptTo: [await bobPublic()],
      signWith: await ownPrivate(mallory),
    })
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-SIGNER',
    })
    // the same message is fine from mallory herself
    const ok = await bob.ox.decrypt(el, stanza(MALLORY, BOB))
    expect(ok.senderJid).toBe(MALLORY)
  })

  it('rejects a signature by a key without any xmpp: user id, even one bob does not know', async () => {
    const { privateKey: stranger } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Alice', email: 'alice@example.org' }],
      format: 'object',
    })
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], new Date()),
      encryptTo: [await bobPublic()],
      signWith: stranger,
    })
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-SIGNER',
    })
  })

  it("refuses to store a key for alice that lacks xmpp:alice (so it can never verify alice's messages)", async () => {
    const { privateKey: fake } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: `xmpp:${MALLORY}` }, { name: 'alice@example.org' }],
      format: 'object',
    })
    expect(await rejectionOf(bob.ox.importPublicKey(ALICE, fake.toPublic().write()))).toMatchObject({
      name: 'InvalidKeyIdError',
      rule: 'OX-UID',
    })
  })

  it('rejects a sign-only trust message claiming alice but signed by mallory', async () => {
    const el = await rawOpenpgp({
      content: contentXml('sign', [BOB], new Date()),
      signWith: await ownPrivate(mallory),
    })
    expect(
      await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB), { allowSignedOnly: true })),
    ).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-SIGNER',
    })
  })
})
