/**
 * `--encryption` and `device enable`: both OMEMO versions on one device are spelled
 * `omemo2,omemo03` (either order, or with `+`); OX combines with nothing (one key per account);
 * anything else is one line, exit 2, and changes no state. `device enable omemo03` is for OMEMO 2
 * devices only (one identity for both versions, D-12).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEncryption } from '../src/online/accounts.ts'
import { vouch } from './helpers.ts'

describe('--encryption', () => {
  it('names one protocol, or both OMEMO versions in either order', () => {
    expect(parseEncryption('omemo2')).toBe('omemo2')
    expect(parseEncryption('ox')).toBe('ox')
    expect(parseEncryption('omemo03')).toBe('omemo03')
    for (const both of ['omemo2,omemo03', 'omemo03,omemo2', 'omemo2+omemo03', 'omemo2, omemo03'])
      expect(parseEncryption(both)).toBe('omemo2,omemo03')
  })

  it('refuses OX combined with anything, unknown names and empty parts', () => {
    for (const bad of ['ox,omemo2', 'omemo03,ox', 'omemo2,omemo2,ox', 'omemo1', '', 'omemo2,', 'OMEMO2'])
      expect(parseEncryption(bad), bad).toBeUndefined()
  })

  it('a bad --encryption is one line, exit 2, and leaves no data directory behind', async () => {
    const dir = join(tmpdir(), `vouch-enc-${process.pid}`)
    const r = await vouch([
      'account',
      'add',
      'alice@localhost',
      '--service',
      'xmpp://127.0.0.1:1',
      '--encryption',
      'ox,omemo2',
      '--data',
      dir,
    ])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('omemo2,omemo03')
    expect(r.stdout).toBe('')
    expect(existsSync(dir)).toBe(false)
  })
})

describe('device enable', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-enable-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('takes omemo03 only', async () => {
    const r = await vouch(['device', 'enable', 'omemo2', '--data', dir])
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^DEVICE: device enable takes omemo03/)
  })

  it('D-12: only beside OMEMO 2 (one identity for both versions): an OX account is refused offline, unchanged', async () => {
    const accounts = `${JSON.stringify([{ jid: 'ann@localhost', service: 'xmpp://127.0.0.1:1', resource: 'x', encryption: 'ox' }])}\n`
    await writeFile(join(dir, 'accounts.json'), accounts)
    const r = await vouch(['device', 'enable', 'omemo03', '--data', dir])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(
      /^DEVICE: ann@localhost here is on OX: OMEMO 0\.3 can be enabled beside OMEMO 2 only/,
    )
    expect(await readFile(join(dir, 'accounts.json'), 'utf8')).toBe(accounts)
  })
})
