/**
 * Interop with Sequoia's Stateless OpenPGP CLI (`sqop` 0.27, Debian `sqop`), both directions:
 * the three content elements, public keys, secret key backups, and the receiver checks on
 * messages sqop made. sqop keys have a separate signing subkey: the sender key we report is the
 * primary fingerprint (D-6). sqop missing fails in CI and skips visibly elsewhere.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { memoryStore } from '@vouch/store-memory'
import * as openpgp from 'openpgp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OxBackend } from '../src/index.ts'
import { fingerprintToKeyId, oxBackend, parseContent, readOpenpgpElement } from '../src/index.ts'
import { ALICE, BOB, body, contentXml, importKey, MALLORY, rejectionOf, stanza } from './helpers.ts'
import { ok, openpgpOf, run, skipWithout, tempDir, toolAvailable } from './interop/tools.ts'

const DAY = 24 * 3600_000

describe.skipIf(skipWithout('sqop'))('sqop interop', () => {
  let dir: ReturnType<typeof tempDir>
  let alice: OxBackend
  const f = (name: string) => join(dir.path, name)
  const sqop = (args: readonly string[], input?: Uint8Array | string) =>
    ok(run('sqop', args, input), `sqop ${args.join(' ')}`)
  const fpr = async (certFile: string) =>
    (await openpgp.readKey({ armoredKey: readFileSync(certFile, 'utf8') })).getFingerprint().toUpperCase()

  beforeAll(async () => {
    expect(toolAvailable('sqop'), 'sqop is required (Debian package sqop, tooling/debian-packages.txt)').toBe(
      true,
    )
    dir = tempDir('vouch-sqop-')
    for (const [name, uid] of [
      ['bob', `xmpp:${BOB}`],
      ['mallory', `xmpp:${MALLORY}`],
      ['nouid', 'Bob <bob@example.org>'],
    ] as const) {
      writeFileSync(f(`${name}.key`), sqop(['generate-key', uid]))
      writeFileSync(f(`${name}.cert`), sqop(['extract-cert'], readFileSync(f(`${name}.key`))))
    }
    const aliceStore = memoryStore().forAccount(ALICE)
    alice = oxBackend()({ store: aliceStore })
    await alice.generateOwnKey({ date: new Date(Date.now() - 365 * DAY) })
    writeFileSync(f('alice.cert'), await alice.exportArmoredPublicKey())
    await importKey(alice, aliceStore, BOB, readFileSync(f('bob.cert'), 'utf8'))
    await importKey(alice, aliceStore, MALLORY, readFileSync(f('mallory.cert'), 'utf8'))
  }, 60_000)
  afterAll(() => dir?.cleanup())

  const aliceFpr = async () => (await alice.ownKeyInfo())?.fingerprint ?? ''
  /** Primary fingerprints in a SOP VERIFICATIONS file (`DATE SIGNING-FPR PRIMARY-FPR …`). */
  const verifiers = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split(' ')[2])

  describe('public keys', () => {
    it("we import sqop's certificate: usable, key id = primary fingerprint bytes", async () => {
      const [r] = await alice.importPublicKey(BOB, readFileSync(f('bob.cert'), 'utf8'))
      expect(r?.status).toEqual({ usable: true })
      expect(r?.info.keyId).toBe(fingerprintToKeyId(await fpr(f('bob.cert'))))
    })
    it('sqop encrypts to our exported key, and we read it', async () => {
      const bytes = sqop(
        ['encrypt', '--no-armor', f('alice.cert')],
        contentXml('crypt', [ALICE], new Date(), 'to our key'),
      )
      const r = await alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE), { allowUnsigned: true })
      expect(r.payload[0]?.getText()).toBe('to our key')
    })
  })

  describe('messages we make, sqop opens', () => {
    it("<signcrypt/>: sqop decrypts with bob's key and verifies alice's signature", async () => {
      const { element } = await alice.encrypt(body('hello sqop'), [BOB])
      const out = sqop(
        ['decrypt', `--verify-with=${f('alice.cert')}`, `--verifications-out=${f('v1')}`, f('bob.key')],
        readOpenpgpElement(element),
      )
      expect(verifiers(f('v1'))).toEqual([await aliceFpr()])
      expect(parseContent(out.toString()).payload[0]?.getText()).toBe('hello sqop')
    })
    it('<sign/>: sqop inline-verify accepts it', async () => {
      const { element } = await alice.encrypt(body('signed for sqop'), [BOB], { mode: 'sign' })
      const out = sqop(
        ['inline-verify', `--verifications-out=${f('v2')}`, f('alice.cert')],
        readOpenpgpElement(element),
      )
      expect(verifiers(f('v2'))).toEqual([await aliceFpr()])
      expect(parseContent(out.toString()).mode).toBe('sign')
    })
    it('<crypt/>: sqop decrypts it and finds no signature', async () => {
      const { element } = await alice.encrypt(body('crypt for sqop'), [BOB], { mode: 'crypt' })
      const bytes = readOpenpgpElement(element)
      // SOP: asked to verify, an unsigned message exits 3 (NO_SIGNATURE)
      const verified = run(
        'sqop',
        ['decrypt', `--verify-with=${f('alice.cert')}`, `--verifications-out=${f('v3')}`, f('bob.key')],
        bytes,
      )
      expect(verified.status).toBe(3)
      const out = sqop(['decrypt', f('bob.key')], bytes)
      expect(parseContent(out.toString()).mode).toBe('crypt')
    })
  })

  describe('messages sqop makes, we open', () => {
    it('<signcrypt/>: signed by the signing subkey, reported as the primary key', async () => {
      const bytes = sqop(
        ['encrypt', '--no-armor', `--sign-with=${f('bob.key')}`, f('alice.cert')],
        contentXml('signcrypt', [ALICE], new Date(), 'from sqop'),
      )
      const r = await alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE))
      expect(r).toMatchObject({ mode: 'signcrypt', signed: true, encrypted: true })
      expect(r.senderKey).toBe(fingerprintToKeyId(await fpr(f('bob.cert'))))
      expect(r.payload[0]?.getText()).toBe('from sqop')
    })
    it('<sign/> (sqop inline-sign)', async () => {
      const bytes = sqop(
        ['inline-sign', '--no-armor', '--as=binary', f('bob.key')],
        contentXml('sign', [ALICE], new Date()),
      )
      const r = await alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE), { allowSignedOnly: true })
      expect(r).toMatchObject({ mode: 'sign', signed: true, encrypted: false })
    })
    it('<crypt/> (sqop encrypt), where allowed', async () => {
      const bytes = sqop(['encrypt', '--no-armor', f('alice.cert')], contentXml('crypt', [ALICE], new Date()))
      expect((await alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE), { allowUnsigned: true })).mode).toBe(
        'crypt',
      )
    })
  })

  describe('receiver checks on sqop messages', () => {
    const signcrypt = (content: string, signer = 'bob') =>
      sqop(['encrypt', '--no-armor', `--sign-with=${f(`${signer}.key`)}`, f('alice.cert')], content)
    it('impostor: signed by the key of another JID (OX-SIGNER)', async () => {
      const bytes = signcrypt(contentXml('signcrypt', [ALICE], new Date()), 'mallory')
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        name: 'DecryptionError',
        rule: 'OX-SIGNER',
      })
    })
    it('impostor: signed by a key without an xmpp: user id (OX-SIGNER)', async () => {
      const bytes = signcrypt(contentXml('signcrypt', [ALICE], new Date()), 'nouid')
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        rule: 'OX-SIGNER',
      })
    })
    it('wrong <to/> (OX-TO)', async () => {
      const bytes = signcrypt(contentXml('signcrypt', [MALLORY], new Date()))
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        rule: 'OX-TO',
      })
    })
    it('stale <time/> (OX-TIME)', async () => {
      const bytes = signcrypt(contentXml('signcrypt', [ALICE], new Date(Date.now() - 30 * DAY)))
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        rule: 'OX-TIME',
      })
    })
    it('tampered ciphertext (OX-DECRYPT)', async () => {
      const bytes = new Uint8Array(signcrypt(contentXml('signcrypt', [ALICE], new Date())))
      const i = Math.floor(bytes.length * 0.7)
      bytes[i] = (bytes[i] ?? 0) ^ 0x04
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        name: 'DecryptionError',
        rule: 'OX-DECRYPT',
      })
    })
    it('unsigned <crypt/> offered as chat (OX-MODE)', async () => {
      const bytes = sqop(['encrypt', '--no-armor', f('alice.cert')], contentXml('crypt', [ALICE], new Date()))
      expect(await rejectionOf(alice.decrypt(openpgpOf(bytes), stanza(BOB, ALICE)))).toMatchObject({
        rule: 'OX-MODE',
      })
    })
  })

  describe('secret key backups', () => {
    it('sqop opens our backup with the code and gets our secret key', async () => {
      const backup = await alice.createBackup()
      writeFileSync(f('code'), backup.code)
      const keys = sqop(['decrypt', `--with-password=${f('code')}`], backup.bytes)
      const cert = sqop(['extract-cert'], keys)
      expect((await openpgp.readKey({ armoredKey: cert.toString() })).getFingerprint().toUpperCase()).toBe(
        await aliceFpr(),
      )
    })
    it('we restore a backup sqop made (password-encrypted transferable secret key)', async () => {
      const code = 'SQ0P-BACK-UPKE-Y123-4567-89AB'.replace('0', 'O')
      writeFileSync(f('code2'), code)
      const secret = sqop(['dearmor'], readFileSync(f('bob.key')))
      const backup = new Uint8Array(sqop(['encrypt', '--no-armor', `--with-password=${f('code2')}`], secret))
      const device = oxBackend()({ store: memoryStore().forAccount(BOB) })
      const info = await device.restoreBackup(backup, code)
      expect(info.fingerprint).toBe(await fpr(f('bob.cert')))
    })
  })
})
