/**
 * Attack: bit flips in the ciphertext, truncation, garbage. Integrity protection (SEIPD + MDC)
 * and the signature must catch every change (OX-DECRYPT, OX-SIG, OX-XML).
 */
import { Element } from '@vouch/tm-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { openpgpElement, readOpenpgpElement } from '../../src/index.ts'
import { ALICE, BOB, body, introducedParties, type Party, rejectionOf, stanza } from '../helpers.ts'

let alice: Party
let bob: Party
let sent: Uint8Array
let signedOnly: Uint8Array
beforeAll(async () => {
  ;[alice, bob] = await introducedParties(ALICE, BOB)
  sent = readOpenpgpElement((await alice.ox.encrypt(body('integrity matters'), [BOB])).element)
  signedOnly = readOpenpgpElement(
    (await alice.ox.encrypt(body('signed text'), [BOB], { mode: 'sign' })).element,
  )
})

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = new Uint8Array(bytes)
  const i = Math.floor((copy.length - 1) * at)
  copy[i] = (copy[i] ?? 0) ^ 0x40
  return copy
}

describe('tampered ciphertext', () => {
  for (const at of [0.3, 0.5, 0.7, 0.9, 1]) {
    it(`rejects a bit flip at ${at * 100}% of the encrypted message`, async () => {
      const e = await rejectionOf(bob.ox.decrypt(openpgpElement(flip(sent, at)), stanza(ALICE, BOB)))
      expect(e.name).toBe('DecryptionError')
      expect(['OX-DECRYPT', 'OX-SIG', 'OX-SIGNER']).toContain(e.rule)
    })
  }
  it('rejects a truncated message', async () => {
    const e = await rejectionOf(
      bob.ox.decrypt(openpgpElement(sent.subarray(0, sent.length - 10)), stanza(ALICE, BOB)),
    )
    expect(e).toMatchObject({ name: 'DecryptionError', rule: 'OX-DECRYPT' })
  })
  it('rejects a bit flip in the literal data of a signed-only message (OX-SIG)', async () => {
    const text = Buffer.from(signedOnly).indexOf(Buffer.from('signed text'))
    expect(text).toBeGreaterThan(0)
    const copy = new Uint8Array(signedOnly)
    copy[text] = (copy[text] ?? 0) ^ 0x01
    const e = await rejectionOf(
      bob.ox.decrypt(openpgpElement(copy), stanza(ALICE, BOB), { allowSignedOnly: true }),
    )
    expect(e).toMatchObject({ name: 'DecryptionError', rule: 'OX-SIG' })
  })
  it('rejects an <openpgp/> that is not Base64 or is empty (OX-XML)', async () => {
    const bad = new Element('openpgp', { xmlns: 'urn:xmpp:openpgp:0' }).t('***')
    expect(await rejectionOf(bob.ox.decrypt(bad, stanza(ALICE, BOB)))).toMatchObject({ rule: 'OX-XML' })
    const empty = new Element('openpgp', { xmlns: 'urn:xmpp:openpgp:0' })
    expect(await rejectionOf(bob.ox.decrypt(empty, stanza(ALICE, BOB)))).toMatchObject({ rule: 'OX-XML' })
    const wrongNs = new Element('openpgp', { xmlns: 'urn:xmpp:openpgp:1' }).t('AAAA')
    expect(await rejectionOf(bob.ox.decrypt(wrongNs, stanza(ALICE, BOB)))).toMatchObject({ rule: 'OX-XML' })
  })
  it('rejects random bytes that are not an OpenPGP message (OX-DECRYPT)', async () => {
    const el = openpgpElement(new Uint8Array(64).fill(7))
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))).toMatchObject({ rule: 'OX-DECRYPT' })
  })
})
