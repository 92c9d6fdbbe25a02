/**
 * Two people on one machine (separate --data directories) set up accounts on a test Prosody
 * with `vouch account register`, authenticate each other by Trust Message URI (`vouch uri
 * show` → `vouch uri use`) and chat encrypted (OX) through the CLI.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import {
  PROSODY_INSTALL_HINT,
  type ProsodyServer,
  prosodyInstalled,
  startProsody,
} from '@vouch/prosody-tooling'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerOnlineCommands } from '../src/commands/online.ts'
import { registerUriCommands } from '../src/commands/uri.ts'
import { reportError } from '../src/io.ts'

const SKIP = !prosodyInstalled() && process.env.CI === undefined

async function vouch(
  argv: readonly string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const output = {
    out: (t: string) => {
      stdout += `${t}
`
    },
    err: (t: string) => {
      stderr += `${t}
`
    },
  }
  const ctx = { output, stdin: Readable.from([stdin]) }
  const program = new Command('vouch').exitOverride()
  registerUriCommands(program, ctx)
  registerOnlineCommands(program, ctx)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return { code: 0, stdout, stderr }
  } catch (e) {
    return { code: reportError(e, output), stdout, stderr }
  }
}

describe.skipIf(SKIP)('vouch online commands over Prosody', { timeout: 60_000 }, () => {
  let server: ProsodyServer
  let alice: string
  let bob: string
  beforeAll(async () => {
    if (!prosodyInstalled()) throw new Error(PROSODY_INSTALL_HINT)
    server = await startProsody()
    alice = await mkdtemp(join(tmpdir(), 'vouch-alice-'))
    bob = await mkdtemp(join(tmpdir(), 'vouch-bob-'))
  })
  afterAll(async () => {
    await server?.stop()
    for (const d of [alice, bob]) if (d !== undefined) await rm(d, { recursive: true, force: true })
  })

  it('XEP-0077 + XEP-0450: two people register, authenticate each other by URI and chat encrypted', async () => {
    const svc = ['--service', server.service, '--password', 'pw-1234']
    const ra = await vouch(['account', 'register', 'alice@localhost', ...svc, '--data', alice, '--json'])
    expect(ra.stderr).toBe('')
    expect(JSON.parse(ra.stdout)).toMatchObject({ jid: 'alice@localhost', registered: true })
    expect((await vouch(['account', 'register', 'bob@localhost', ...svc, '--data', bob])).code).toBe(0)

    const aliceUri = JSON.parse((await vouch(['uri', 'show', '--data', alice, '--json'])).stdout)
      .uri as string
    const bobUri = JSON.parse((await vouch(['uri', 'show', '--data', bob, '--json'])).stdout).uri as string
    expect(bobUri).toMatch(
      /^xmpp:bob@localhost\?trust-message;encryption=urn:xmpp:openpgp:0;trust=[0-9a-f]{40}$/,
    )

    // URI-4: a "no" on the terminal changes nothing
    const denied = await vouch(['uri', 'use', bobUri, '--data', alice], 'n\n')
    expect(denied.code).toBe(2)
    expect(denied.stderr).toMatch(/Confirm\?/)
    const used = await vouch(['uri', 'use', bobUri, '--data', alice], 'y\n')
    expect(used.code).toBe(0)
    expect(used.stdout).toMatch(/bob@localhost [0-9A-F]{40} authenticated/)
    expect((await vouch(['uri', 'use', aliceUri, '--data', bob, '--yes'])).code).toBe(0)

    const list = JSON.parse(
      (await vouch(['trust', 'list', 'bob@localhost', '--data', alice, '--json'])).stdout,
    )
    expect(list).toEqual([expect.objectContaining({ owner: 'bob@localhost', level: 'authenticated' })])

    expect((await vouch(['chat', 'send', 'bob@localhost', 'hello bob', '--data', alice])).code).toBe(0)
    const heard = await vouch(['chat', 'listen', '--count', '1', '--timeout', '20', '--data', bob, '--json'])
    expect(JSON.parse(heard.stdout.trim())).toMatchObject({ body: 'hello bob', trust: 'authenticated' })
  })

  it('a server that cannot be reached gives one clear line and exit code 1', async () => {
    const r = await vouch([
      'account',
      'add',
      'carol@localhost',
      '--service',
      'xmpp://127.0.0.1:1',
      '--password',
      'x',
      '--data',
      alice,
    ])
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^ServerUnreachableError: cannot reach the XMPP server/)
  })

  it('bad input names the rule: a full JID for an account is exit 2', async () => {
    const r = await vouch(['chat', 'send', 'bob@localhost/x', 'hi', '--data', alice])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^CHAT: /)
  })
})
