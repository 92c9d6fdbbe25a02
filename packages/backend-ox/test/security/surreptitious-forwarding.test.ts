/**
 * Attack: surreptitious forwarding. Mallory receives a message alice signed for her, strips the
 * encryption and re-encrypts alice's signed content to bob. The signature is alice's and valid;
 * only the protected `<to/>` tells bob it was not meant for him (XEP-0373 §3.1, OX-TO).
 */
import * as openpgp from 'openpgp'
import { describe, expect, it } from 'vitest'
import { ALICE, BOB, body, introducedParties, MALLORY, ownPrivate, rejectionOf, stanza } from '../helpers.ts'
import { openpgpElement, readOpenpgpElement } from '../../src/index.ts'

const [alice, bob, mallory] = await introducedParties(ALICE, BOB, MALLORY)

describe('wrong <to/> (OX-TO)', () => {
  it("rejects alice's signed message to mallory, re-encrypted by mallory to bob", async () => {
    const toMallory = await alice.ox.encrypt(body('for mallory only'), [MALLORY])
    // mallory decrypts, keeps alice's signature over the plaintext and re-encrypts both to bob
    const message = await openpgp.readMessage({ binaryMessage: readOpenpgpElement(toMallory.element) })
    const opened = await openpgp.decrypt({
      message,
      decryptionKeys: await ownPrivate(mallory),
      format: 'binary',
    })
    for (const s of opened.signatures) s.verified.catch(() => undefined)
    const signature = await opened.signatures[0]?.signature
    if (signature === undefined) throw new Error('alice did not sign')
    const replay = await openpgp.createMessage({ binary: opened.data as Uint8Array })
    replay.packets.unshift(...signature.packets)
    const bobKey = await openpgp.readKey({ binaryKey: await bob.ox.exportPublicKey() })
    const forwarded = await replay.encrypt([bobKey])
    const el = openpgpElement(forwarded.write())
    const e = await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))
    expect(e).toMatchObject({ name: 'DecryptionError', rule: 'OX-TO' })
  })

  it('rejects a message delivered in a stanza to another recipient', async () => {
    const sent = await alice.ox.encrypt(body('for bob'), [BOB])
    expect(await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, MALLORY)))).toMatchObject({
      rule: 'OX-TO',
    })
  })

  it('compares JIDs after normalisation: a full or differently cased stanza to matches', async () => {
    const sent = await alice.ox.encrypt(body('for bob'), [BOB])
    const r = await bob.ox.decrypt(sent.element, {
      from: `${ALICE}/a` as never,
      to: 'Bob@Example.org/desk' as never,
    })
    expect(r.to).toEqual([BOB])
  })

  it('an own sent copy is checked against the conversation partner (expectedTo)', async () => {
    const sent = await alice.ox.encrypt(body('to bob'), [BOB])
    // a carbon/MAM copy whose outer `to` is our own JID
    expect(await rejectionOf(alice.ox.decrypt(sent.element, stanza(ALICE, ALICE)))).toMatchObject({
      rule: 'OX-TO',
    })
    const r = await alice.ox.decrypt(sent.element, stanza(ALICE, ALICE), { expectedTo: BOB })
    expect(r.senderJid).toBe(ALICE)
  })
})
