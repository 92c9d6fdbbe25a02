/**
 * Issue 13 point 5 and 6 on the offline commands (in process): one line naming the rule and what
 * to do, exit 2, never a stack-level word; `--to` takes one JID per flag, so a following FILE
 * stays a file; a failing command leaves no new data directory; `ox backup` keeps the code apart
 * from the data to publish.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { vouch } from './helpers.ts'

const root = mkdtempSync(join(tmpdir(), 'vouch-errors-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const ALICE = 'alice@example.org'
const lines = (s: string): string[] => s.trim().split('\n')

describe('clear errors (exit 2, one line: rule, contact, what to do)', () => {
  it('INPUT: a missing input file is named, not a raw ENOENT', async () => {
    const r = await vouch(['tm', 'parse', join(root, 'nope.xml')])
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toEqual([
      `INPUT: there is no file ${join(root, 'nope.xml')}: give an existing file, or - for standard input`,
    ])
    expect(r.stderr).not.toMatch(/ENOENT/)
  })

  it('OX-OWN-KEY: a second keygen names the flag (--replace) to use', async () => {
    const data = join(root, 'keygen')
    expect((await vouch(['ox', 'keygen', '--data', data, '--jid', ALICE])).code).toBe(0)
    const r = await vouch(['ox', 'keygen', '--data', data, '--jid', ALICE])
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toEqual([
      `OX-OWN-KEY: ${ALICE} already has an OX key: vouch ox keygen --replace to replace it`,
    ])
  })

  it('TM-15: ox encrypt to a contact without a key names the contact and what to do', async () => {
    const data = join(root, 'encrypt')
    await vouch(['ox', 'keygen', '--data', data, '--jid', ALICE])
    const r = await vouch(['ox', 'encrypt', '--data', data, '--jid', ALICE, '--to', 'bob@example.com'], 'hi')
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toMatch(/^TM-15: no key of bob@example\.com .*vouch ox import --owner bob@example\.com/)
    expect(r.stderr).not.toMatch(/key {2}of/)
  })

  it('--to JID FILE: the file is the payload, not a second recipient', async () => {
    const data = join(root, 'to-file')
    await vouch(['ox', 'keygen', '--data', data, '--jid', ALICE])
    const file = join(root, 'payload.txt')
    writeFileSync(file, 'from a file')
    // to ourselves: our own key is there, so only the argument parsing decides the outcome
    const r = await vouch(['ox', 'encrypt', '--data', data, '--jid', ALICE, '--to', ALICE, file])
    expect(r.code, r.stderr).toBe(0)
    const dec = await vouch(
      ['ox', 'decrypt', '--data', data, '--jid', ALICE, '--from', ALICE, '--to', ALICE],
      r.stdout,
    )
    expect(dec.code, dec.stderr).toBe(0)
    expect(dec.stdout).toContain('from a file')
  })

  it('a failing command leaves no new data directory behind', async () => {
    const data = join(root, 'never')
    const r = await vouch(['ox', 'export', '--data', data, '--jid', ALICE])
    expect(r.code).toBe(2)
    expect(existsSync(data)).toBe(false)
  })
})

describe('secrets: ox backup prints the code apart from the data to publish', () => {
  it('the <secretkey/> payload on stdout, the code on stderr only', async () => {
    const data = join(root, 'backup')
    await vouch(['ox', 'keygen', '--data', data, '--jid', ALICE])
    const r = await vouch(['ox', 'backup', '--data', data, '--jid', ALICE])
    expect(r.code).toBe(0)
    expect(lines(r.stdout)).toEqual([expect.stringMatching(/^<secretkey xmlns="urn:xmpp:openpgp:0">/)])
    const code = /([1-9A-NP-Z]{4}(-[1-9A-NP-Z]{4}){5})/.exec(r.stderr)?.[1]
    expect(code).toBeDefined()
    expect(r.stdout).not.toContain(code as string)
  })

  it('--code-file writes the code to a file of mode 0600, nothing on the terminal', async () => {
    const data = join(root, 'backup2')
    await vouch(['ox', 'keygen', '--data', data, '--jid', ALICE])
    const file = join(root, 'code.txt')
    const r = await vouch(['ox', 'backup', '--data', data, '--jid', ALICE, '--code-file', file])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const code = readFileSync(file, 'utf8').trim()
    expect(code).toMatch(/^([1-9A-NP-Z]{4}-){5}[1-9A-NP-Z]{4}$/)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(r.stdout).not.toContain(code)
    // and the two together restore the key
    const back = await vouch(
      ['ox', 'restore', '-', '--code', code, '--data', join(root, 'restored'), '--jid', ALICE],
      r.stdout,
    )
    expect(back.code, back.stderr).toBe(0)
  })
})
