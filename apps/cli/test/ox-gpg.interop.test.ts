/**
 * The README walk-through "Exchange OX messages with a GnuPG user" run for real: Alice uses the
 * `vouch ox` CLI on a data directory, Bob uses plain `gpg` (a temporary GNUPGHOME). Each step is
 * the command the README shows. A missing gpg fails in CI and skips visibly elsewhere.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { vouch } from './helpers.ts'

const gpgInstalled = spawnSync('gpg', ['--version']).status === 0
const SKIP = !gpgInstalled && !process.env.CI

describe.skipIf(SKIP)('README: exchange OX messages with a GnuPG user through the CLI', () => {
  let dir: string
  let gnupg: string
  let data: string
  let bobFpr: string
  const gpg = (args: readonly string[], input?: string | Buffer) => {
    const r = spawnSync(
      'gpg',
      ['--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
      {
        input,
        env: { ...process.env, GNUPGHOME: gnupg, LC_ALL: 'C' },
        timeout: 60_000,
      },
    )
    if (r.status !== 0) throw new Error(`gpg ${args.join(' ')}: ${r.stderr.toString()}`)
    return r.stdout
  }

  /** Bob's side: sign and encrypt an XEP-0373 content element for Alice, as `gpg` does it. */
  const sealForAlice = (name: string, content: string): string => {
    writeFileSync(join(dir, name), content)
    const sealed = gpg([
      '--trust-model',
      'always',
      '--sign',
      '--encrypt',
      '-u',
      bobFpr,
      '-r',
      'xmpp:alice@example.org',
      '--output',
      '-',
      join(dir, name),
    ])
    return `<openpgp xmlns='urn:xmpp:openpgp:0'>${sealed.toString('base64')}</openpgp>`
  }
  /** Alice's side: `vouch ox decrypt` of an element Bob's endpoint sent her. */
  const decryptAsAlice = (element: string, extra: readonly string[] = []) =>
    vouch(
      [
        'ox',
        'decrypt',
        '-',
        '--from',
        'bob@example.org/laptop',
        '--to',
        'alice@example.org',
        '--data',
        data,
        '--jid',
        'alice@example.org',
        ...extra,
      ],
      element,
    )
  const stampNow = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vouch-ox-readme-'))
    gnupg = join(dir, 'gnupg')
    data = join(dir, 'alice')
    spawnSync('mkdir', ['-m', '700', gnupg])
    // Bob's key, the way a GnuPG user makes an XEP-0373 key: user id xmpp:<jid>
    gpg(['--quick-gen-key', 'xmpp:bob@example.org', 'ed25519', 'sign', 'never'])
    const colons = gpg(['--with-colons', '--list-keys', 'xmpp:bob@example.org']).toString()
    bobFpr = /^fpr:+([0-9A-F]{40}):/m.exec(colons)?.[1] ?? ''
    gpg(['--quick-add-key', bobFpr, 'cv25519', 'encr', 'never'])
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('XEP-0373 keys: vouch ox keygen, export → gpg --import; gpg --export → vouch ox import', async () => {
    const keygen = await vouch(['ox', 'keygen', '--data', data, '--jid', 'alice@example.org', '--json'])
    expect(keygen.code).toBe(0)
    const aliceFpr = JSON.parse(keygen.stdout).fingerprint as string
    expect(aliceFpr).toMatch(/^[0-9A-F]{40}$/)

    const exported = await vouch(['ox', 'export', '--data', data, '--jid', 'alice@example.org'])
    expect(exported.stdout).toContain('BEGIN PGP PUBLIC KEY BLOCK')
    gpg(['--import'], exported.stdout)
    expect(gpg(['--list-keys', aliceFpr]).toString()).toContain('xmpp:alice@example.org')

    const bobKey = gpg(['--armor', '--export', bobFpr]).toString()
    const imported = await vouch(
      [
        'ox',
        'import',
        '-',
        '--owner',
        'bob@example.org',
        '--data',
        data,
        '--jid',
        'alice@example.org',
        '--json',
      ],
      bobKey,
    )
    expect(imported.code).toBe(0)
    expect(imported.stdout).toContain(bobFpr)
  })

  it('XEP-0374 <signcrypt/>: Alice → Bob, vouch ox encrypt → gpg --decrypt', async () => {
    const enc = await vouch(
      ['ox', 'encrypt', '-', '--to', 'bob@example.org', '--data', data, '--jid', 'alice@example.org'],
      'Hello Bob, from the vouch CLI',
    )
    expect(enc.stderr).toBe('')
    expect(enc.code).toBe(0)
    const b64 = /<openpgp xmlns="urn:xmpp:openpgp:0">([A-Za-z0-9+/=]+)<\/openpgp>/.exec(enc.stdout)?.[1]
    expect(b64).toBeDefined()
    const plain = gpg(['--decrypt'], Buffer.from(b64 ?? '', 'base64')).toString()
    expect(plain).toMatch(/^<signcrypt xmlns=["']urn:xmpp:openpgp:0["']>/)
    expect(plain).toContain('<to jid="bob@example.org"/>')
    expect(plain).toContain('Hello Bob, from the vouch CLI')
  })

  it('XEP-0374 <signcrypt/>: Bob → Alice, gpg --sign --encrypt → vouch ox decrypt', async () => {
    const element = sealForAlice(
      'signcrypt.xml',
      `<signcrypt xmlns='urn:xmpp:openpgp:0'><to jid='alice@example.org'/><time stamp='${stampNow()}'/><rpad>abc</rpad><payload><body xmlns='jabber:client'>Hi Alice, from gpg</body></payload></signcrypt>`,
    )
    const dec = await decryptAsAlice(element, ['--json'])
    expect(dec.stderr).toBe('')
    expect(dec.code).toBe(0)
    const json = JSON.parse(dec.stdout)
    expect(JSON.stringify(json)).toContain(bobFpr)
    expect(JSON.stringify(json)).toContain('Hi Alice, from gpg')
  })

  it('OX-TO: a message gpg sealed for someone else is refused with exit 2 and the failed check', async () => {
    const element = sealForAlice(
      'wrong-to.xml',
      `<signcrypt xmlns='urn:xmpp:openpgp:0'><to jid='carol@example.org'/><time stamp='${stampNow()}'/><payload><body xmlns='jabber:client'>not for you</body></payload></signcrypt>`,
    )
    const dec = await decryptAsAlice(element)
    expect(dec.code).toBe(2)
    expect(dec.stdout).toBe('')
    expect(dec.stderr).toMatch(/^OX-TO: /)
  })
})
