/**
 * Attack: a small compressed message that inflates to a huge plaintext (GnuPG senders compress;
 * OpenPGP.js's default cap is unlimited). Also oversized `<openpgp/>` input. LimitExceededError
 * with rule OX-SIZE, before any content is parsed.
 */
import * as openpgp from 'openpgp'
import { Element } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  ALICE,
  BOB,
  contentXml,
  introducedParties,
  ownPrivate,
  rawOpenpgp,
  rejectionOf,
  stanza,
} from '../helpers.ts'

const [alice, bob] = await introducedParties(ALICE, BOB)

describe('size caps (OX-SIZE)', () => {
  it('rejects a compressed message that inflates beyond maxDecompressedBytes', async () => {
    const bobKey = await openpgp.readKey({ binaryKey: await bob.ox.exportPublicKey() })
    const huge = contentXml('signcrypt', [BOB], new Date(), 'A'.repeat(3 * 1024 * 1024))
    const el = await rawOpenpgp({
      content: huge,
      encryptTo: [bobKey],
      signWith: await ownPrivate(alice),
      compress: true,
    })
    expect(el.children.join('').length).toBeLessThan(64 * 1024) // small on the wire
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))).toMatchObject({
      name: 'LimitExceededError',
      rule: 'OX-SIZE',
    })
  })
  it('accepts a compressed message under the cap (GnuPG-style sender)', async () => {
    const bobKey = await openpgp.readKey({ binaryKey: await bob.ox.exportPublicKey() })
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], new Date(), 'B'.repeat(10_000)),
      encryptTo: [bobKey],
      signWith: await ownPrivate(alice),
      compress: true,
    })
    expect((await bob.ox.decrypt(el, stanza(ALICE, BOB))).signed).toBe(true)
  })
  it('rejects an <openpgp/> element over maxMessageBytes before decoding it', async () => {
    const el = new Element('openpgp', { xmlns: 'urn:xmpp:openpgp:0' }).t('A'.repeat(400 * 1024))
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))).toMatchObject({
      name: 'LimitExceededError',
      rule: 'OX-SIZE',
    })
  })
})
