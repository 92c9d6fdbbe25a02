/**
 * `vouch ox restore` reads a bare Base64 backup strictly (backend-ox's RFC 4648 decoder): a
 * damaged backup exits 2 with one `OX-BACKUP` line before any decryption is tried, instead of
 * being restored from whatever bytes a lenient decoder kept.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { vouch } from './helpers.ts'

const JID = 'alice@example.org'
const root = mkdtempSync(join(tmpdir(), 'vouch-ox-cli-'))
let dirs = 0
const freshData = (): string => join(root, `data-${++dirs}`)

let code: string
let base64: string
let fingerprint: string
beforeAll(async () => {
  const data = freshData()
  const keygen = await vouch(['ox', 'keygen', '--data', data, '--jid', JID, '--json'])
  expect(keygen.code, keygen.stderr).toBe(0)
  fingerprint = (JSON.parse(keygen.stdout) as { fingerprint: string }).fingerprint
  const backup = await vouch(['ox', 'backup', '--data', data, '--jid', JID, '--json'])
  expect(backup.code, backup.stderr).toBe(0)
  const parsed = JSON.parse(backup.stdout) as { code: string; secretkey: string }
  code = parsed.code
  base64 = /^<secretkey[^>]*>([A-Za-z0-9+/=]+)<\/secretkey>$/.exec(parsed.secretkey)?.[1] ?? ''
  expect(base64.length).toBeGreaterThan(16)
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

const restore = (stdin: string) =>
  vouch(['ox', 'restore', '-', '--code', code, '--data', freshData(), '--jid', JID], stdin)

describe('vouch ox restore: a Base64 backup', () => {
  it('restores the intact backup, also wrapped over several lines (the control)', async () => {
    for (const text of [base64, `${base64.replace(/.{64}/g, '$&\n')}\n`]) {
      const r = await restore(text)
      expect(r, text.slice(0, 20)).toMatchObject({ code: 0, stdout: `${fingerprint}\n`, stderr: '' })
    }
  })

  it('OX-BACKUP: a damaged backup is bad input (exit 2, one line naming the rule), not decrypted', async () => {
    const mid = Math.floor(base64.length / 2)
    const damaged = [
      // characters outside the alphabet, which `Buffer.from(…, 'base64')` silently dropped
      `${base64.slice(0, mid)}!${base64.slice(mid)}`,
      `${base64.slice(0, mid)}*~${base64.slice(mid)}`,
      // the URL-safe alphabet is not RFC 4648 §4 Base64
      base64
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/^[A-Za-z0-9]/, '-'),
      // truncated: no longer a multiple of 4
      base64.slice(0, -1),
      // padding in the middle
      `${base64.slice(0, 8)}==${base64.slice(8)}==`,
    ]
    for (const text of damaged) {
      const r = await restore(text)
      expect(r.code, text).toBe(2)
      expect(r.stdout, text).toBe('')
      // the decoder's message, not the decryption's ("wrong code or damaged backup")
      expect(r.stderr, text).toMatch(/^OX-BACKUP: the backup is not Base64 [^\n]*\n$/)
    }
  })
})

describe('vouch ox import: the level comes from ATM (keysDiscovered), not from the backend', () => {
  it("registers a contact's new key under TOAKAFA (automatically trusted) and encrypts to it", async () => {
    const bobData = freshData()
    const aliceData = freshData()
    const BOB = 'bob@example.org'
    expect((await vouch(['ox', 'keygen', '--data', bobData, '--jid', BOB])).code).toBe(0)
    expect((await vouch(['ox', 'keygen', '--data', aliceData, '--jid', JID])).code).toBe(0)
    const exported = await vouch(['ox', 'export', '--data', bobData, '--jid', BOB])
    const imported = await vouch(
      ['ox', 'import', '-', '--owner', BOB, '--data', aliceData, '--jid', JID, '--json'],
      exported.stdout,
    )
    expect(imported.code, imported.stderr).toBe(0)
    expect(JSON.parse(imported.stdout)).toMatchObject([
      { owner: BOB, change: 'added', usable: true, level: 'automatically-trusted' },
    ])
    const enc = await vouch(['ox', 'encrypt', '-', '--to', BOB, '--data', aliceData, '--jid', JID], 'hi')
    expect(enc.code, enc.stderr).toBe(0)
    // importing again changes nothing: the level stays
    const again = await vouch(
      ['ox', 'import', '-', '--owner', BOB, '--data', aliceData, '--jid', JID, '--json'],
      exported.stdout,
    )
    expect(JSON.parse(again.stdout)).toMatchObject([{ change: 'unchanged', level: 'automatically-trusted' }])
  })
})
