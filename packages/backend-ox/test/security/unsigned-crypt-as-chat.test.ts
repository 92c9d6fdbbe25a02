/**
 * Attack: downgrade to an unsigned `<crypt/>` (anybody can encrypt to bob), or content elements
 * that lie about their protection. XEP-0374 §3.1: chat uses `<signcrypt/>` only; XEP-0373 §3.1:
 * signcrypt MUST be signed and encrypted, sign MUST NOT be encrypted, crypt MUST NOT be signed.
 */
import * as openpgp from 'openpgp'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  ALICE,
  BOB,
  body,
  contentXml,
  introducedParties,
  ownPrivate,
  type Party,
  rawOpenpgp,
  rejectionOf,
  stanza,
} from '../helpers.ts'

let alice: Party
let bob: Party
let bobKey: openpgp.PublicKey
beforeAll(async () => {
  ;[alice, bob] = await introducedParties(ALICE, BOB)
  bobKey = await openpgp.readKey({ binaryKey: await bob.ox.exportPublicKey() })
})

describe('protection mode checks', () => {
  it('rejects an unsigned <crypt/> offered as chat (OX-MODE)', async () => {
    const sent = await alice.ox.encrypt(body('unsigned'), [BOB], { mode: 'crypt' })
    expect(await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-MODE',
    })
  })
  it('opens <crypt/> only when allowed, and then reports no sender key', async () => {
    const sent = await alice.ox.encrypt(body('unsigned'), [BOB], { mode: 'crypt' })
    const r = await bob.ox.decrypt(sent.element, stanza(ALICE, BOB), { allowUnsigned: true })
    expect(r).toMatchObject({ mode: 'crypt', signed: false, encrypted: true })
    expect(r.senderKey).toBeUndefined()
  })
  it('rejects a <signcrypt/> inside an unsigned message (OX-SIGNCRYPT)', async () => {
    const el = await rawOpenpgp({ content: contentXml('signcrypt', [BOB], new Date()), encryptTo: [bobKey] })
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))).toMatchObject({ rule: 'OX-SIGNCRYPT' })
  })
  it('rejects a <signcrypt/> that is only signed, not encrypted (OX-SIGNCRYPT)', async () => {
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], new Date()),
      signWith: await ownPrivate(alice),
    })
    expect(
      await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB), { allowSignedOnly: true })),
    ).toMatchObject({
      rule: 'OX-SIGNCRYPT',
    })
  })
  it('rejects a <sign/> that was encrypted (OX-SIGN)', async () => {
    const el = await rawOpenpgp({
      content: contentXml('sign', [BOB], new Date()),
      encryptTo: [bobKey],
      signWith: await ownPrivate(alice),
    })
    expect(
      await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB), { allowSignedOnly: true })),
    ).toMatchObject({
      rule: 'OX-SIGN',
    })
  })
  it('rejects a <crypt/> that was signed (OX-CRYPT)', async () => {
    const el = await rawOpenpgp({
      content: contentXml('crypt', [BOB], new Date()),
      encryptTo: [bobKey],
      signWith: await ownPrivate(alice),
    })
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB), { allowUnsigned: true }))).toMatchObject({
      rule: 'OX-CRYPT',
    })
  })
  it('rejects a <sign/> where a chat message is expected (OX-MODE)', async () => {
    const sent = await alice.ox.encrypt(body('signed'), [BOB], { mode: 'sign' })
    expect(await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject({
      rule: 'OX-MODE',
    })
  })
})
