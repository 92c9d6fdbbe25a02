/**
 * Interop with GnuPG 2.2 (Debian `gnupg`), both directions: the three content elements,
 * public key payloads, secret key backups, and the receiver checks on messages gpg made.
 * A temporary GNUPGHOME per run; gpg missing fails in CI and skips visibly elsewhere.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid } from '@vouch/tm-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OxBackend } from '../src/index.ts'
import { fingerprintToKeyId, oxBackend, parseContent, readOpenpgpElement } from '../src/index.ts'
import { ALICE, BOB, body, contentXml, importKey, MALLORY, rejectionOf, stanza } from './helpers.ts'
import { Gpg, openpgpOf, skipWithout, toolAvailable, validSigFingerprints } from './interop/tools.ts'

const CAROL = 'carol@example.org' as BareJid // revoked in gpg
const DAVE = 'dave@example.org' as BareJid // expired key
const DAY = 24 * 3600_000

describe.skipIf(skipWithout('gpg'))('GnuPG interop', () => {
  let gpg: Gpg
  let alice: OxBackend
  let aliceStore: AccountTrustStore
  let bobFpr: string
  let impostorFpr: string
  let noUidFpr: string
  let carolFpr: string
  let daveFpr: string

  beforeAll(async () => {
    expect(toolAvailable('gpg'), 'gpg is required (Debian package gnupg, tooling/debian-packages.txt)').toBe(
      true,
    )
    gpg = new Gpg()
    bobFpr = gpg.genKey(`xmpp:${BOB}`)
    impostorFpr = gpg.genKey(`xmpp:${MALLORY}`)
    noUidFpr = gpg.genKey('Bob <bob@example.org>')
    carolFpr = gpg.genKey(`xmpp:${CAROL}`)
    daveFpr = gpg.genKey(`xmpp:${DAVE}`, ['--faked-system-time', '20200101T000000!'], '1d')
    aliceStore = memoryStore().forAccount(ALICE)
    alice = oxBackend()({ store: aliceStore })
    await alice.generateOwnKey({ date: new Date(Date.now() - 365 * DAY) })
    gpg.ok(['--import'], await alice.exportPublicKey())
    for (const [jid, fpr] of [
      [BOB, bobFpr],
      [MALLORY, impostorFpr],
    ] as const)
      await importKey(
        alice,
        aliceStore,
        jid,
        new Uint8Array(gpg.ok(['--export', '--export-options', 'export-minimal', fpr])),
      )
  }, 60_000)
  afterAll(() => gpg?.close())

  const aliceFpr = async () => (await alice.ownKeyInfo())?.fingerprint ?? ''

  /** gpg signs (as bob unless `signer`) and/or encrypts (to alice) a hand-made content element. */
  function gpgMessage(
    content: string,
    opts: { sign?: string | false; encrypt?: boolean; extra?: string[] } = {},
  ): Uint8Array {
    const args = [...(opts.extra ?? [])]
    const signer = opts.sign === undefined ? bobFpr : opts.sign
    if (signer !== false) args.push('--local-user', signer, '--sign')
    if (opts.encrypt !== false) args.push('--recipient', `xmpp:${ALICE}`, '--encrypt')
    return new Uint8Array(gpg.ok(['--output', '-', ...args], content))
  }

  describe('public keys', () => {
    it('gpg imports our exported key: same fingerprint, the xmpp: user id, an encryption subkey', async () => {
      const colons = gpg.ok(['--with-colons', '--list-keys', await aliceFpr()]).toString()
      expect(colons).toContain(`fpr:::::::::${await aliceFpr()}:`)
      expect(colons).toContain(`xmpp\\x3a${ALICE}`)
      expect(colons).toMatch(/^sub:[^:]*:255:18:.*:e:/m)
      expect(colons.match(/^uid:/gm)).toHaveLength(1)
    })
    it("we import gpg's key (export-minimal, binary and armored): usable, key id = fingerprint bytes", async () => {
      const [bin] = await alice.importPublicKey(BOB, new Uint8Array(gpg.ok(['--export', bobFpr])))
      expect(bin?.status).toEqual({ usable: true })
      expect(bin?.info.keyId).toBe(fingerprintToKeyId(bobFpr))
      const [arm] = await alice.importPublicKey(BOB, gpg.ok(['--armor', '--export', bobFpr]).toString())
      expect(arm?.change).toBe('unchanged')
      expect(await alice.keysOf(BOB)).toEqual([fingerprintToKeyId(bobFpr)])
    })
  })

  describe('messages we make, gpg opens', () => {
    it("<signcrypt/>: gpg decrypts with bob's key and verifies alice's signature", async () => {
      const { element } = await alice.encrypt(body('hello gpg'), [BOB])
      const r = gpg.run(['--status-fd', '2', '--decrypt'], readOpenpgpElement(element))
      expect(r.status, r.stderr).toBe(0)
      expect(validSigFingerprints(r.stderr)).toEqual([await aliceFpr()])
      const c = parseContent(r.stdout.toString('utf8'))
      expect(c).toMatchObject({ mode: 'signcrypt', to: [BOB] })
      expect(c.payload[0]?.getText()).toBe('hello gpg')
    })
    it('<sign/>: gpg verifies it', async () => {
      const { element } = await alice.encrypt(body('signed for gpg'), [BOB], { mode: 'sign' })
      const r = gpg.run(['--status-fd', '2', '--decrypt'], readOpenpgpElement(element))
      expect(r.status, r.stderr).toBe(0)
      expect(validSigFingerprints(r.stderr)).toEqual([await aliceFpr()])
      expect(parseContent(r.stdout.toString('utf8')).mode).toBe('sign')
    })
    it('<crypt/>: gpg decrypts it, and finds no signature', async () => {
      const { element } = await alice.encrypt(body('crypt for gpg'), [BOB], { mode: 'crypt' })
      const r = gpg.run(['--status-fd', '2', '--decrypt'], readOpenpgpElement(element))
      expect(r.status, r.stderr).toBe(0)
      expect(validSigFingerprints(r.stderr)).toEqual([])
      expect(parseContent(r.stdout.toString('utf8')).mode).toBe('crypt')
    })
  })

  describe('messages gpg makes, we open', () => {
    it('<signcrypt/> (signed, compressed and encrypted by gpg)', async () => {
      const bytes = gpgMessage(contentXml('signcrypt', [ALICE], new Date(), 'from gpg'))
      const r = await alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE))
      expect(r).toMatchObject({
        mode: 'signcrypt',
        signed: true,
        encrypted: true,
        senderKey: fingerprintToKeyId(bobFpr),
      })
      expect(r.payload[0]?.getText()).toBe('from gpg')
    })
    it('<sign/> (gpg --sign)', async () => {
      const bytes = gpgMessage(contentXml('sign', [ALICE], new Date(), 'signed by gpg'), { encrypt: false })
      const r = await alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE), { allowSignedOnly: true })
      expect(r).toMatchObject({
        mode: 'sign',
        signed: true,
        encrypted: false,
        senderKey: fingerprintToKeyId(bobFpr),
      })
    })
    it('<crypt/> (gpg --encrypt), where allowed', async () => {
      const bytes = gpgMessage(contentXml('crypt', [ALICE], new Date(), 'crypt by gpg'), { sign: false })
      const r = await alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE), { allowUnsigned: true })
      expect(r).toMatchObject({ mode: 'crypt', signed: false, encrypted: true })
    })
  })

  describe('receiver checks on gpg messages', () => {
    it('impostor: signed by a key of another JID (OX-SIGNER)', async () => {
      const bytes = gpgMessage(contentXml('signcrypt', [ALICE], new Date()), { sign: impostorFpr })
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        name: 'DecryptionError',
        rule: 'OX-SIGNER',
      })
    })
    it('impostor: signed by a key without an xmpp: user id (OX-SIGNER; and we refuse to store it for bob)', async () => {
      const bytes = gpgMessage(contentXml('signcrypt', [ALICE], new Date()), { sign: noUidFpr })
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        rule: 'OX-SIGNER',
      })
      expect(
        await rejectionOf(alice.importPublicKey(BOB, new Uint8Array(gpg.ok(['--export', noUidFpr])))),
      ).toMatchObject({
        name: 'InvalidKeyIdError',
        rule: 'OX-UID',
      })
    })
    it('wrong <to/> (OX-TO)', async () => {
      const bytes = gpgMessage(contentXml('signcrypt', [MALLORY], new Date()))
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        rule: 'OX-TO',
      })
    })
    it('stale <time/> (OX-TIME)', async () => {
      const bytes = gpgMessage(contentXml('signcrypt', [ALICE], new Date(Date.now() - 30 * DAY)))
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        rule: 'OX-TIME',
      })
    })
    it('tampered ciphertext (OX-DECRYPT)', async () => {
      const bytes = gpgMessage(contentXml('signcrypt', [ALICE], new Date()))
      const i = Math.floor(bytes.length * 0.6)
      bytes[i] = (bytes[i] ?? 0) ^ 0x20
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        name: 'DecryptionError',
        rule: 'OX-DECRYPT',
      })
    })
    it('unsigned <crypt/> offered as chat (OX-MODE), unsigned <signcrypt/> (OX-SIGNCRYPT)', async () => {
      const crypt = gpgMessage(contentXml('crypt', [ALICE], new Date()), { sign: false })
      expect(await rejectionOf(alice.decrypt(openpgpOf(crypt), stanza(BOB, ALICE)))).toMatchObject({
        rule: 'OX-MODE',
      })
      const fake = gpgMessage(contentXml('signcrypt', [ALICE], new Date()), { sign: false })
      expect(await rejectionOf(alice.decrypt(openpgpOf(fake), stanza(BOB, ALICE)))).toMatchObject({
        rule: 'OX-SIGNCRYPT',
      })
    })
    it('revoked key: carol revokes in gpg; her messages are rejected (OX-KEY) and we stop encrypting to her', async () => {
      await importKey(alice, aliceStore, CAROL, new Uint8Array(gpg.ok(['--export', carolFpr])))
      const signed = gpgMessage(contentXml('signcrypt', [ALICE], new Date()), { sign: carolFpr })
      expect((await alice.decrypt(openpgpOf(signed), stanza(CAROL, ALICE))).signed).toBe(true)
      const revDir = join(gpg.home, 'openpgp-revocs.d')
      const rev = readFileSync(
        join(revDir, readdirSync(revDir).find((f) => f.startsWith(carolFpr)) ?? ''),
        'utf8',
      )
      gpg.ok(['--import'], rev.replace(/^:-----BEGIN/m, '-----BEGIN'))
      const [r] = await alice.importPublicKey(CAROL, new Uint8Array(gpg.ok(['--export', carolFpr])))
      expect(r?.status).toMatchObject({ usable: false, reason: 'revoked' })
      expect(await rejectionOf(alice.decrypt(openpgpOf(signed), stanza(CAROL, ALICE)))).toMatchObject({
        rule: 'OX-KEY',
      })
      expect(await rejectionOf(alice.encrypt(body('x'), [CAROL]))).toMatchObject({
        name: 'UntrustedKeyError',
      })
    })
    it("expired key: dave's key expired in 2020; never encrypted to, its signatures rejected (OX-KEY)", async () => {
      const [r] = await alice.importPublicKey(DAVE, new Uint8Array(gpg.ok(['--export', daveFpr])))
      expect(r?.status).toMatchObject({ usable: false, reason: 'expired' })
      expect(await rejectionOf(alice.encrypt(body('x'), [DAVE]))).toMatchObject({ name: 'UntrustedKeyError' })
      const old = gpgMessage(contentXml('sign', [ALICE], new Date('2020-01-01T01:00:00Z')), {
        sign: daveFpr,
        encrypt: false,
        extra: ['--faked-system-time', '20200101T010000!'],
      })
      expect(
        await rejectionOf(alice.decrypt(openpgpOf(old), stanza(DAVE, ALICE), { allowSignedOnly: true })),
      ).toMatchObject({
        rule: 'OX-KEY',
      })
    })
    it('a gpg-compressed message inflating past the cap (LimitExceededError OX-SIZE)', async () => {
      const bytes = gpgMessage(contentXml('signcrypt', [ALICE], new Date(), 'Z'.repeat(2 * 1024 * 1024)), {
        extra: ['--compress-level', '9'],
      })
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        name: 'LimitExceededError',
        rule: 'OX-SIZE',
      })
    })
  })

  describe('secret key backups', () => {
    it('gpg restores our backup with the code as passphrase, and the key decrypts our messages', async () => {
      const backup = await alice.createBackup()
      const other = new Gpg()
      try {
        const keys = other.ok(['--passphrase', backup.code, '--decrypt'], backup.bytes)
        other.ok(['--import'], keys)
        const colons = other.ok(['--with-colons', '--list-secret-keys']).toString()
        expect(colons).toContain(`fpr:::::::::${await aliceFpr()}:`)
        const { element } = await alice.encrypt(body('to myself'), [ALICE])
        const r = other.run(['--decrypt'], readOpenpgpElement(element))
        expect(r.status, r.stderr).toBe(0)
        expect(parseContent(r.stdout.toString()).payload[0]?.getText()).toBe('to myself')
        // the code is not normalised: gpg with the code without dashes fails
        expect(
          other.run(['--passphrase', backup.code.replaceAll('-', ''), '--decrypt'], backup.bytes).status,
        ).not.toBe(0)
      } finally {
        other.close()
      }
    })
    it('we restore a backup made with gpg --symmetric of an exported secret key', async () => {
      const code = 'G2PG-BACK-UP7K-EYS9-ABCD-EFGH'
      const secret = gpg.ok(['--export-secret-keys', bobFpr])
      const backup = new Uint8Array(gpg.ok(['--passphrase', code, '--symmetric', '--output', '-'], secret))
      const bobDevice = oxBackend()({ store: memoryStore().forAccount(BOB) })
      const info = await bobDevice.restoreBackup(backup, code)
      expect(info.fingerprint).toBe(bobFpr)
      // the restored key decrypts what alice sends bob
      await bobDevice.importPublicKey(ALICE, await alice.exportPublicKey())
      const { element } = await alice.encrypt(body('restored'), [BOB])
      expect((await bobDevice.decrypt(element, stanza(ALICE, BOB))).payload[0]?.getText()).toBe('restored')
      expect(await rejectionOf(bobDevice.restoreBackup(backup, code.toLowerCase()))).toMatchObject({
        rule: 'OX-BACKUP',
      })
    })
  })
})
