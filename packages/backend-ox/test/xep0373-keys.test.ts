/**
 * XEP-0373 v0.7.0 §3.3/§4 and OX.md "Keys": generation profile, import forms, minimal export,
 * key ids (D-6), lookup rules, merged updates; imports write no trust level (ATM does).
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import { keyIdByteLength, NS_OX, parseXml } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  buildPubkey,
  fingerprintToKeyId,
  generateOxKey,
  keyIdOf,
  keyIdToFingerprint,
  keyStatus,
  minimalPublicKey,
  oxBackend,
  readOxKeys,
} from '../src/index.ts'
import { ALICE, BOB, MALLORY } from './helpers.ts'

const YEAR = 365 * 24 * 3600 * 1000
let alice: openpgp.PrivateKey
let bob: openpgp.PrivateKey
let mallory: openpgp.PrivateKey

beforeAll(async () => {
  const back = new Date(Date.now() - YEAR)
  ;[alice, bob, mallory] = await Promise.all([
    generateOxKey(ALICE, { date: back }),
    generateOxKey(BOB, { date: back }),
    generateOxKey(MALLORY, { date: back }),
  ])
})

async function errorOf(p: Promise<unknown>): Promise<{ name: string; rule?: string }> {
  try {
    await p
  } catch (e) {
    return e as { name: string; rule?: string }
  }
  throw new Error('expected a rejection')
}

function backendFor(jid: BareJid) {
  const store = memoryStore().forAccount(jid)
  return { store, ox: oxBackend()({ store }) }
}

describe('key generation (OX.md: v4, Ed25519 + Curve25519 legacy, xmpp: user id)', () => {
  it('is a v4 EdDSA key with a Curve25519 ECDH subkey', () => {
    expect(alice.keyPacket.version).toBe(4)
    expect(alice.getAlgorithmInfo()).toEqual({ algorithm: 'eddsaLegacy', curve: 'ed25519Legacy' })
    expect(alice.subkeys).toHaveLength(1)
    expect(alice.subkeys[0]?.getAlgorithmInfo()).toEqual({ algorithm: 'ecdh', curve: 'curve25519Legacy' })
  })
  it('carries exactly the user id xmpp:<bare-jid>', () => {
    expect(alice.getUserIDs()).toEqual([`xmpp:${ALICE}`])
  })
  it('does not expire and has no passphrase', async () => {
    expect(await alice.getExpirationTime()).toBe(Number.POSITIVE_INFINITY)
    expect(alice.isDecrypted()).toBe(true)
  })
  it('passes the lookup rules', async () => {
    expect(await keyStatus(alice, ALICE)).toEqual({ usable: true })
  })
})

describe('key ids (D-6: the 20 bytes of the v4 fingerprint)', () => {
  it('is canonical Base64 of 20 bytes and round-trips to the fingerprint', () => {
    const id = keyIdOf(alice)
    expect(keyIdByteLength(id)).toBe(20)
    expect(keyIdToFingerprint(id)).toBe(alice.getFingerprint().toUpperCase())
    expect(fingerprintToKeyId(alice.getFingerprint().toLowerCase())).toBe(id)
  })
  it('rejects a fingerprint that is not 40 hex digits (OX-FPR)', () => {
    expect(() => fingerprintToKeyId('ABCD')).toThrowError(
      expect.objectContaining({ name: 'InvalidKeyIdError', rule: 'OX-FPR' }),
    )
  })
  it('rejects a key id that is not 20 bytes (TM-11)', () => {
    const omemoSized = Buffer.alloc(32, 1).toString('base64') as never
    expect(() => keyIdToFingerprint(omemoSized)).toThrowError(
      expect.objectContaining({ name: 'InvalidKeyIdError', rule: 'TM-11' }),
    )
  })
})

describe('import forms', () => {
  it('reads binary, armored, Base64 and <pubkey/> to the same key', async () => {
    const pub = alice.toPublic()
    const forms = [
      pub.write(),
      pub.armor(),
      Buffer.from(pub.write()).toString('base64'),
      buildPubkey(pub.write()),
    ]
    for (const f of forms) {
      const [k] = await readOxKeys(f)
      expect(k?.getFingerprint()).toBe(alice.getFingerprint())
    }
  })
  it('rejects what is not a key (OX-KEY)', async () => {
    expect(await errorOf(readOxKeys('not a key at all!'))).toMatchObject({
      name: 'InvalidKeyIdError',
      rule: 'OX-KEY',
    })
    expect(await errorOf(readOxKeys(new Uint8Array([1, 2, 3])))).toMatchObject({
      name: 'InvalidKeyIdError',
      rule: 'OX-KEY',
    })
  })
  it("rejects a key without the owner's xmpp: user id (OX-UID)", async () => {
    const { ox } = backendFor(BOB)
    await ox.generateOwnKey()
    expect(await errorOf(ox.importPublicKey(ALICE, mallory.toPublic().write()))).toMatchObject({
      name: 'InvalidKeyIdError',
      rule: 'OX-UID',
    })
    const { privateKey: emailOnly } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Alice', email: 'alice@example.org' }],
      format: 'object',
    })
    expect(await errorOf(ox.importPublicKey(ALICE, emailOnly.toPublic().write()))).toMatchObject({
      rule: 'OX-UID',
    })
  })
  it('stores a contact key once and reports it with its id', async () => {
    const { ox } = backendFor(BOB)
    const [r] = await ox.importPublicKey(ALICE, alice.toPublic().armor())
    expect(r).toMatchObject({ owner: ALICE, change: 'added', status: { usable: true } })
    expect(r?.info.keyId).toBe(keyIdOf(alice))
    expect(r?.info.secret).toBe(false)
    const [again] = await ox.importPublicKey(ALICE, alice.toPublic().write())
    expect(again?.change).toBe('unchanged')
    expect(await ox.keysOf(ALICE)).toEqual([keyIdOf(alice)])
  })
})

describe('minimal export (only the xmpp: user id, no third-party signatures)', () => {
  it('drops other user ids and third-party certifications', async () => {
    const { privateKey: multi } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: `xmpp:${ALICE}` }, { name: 'Alice', email: 'alice@mail.example' }],
      format: 'object',
    })
    const certified = await multi.toPublic().signAllUsers([mallory])
    expect(certified.users.some((u) => u.otherCertifications.length > 0)).toBe(true)
    const minimal = minimalPublicKey(certified, ALICE)
    const reread = await openpgp.readKey({ binaryKey: minimal.write() })
    expect(reread.getUserIDs()).toEqual([`xmpp:${ALICE}`])
    expect(reread.users.every((u) => u.otherCertifications.length === 0)).toBe(true)
    expect(reread.subkeys).toHaveLength(1)
    expect(await keyStatus(reread, ALICE)).toEqual({ usable: true })
    expect(reread.isPrivate()).toBe(false)
  })
  it('our exported key is public, minimal and usable', async () => {
    const { ox } = backendFor(ALICE)
    await ox.importOwnKey(alice)
    const exported = await openpgp.readKey({ binaryKey: await ox.exportPublicKey() })
    expect(exported.isPrivate()).toBe(false)
    expect(exported.getFingerprint()).toBe(alice.getFingerprint())
    expect((await ox.exportArmoredPublicKey()).startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----')).toBe(true)
    expect((await ox.publicKeyElement()).name).toBe('pubkey')
  })
})

describe('lookup rules (not revoked, not expired, encryption subkey, xmpp: user id)', () => {
  it('a revoked key is not usable', async () => {
    const { publicKey } = await openpgp.revokeKey({ key: bob, format: 'object' })
    expect(await keyStatus(publicKey, BOB)).toMatchObject({ usable: false, reason: 'revoked' })
  })
  it('an expired key is not usable', async () => {
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: `xmpp:${BOB}` }],
      keyExpirationTime: 60,
      date: new Date(Date.now() - 3600_000),
      format: 'object',
    })
    expect(await keyStatus(privateKey, BOB)).toMatchObject({ usable: false, reason: 'expired' })
  })
  it('a key without an encryption-capable subkey is not usable', async () => {
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: `xmpp:${BOB}` }],
      subkeys: [{ sign: true }],
      format: 'object',
    })
    expect(await keyStatus(privateKey, BOB)).toMatchObject({ usable: false, reason: 'no-encryption-key' })
  })
  it('a key is usable only for the JID of its xmpp: user id', async () => {
    expect(await keyStatus(bob, ALICE)).toMatchObject({ usable: false, reason: 'no-xmpp-user-id' })
  })
  it('a v6 key is not an OX key', async () => {
    const { privateKey } = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ name: `xmpp:${BOB}` }],
      format: 'object',
      config: { v6Keys: true },
    })
    expect(await keyStatus(privateKey, BOB)).toMatchObject({ usable: false, reason: 'not-v4' })
  })
})

describe('updates are merged (key.update): revocations stick', () => {
  it('a revocation update makes the key unusable, and an older copy does not bring it back', async () => {
    const { ox } = backendFor(ALICE)
    await ox.importOwnKey(alice)
    await ox.importPublicKey(BOB, bob.toPublic().write())
    expect(await ox.keysOf(BOB)).toEqual([keyIdOf(bob)])
    const { publicKey: revoked } = await openpgp.revokeKey({ key: bob, format: 'object' })
    const [upd] = await ox.importPublicKey(BOB, revoked.write())
    expect(upd).toMatchObject({ change: 'updated', status: { usable: false, reason: 'revoked' } })
    expect(await ox.keysOf(BOB)).toEqual([])
    const [old] = await ox.importPublicKey(BOB, bob.toPublic().write())
    expect(old).toMatchObject({ change: 'unchanged', status: { usable: false, reason: 'revoked' } })
    expect(await ox.keysOf(BOB)).toEqual([])
    expect((await ox.knownKeys(BOB))[0]?.status).toMatchObject({ usable: false, reason: 'revoked' })
  })
})

describe('no trust level from the backend (ATM is the only writer of trust, D-11)', () => {
  // TOAKAFA (automatically trusted until the owner's first authentication, then automatically
  // distrusted; 'authenticated-only'; the store's per-encryption policy) lives in ATM's
  // keysDiscovered: packages/atm/test/toakafa.test.ts
  it('an import stores the key material and reports its id, and writes no trust record', async () => {
    const { ox, store } = backendFor(ALICE)
    const [r] = await ox.importPublicKey(BOB, bob.toPublic().write())
    expect(r).toMatchObject({ owner: BOB, change: 'added', status: { usable: true } })
    expect(r?.info.keyId).toBe(keyIdOf(bob))
    expect(r).not.toHaveProperty('level')
    expect(await store.getKeys(NS_OX)).toEqual([])
    expect(await store.getTrustLevel(NS_OX, BOB, keyIdOf(bob))).toBe('undecided')
    // keysOf comes from the key material: the binding knows a key of bob's before ATM ran
    expect(await ox.keysOf(BOB)).toEqual([keyIdOf(bob)])
  })
  it('an unregistered key is never encrypted to (its level is undecided until ATM registers it)', async () => {
    const { ox, store } = backendFor(ALICE)
    await ox.importOwnKey(alice)
    await ox.importPublicKey(BOB, bob.toPublic().write())
    expect(await errorOf(ox.encrypt(parseXml("<body xmlns='jabber:client'>x</body>"), [BOB]))).toMatchObject({
      name: 'UntrustedKeyError',
    })
    await store.addKeys(
      NS_OX,
      BOB,
      [keyIdOf(bob)],
      { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
      'automatically-trusted',
    )
    const sent = await ox.encrypt(parseXml("<body xmlns='jabber:client'>x</body>"), [BOB])
    expect(sent.recipients.map((k) => k.keyId)).toContain(keyIdOf(bob))
  })
  it('re-importing leaves every level as it is (an authenticated key stays authenticated)', async () => {
    const { ox, store } = backendFor(ALICE)
    await ox.importPublicKey(BOB, bob.toPublic().write())
    await store.setTrustLevels(NS_OX, [{ owner: BOB, keyIds: [keyIdOf(bob)], level: 'authenticated' }], {
      provenance: { kind: 'manual' },
      at: Date.now(),
    })
    const second = await generateOxKey(BOB)
    await ox.importPublicKey(BOB, second.toPublic().write())
    await ox.importPublicKey(BOB, bob.toPublic().write())
    expect(await store.getTrustLevel(NS_OX, BOB, keyIdOf(bob))).toBe('authenticated')
    expect(await store.getTrustLevel(NS_OX, BOB, keyIdOf(second))).toBe('undecided')
    expect([...(await ox.keysOf(BOB))].sort()).toEqual([keyIdOf(bob), keyIdOf(second)].sort())
  })
  it('an unusable (revoked) key is reported unusable and left out of keysOf', async () => {
    const { ox } = backendFor(ALICE)
    const { publicKey } = await openpgp.revokeKey({ key: bob, format: 'object' })
    const [r] = await ox.importPublicKey(BOB, publicKey.write())
    expect(r?.status).toMatchObject({ usable: false, reason: 'revoked' })
    expect(await ox.keysOf(BOB)).toEqual([])
  })
  it('our own key is the store own key, and never needs a trust level', async () => {
    const { ox, store } = backendFor(ALICE)
    const info = await ox.importOwnKey(alice)
    expect(await store.getOwnKey(NS_OX)).toBe(info.keyId)
    expect(await ox.ownKeys()).toEqual([info.keyId])
    expect(await errorOf(ox.generateOwnKey())).toMatchObject({
      name: 'InvalidKeyIdError',
      rule: 'OX-OWN-KEY',
    })
    expect(await errorOf(ox.importOwnKey(bob))).toMatchObject({ rule: 'OX-UID' })
  })
})
