/**
 * The online commands' conventions, through spawned `vouch` processes: one clear line and exit 2
 * for what the user can fix (naming the rule, the contact and what to do), exit 1 for an
 * unreachable server, no data directory left behind by a failed command, `trust list` offline,
 * the password never stored unless asked (README: Security), `uri use` asking again for keys the
 * JID does not publish (URI-4), `chat JID` as a line-based session, `--count` validated.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  PROSODY_INSTALL_HINT,
  type ProsodyServer,
  prosodyInstalled,
  startProsody,
} from '@vouch/prosody-tooling'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { vouchProcess } from './spawn.ts'

const SKIP = !prosodyInstalled() && process.env.CI === undefined
if (SKIP) console.info(`online.integration.test.ts skipped: ${PROSODY_INSTALL_HINT}`)

const PASSWORD = 'pw-1234'
const env = { VOUCH_PASSWORD: PASSWORD }
const oneLine = (s: string): string[] => s.trim().split('\n')

describe.skipIf(SKIP)('vouch online commands over Prosody', { timeout: 120_000 }, () => {
  let server: ProsodyServer
  let root: string
  let alice: string
  let bob: string
  beforeAll(async () => {
    if (!prosodyInstalled()) throw new Error(PROSODY_INSTALL_HINT)
    server = await startProsody()
    root = await mkdtemp(join(tmpdir(), 'vouch-online-'))
    alice = join(root, 'alice')
    bob = join(root, 'bob')
    for (const [who, dir] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      const r = await vouchProcess(
        ['account', 'register', `${who}@localhost`, '--service', server.service, '--data', dir],
        { env },
      )
      expect(r.code, r.stderr).toBe(0)
    }
  })
  afterAll(async () => {
    await server?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  it('secrets: the password is not stored by default, only with --save-password (0600); --password-file is remembered as a path', async () => {
    const stored = JSON.parse(await readFile(join(alice, 'accounts.json'), 'utf8'))
    expect(stored).toEqual([expect.not.objectContaining({ password: expect.anything() })])
    expect(JSON.stringify(stored)).not.toContain(PASSWORD)
    // without the environment variable, no terminal and no file: one line saying what to do
    const none = await vouchProcess(['chat', 'send', 'bob@localhost', 'hi', '--data', alice], {
      env: { VOUCH_PASSWORD: '' },
    })
    expect(none.code).toBe(2)
    expect(oneLine(none.stderr)).toEqual([
      'ACCOUNT: no password for alice@localhost: set VOUCH_PASSWORD, give --password-file FILE, or run on a terminal to be asked',
    ])
    const file = join(root, 'carol.pw')
    await writeFile(file, `${PASSWORD}\n`, { mode: 0o600 })
    const carol = join(root, 'carol')
    const r = await vouchProcess(
      [
        'account',
        'register',
        'carol@localhost',
        '--service',
        server.service,
        '--password-file',
        file,
        '--data',
        carol,
      ],
      { env: { VOUCH_PASSWORD: '' } },
    )
    expect(r.code, r.stderr).toBe(0)
    const rec = JSON.parse(await readFile(join(carol, 'accounts.json'), 'utf8'))[0]
    expect(rec).toMatchObject({ passwordFile: file })
    expect(rec.password).toBeUndefined()
    const dave = join(root, 'dave')
    const saved = await vouchProcess(
      [
        'account',
        'register',
        'dave@localhost',
        '--service',
        server.service,
        '--save-password',
        '--data',
        dave,
      ],
      { env },
    )
    expect(saved.code, saved.stderr).toBe(0)
    expect(JSON.parse(await readFile(join(dave, 'accounts.json'), 'utf8'))[0].password).toBe(PASSWORD)
  })

  it('TM-15: sending to a JID without usable keys is one line naming the rule, the contact and what to do (exit 2)', async () => {
    const r = await vouchProcess(['chat', 'send', 'nobody@localhost', 'hi', '--data', alice], { env })
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toHaveLength(1)
    expect(r.stderr).toMatch(/^TM-15: nobody@localhost has no OMEMO 2 key .*vouch uri use/)
    expect(r.stderr).not.toMatch(/StanzaError|Error:|at /)
  })

  it('URI-4: a key the JID does not publish is refused under --yes and asked about again on a terminal', async () => {
    const fake =
      'xmpp:bob@localhost?trust-message;encryption=urn:xmpp:omemo:2;trust=623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f'
    const scripted = await vouchProcess(['uri', 'use', fake, '--yes', '--data', alice], { env })
    expect(scripted.code).toBe(2)
    expect(scripted.stderr).toMatch(/^URI-4: 623548D3.* is not among the keys bob@localhost publishes/)
    // confirmed once, then the warning asks again: "n" applies nothing
    const asked = await vouchProcess(['uri', 'use', fake, '--data', alice], { env, stdin: 'y\nn\n' })
    expect(asked.code).toBe(2)
    expect(asked.stderr).toMatch(
      /Confirm\? \[y\/N\]\nWARNING: .*not among the keys bob@localhost publishes.*\nApply anyway\? \[y\/N\]/,
    )
    const list = await vouchProcess(['trust', 'list', 'bob@localhost', '--json', '--data', alice])
    expect(JSON.parse(list.stdout).map((k: { level: string }) => k.level)).not.toContain('authenticated')
  })

  it('chat JID: a line-based session; incoming messages show the sender device and its trust level', async () => {
    const bobUri = JSON.parse((await vouchProcess(['uri', 'show', '--json', '--data', bob])).stdout).uri
    const aliceUri = JSON.parse((await vouchProcess(['uri', 'show', '--json', '--data', alice])).stdout).uri
    expect((await vouchProcess(['uri', 'use', bobUri, '--yes', '--data', alice], { env })).code).toBe(0)
    expect((await vouchProcess(['uri', 'use', aliceUri, '--yes', '--data', bob], { env })).code).toBe(0)
    const session = await vouchProcess(['chat', 'bob@localhost', '--data', alice], {
      env,
      stdin: 'hello from the session\n/quit\n',
    })
    expect(session.code, session.stderr).toBe(0)
    expect(session.stdout).toMatch(/^> sent to 1 device of bob@localhost/m)
    const heard = await vouchProcess(['chat', 'listen', '--count', '1', '--timeout', '10', '--data', bob], {
      env,
    })
    expect(heard.code).toBe(0)
    expect(heard.stdout).toMatch(/alice@localhost \(device \d+, authenticated\): hello from the session/)
    expect(heard.stderr.trim(), heard.stdout).toMatch(/^received 1 message\b/)
    // a new device of Alice nobody authenticated: one plain line in Bob's session (TOAKAFA)
    const tablet = await vouchProcess(
      [
        'device',
        'add',
        'alice@localhost',
        '--service',
        server.service,
        '--resource',
        'tablet',
        '--json',
        '--data',
        join(root, 'tablet'),
      ],
      { env },
    )
    expect(tablet.code, tablet.stderr).toBe(0)
    const key = JSON.parse(tablet.stdout).key
    const seen = await vouchProcess(['chat', 'alice@localhost', '--data', bob], { env, stdin: '/quit\n' })
    expect(seen.stdout).toContain(
      `* new device of alice@localhost: key ${key} is automatically-distrusted: not encrypted to until you authenticate it (vouch uri use)`,
    )
  })

  it('trust list works offline from local state (the server is not asked)', async () => {
    const copy = JSON.parse(await readFile(join(alice, 'accounts.json'), 'utf8'))
    copy[0].service = 'xmpp://127.0.0.1:1'
    await writeFile(join(alice, 'accounts.json'), JSON.stringify(copy))
    try {
      const r = await vouchProcess(['trust', 'list', 'bob@localhost', '--data', alice], { env })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^bob@localhost [0-9A-F]{64} authenticated$/m)
    } finally {
      copy[0].service = server.service
      await writeFile(join(alice, 'accounts.json'), JSON.stringify(copy))
    }
  })

  it('a server that cannot be reached gives one clear line and exit code 1, and leaves no data directory', async () => {
    const dir = join(root, 'unreachable')
    const r = await vouchProcess(
      ['account', 'add', 'carol@localhost', '--service', 'xmpp://127.0.0.1:1', '--data', dir],
      { env },
    )
    expect(r.code).toBe(1)
    expect(oneLine(r.stderr)).toHaveLength(1)
    expect(r.stderr).toMatch(/^ServerUnreachableError: cannot reach the XMPP server/)
    expect(existsSync(dir)).toBe(false)
  })

  it('a wrong password is one line (exit 2) and leaves no data directory', async () => {
    const dir = join(root, 'wrong')
    const r = await vouchProcess(
      ['account', 'add', 'bob@localhost', '--service', server.service, '--data', dir],
      {
        env: { VOUCH_PASSWORD: 'not-it' },
      },
    )
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toEqual([
      'ACCOUNT: the server refused the password of bob@localhost (not-authorized): check VOUCH_PASSWORD or the password file',
    ])
    expect(existsSync(dir)).toBe(false)
  })

  it('bad input names the rule: a full JID is exit 2; --count must be a positive integer', async () => {
    const r = await vouchProcess(['chat', 'send', 'bob@localhost/x', 'hi', '--data', alice], { env })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^CHAT: /)
    for (const bad of ['0', '-1', 'x', '1.5']) {
      const c = await vouchProcess(['chat', 'listen', '--count', bad, '--data', alice], { env })
      expect(c.code, bad).toBe(2)
      expect(oneLine(c.stderr), bad).toEqual([expect.stringMatching(/--count must be a positive integer/)])
    }
  })
})
