/**
 * XEP-0373 v0.7.0 §5: secret key backup. The code: 24 characters of
 * 123456789ABCDEFGHIJKLMNPQRSTUVWXYZ in groups of four, from a CSPRNG; the password is the code
 * exactly as shown (dashes included) and is never normalised.
 */
import { memoryStore } from '@vouch/store-memory'
import * as openpgp from 'openpgp'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  BACKUP_CODE_ALPHABET,
  decryptBackup,
  generateBackupCode,
  isBackupCode,
  oxBackend,
} from '../src/index.ts'
import { ALICE, BOB, type Party, party, rejectionOf } from './helpers.ts'

let alice: Party
beforeAll(async () => {
  alice = await party(ALICE)
})

describe('backup code', () => {
  it('has the XEP format and alphabet (no 0, no O)', () => {
    for (let i = 0; i < 50; i++) {
      const code = generateBackupCode()
      expect(code).toMatch(/^[1-9A-NP-Z]{4}(-[1-9A-NP-Z]{4}){5}$/)
      expect(isBackupCode(code)).toBe(true)
    }
    expect(BACKUP_CODE_ALPHABET).toHaveLength(34)
    expect(isBackupCode('0000-AAAA-AAAA-AAAA-AAAA-AAAA')).toBe(false)
    expect(isBackupCode('AAAAAAAAAAAAAAAAAAAAAAAA')).toBe(false)
  })
  it('uses every character and only rejection-sampled bytes (no modulo bias)', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) for (const c of generateBackupCode().replaceAll('-', '')) seen.add(c)
    expect(seen.size).toBe(34)
    // bytes 238..255 are dropped: all-255 randomness never produces a character, 0 gives '1'
    let calls = 0
    const code = generateBackupCode((n) => (calls++ === 0 ? new Uint8Array(n).fill(255) : new Uint8Array(n)))
    expect(code).toBe('1111-1111-1111-1111-1111-1111')
    expect(calls).toBe(2)
  })
  it('two codes differ', () => {
    expect(generateBackupCode()).not.toBe(generateBackupCode())
  })
})

describe('backup and restore', () => {
  it('restores our key on another device with the code as shown', async () => {
    const backup = await alice.ox.createBackup()
    expect(backup.element.name).toBe('secretkey')
    const store = memoryStore().forAccount(ALICE)
    const other = oxBackend()({ store })
    const info = await other.restoreBackup(backup.element, backup.code)
    expect(info.keyId).toBe((await alice.ox.ownKeys())[0])
    expect(await other.ownKeys()).toEqual(await alice.ox.ownKeys())
  })
  it('is an SKESK-encrypted message of unprotected transferable secret keys', async () => {
    const backup = await alice.ox.createBackup({ code: 'TEST-CODE-1234-5678-9ABC-DEFG' })
    const m = await openpgp.readMessage({ binaryMessage: backup.bytes })
    expect(m.packets.some((p) => p instanceof openpgp.SymEncryptedSessionKeyPacket)).toBe(true)
    expect(m.packets.some((p) => p instanceof openpgp.PublicKeyEncryptedSessionKeyPacket)).toBe(false)
    const keys = await decryptBackup(backup.bytes, backup.code)
    expect(keys).toHaveLength(1)
    expect(keys[0]?.isDecrypted()).toBe(true)
  })
  it('never normalises the code: without dashes or in lower case it does not open', async () => {
    const backup = await alice.ox.createBackup()
    for (const variant of [backup.code.replaceAll('-', ''), backup.code.toLowerCase(), ` ${backup.code}`])
      expect(await rejectionOf(decryptBackup(backup.bytes, variant))).toMatchObject({
        name: 'DecryptionError',
        rule: 'OX-BACKUP',
      })
  })
  it("refuses a backup without a key for this account's JID", async () => {
    const backup = await alice.ox.createBackup()
    const bobSide = oxBackend()({ store: memoryStore().forAccount(BOB) })
    expect(await rejectionOf(bobSide.restoreBackup(backup.bytes, backup.code))).toMatchObject({
      name: 'InvalidKeyIdError',
      rule: 'OX-UID',
    })
  })
})
