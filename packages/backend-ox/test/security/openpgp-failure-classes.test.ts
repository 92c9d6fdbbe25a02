/**
 * Each class of OpenPGP.js failure, produced for real, pinned to the rule the backend reports.
 * The backend classifies by conditions it checks itself (which keys hold the issuer key id, the
 * signature's creation time, the lookup rules), not by OpenPGP.js's wording; the decompression
 * cap is the one failure recognised by its wording (`isDecompressionCapError`), so an OpenPGP.js
 * update that rewords it fails here.
 */
import { keyStatus } from '../../src/keys.ts'
import * as openpgp from 'openpgp'
import { describe, expect, it } from 'vitest'
import { isDecompressionCapError } from '../../src/decrypt.ts'
import { generateOxKey, openpgpElement, readOpenpgpElement } from '../../src/index.ts'
import {
  ALICE,
  BOB,
  body,
  contentXml,
  importKey,
  introducedParties,
  MALLORY,
  ownPrivate,
  party,
  rawOpenpgp,
  rejectionOf,
  stanza,
} from '../helpers.ts'

const [alice, bob, mallory] = await introducedParties(ALICE, BOB, MALLORY)

const now = () => new Date()

describe('OpenPGP.js failures → DecryptionError rules', () => {
  it('tampered ciphertext (integrity check fails): OX-DECRYPT', async () => {
    const bytes = readOpenpgpElement((await alice.ox.encrypt(body('x'), [BOB])).element)
    const copy = new Uint8Array(bytes)
    const i = copy.length - 5
    copy[i] = (copy[i] ?? 0) ^ 0x01
    expect(await rejectionOf(bob.ox.decrypt(openpgpElement(copy), stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-DECRYPT',
    })
  })

  it('not encrypted to any of our keys (wrong key): OX-DECRYPT', async () => {
    const toMallory = await alice.ox.encrypt(body('x'), [MALLORY])
    expect(await rejectionOf(bob.ox.decrypt(toMallory.element, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-DECRYPT',
    })
  })

  it('not an OpenPGP message (unparseable packets): OX-DECRYPT', async () => {
    const junk = openpgpElement(new Uint8Array([0xff, 0x00, 0x13, 0x37, 0x42]))
    expect(await rejectionOf(bob.ox.decrypt(junk, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-DECRYPT',
    })
  })

  it('a bad signature by the sender key (the signed data changed): OX-SIG', async () => {
    const a = await ownPrivate(alice)
    const signed = await openpgp.sign({
      message: await openpgp.createMessage({ text: contentXml('sign', [BOB], now()) }),
      signingKeys: a,
      format: 'binary',
    })
    // the literal data packet holds the content: flip one byte of its text
    const copy = new Uint8Array(signed)
    const at = Buffer.from(copy).indexOf(Buffer.from('<rpad>pad'))
    expect(at).toBeGreaterThan(0)
    copy[at + 6] = 'q'.charCodeAt(0)
    const e = await rejectionOf(
      bob.ox.decrypt(openpgpElement(copy), stanza(ALICE, BOB), { allowSignedOnly: true }),
    )
    expect(e).toMatchObject({ name: 'DecryptionError', rule: 'OX-SIG' })
  })

  it('a signature by a key that is not the sender’s: OX-SIGNER', async () => {
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], now()),
      encryptTo: [(await ownPrivate(bob)).toPublic()],
      signWith: await ownPrivate(mallory),
    })
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-SIGNER',
    })
  })

  it('a signature by the sender’s revoked key: OX-KEY', async () => {
    const carol = await party('carol@example.org' as never)
    await importKey(bob.ox, bob.store, carol.jid, await carol.ox.exportPublicKey())
    const carolKey = await ownPrivate(carol)
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], now()),
      encryptTo: [(await ownPrivate(bob)).toPublic()],
      signWith: carolKey,
    })
    const { publicKey: revoked } = await openpgp.revokeKey({ key: carolKey, format: 'object' })
    await bob.ox.importPublicKey(carol.jid, revoked.write())
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(carol.jid, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-KEY',
    })
  })

  it('a signature by the sender’s expired key: OX-KEY', async () => {
    const dave = 'dave@example.org' as never
    const made = new Date(Date.now() - 3600_000)
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: `xmpp:${dave}` }],
      keyExpirationTime: 600,
      date: made,
      format: 'object',
    })
    await bob.ox.importPublicKey(dave, privateKey.toPublic().write())
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], new Date(made.getTime() + 60_000)),
      encryptTo: [(await ownPrivate(bob)).toPublic()],
      signWith: privateKey,
      date: new Date(made.getTime() + 60_000),
    })
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(dave, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-KEY',
    })
  })

  it('a signature dated beyond the clock skew (OpenPGP.js refuses it): OX-TIME', async () => {
    const future = new Date(Date.now() + 3600_000)
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], now()),
      encryptTo: [(await ownPrivate(bob)).toPublic()],
      signWith: await ownPrivate(alice),
      date: future,
    })
    const e = await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))
    expect(e).toMatchObject({ name: 'DecryptionError', rule: 'OX-TIME' })
    expect(e.message).toMatch(/in the future, over 600 s/)
  })

  it('a compressed message inflating past the cap: LimitExceededError OX-SIZE (the wording is pinned)', async () => {
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], now(), 'A'.repeat(3 * 1024 * 1024)),
      encryptTo: [(await ownPrivate(bob)).toPublic()],
      signWith: await ownPrivate(alice),
      compress: true,
    })
    const e = await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))
    expect(e).toMatchObject({ name: 'LimitExceededError', rule: 'OX-SIZE' })
    expect(isDecompressionCapError((e as unknown as { cause: unknown }).cause)).toBe(true)
  })

  it('an unsupported compression algorithm (unknown packet content): OX-DECRYPT, not OX-SIZE', async () => {
    // a Compressed Data packet (tag 8, new format) with algorithm 110 (private/experimental)
    const packet = new Uint8Array([0xc8, 0x03, 110, 0x00, 0x00])
    const e = await rejectionOf(
      bob.ox.decrypt(openpgpElement(packet), stanza(ALICE, BOB), { allowSignedOnly: true }),
    )
    expect(e).toMatchObject({ name: 'DecryptionError', rule: 'OX-DECRYPT' })
  })
})

describe('lookup rules classified by condition (keyStatus)', () => {
  it('revoked, expired and a foreign user id each get their own reason', async () => {
    const k = await generateOxKey(BOB)
    const { publicKey: revoked } = await openpgp.revokeKey({ key: k, format: 'object' })
    expect(await keyStatus(revoked, BOB)).toMatchObject({ usable: false, reason: 'revoked' })
    const { privateKey: expired } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: `xmpp:${BOB}` }],
      keyExpirationTime: 60,
      date: new Date(Date.now() - 3600_000),
      format: 'object',
    })
    expect(await keyStatus(expired, BOB)).toMatchObject({ usable: false, reason: 'expired' })
    expect(await keyStatus(k, ALICE)).toMatchObject({ usable: false, reason: 'no-xmpp-user-id' })
  })
})
