/**
 * OMEMO 0.3 through the CLI only (spawned `vouch` processes, one data directory per device)
 * against a throwaway Prosody, with the optional GPL-3.0 plugin `@vouch/backend-omemo-legacy`
 * (a devDependency here; an optional peer dependency of the CLI, loaded by dynamic import):
 * Alice and Bob register on `--encryption omemo03`, Alice scans Bob's Trust Message URI, Bob
 * scans Alice's Conversations fingerprint code (`xmpp:JID?omemo-sid-…`), both see the other's
 * key authenticated (URI-4 / XEP-0450), and a chat goes both ways (the first message is an
 * OMEMO 0.3 key exchange). Skipped visibly without Prosody outside CI.
 */
import { mkdtemp, rm } from 'node:fs/promises'
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
if (SKIP) console.info(`omemo03.integration.test.ts skipped: ${PROSODY_INSTALL_HINT}`)

const PASSWORD = 'legacy-1234'

// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON output, checked field by field with expect
type Out = any

describe.skipIf(SKIP)('OMEMO 0.3 plugin over Prosody (spawned vouch processes)', { timeout: 60_000 }, () => {
  let server: ProsodyServer
  let root: string
  beforeAll(async () => {
    if (!prosodyInstalled()) throw new Error(PROSODY_INSTALL_HINT)
    server = await startProsody()
    root = await mkdtemp(join(tmpdir(), 'vouch-omemo03-'))
  })
  afterAll(async () => {
    await server?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  async function on(device: string, ...argv: string[]): Promise<string> {
    const r = await vouchProcess([...argv, '--data', join(root, device)], {
      env: { VOUCH_PASSWORD: PASSWORD },
    })
    if (r.code !== 0) throw new Error(`${device}: vouch ${argv.join(' ')} → exit ${r.code}: ${r.stderr}`)
    return r.stdout
  }
  const json = async (device: string, ...argv: string[]): Promise<Out> =>
    JSON.parse(await on(device, ...argv, '--json'))
  const listen = async (device: string, count: number): Promise<Out[]> =>
    (await on(device, 'chat', 'listen', '--timeout', '3', '--count', String(count), '--json'))
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l))
      .filter((m) => typeof m.body === 'string')

  it('XEP-0384 v0.3 + XEP-0450: register, scan each other (Trust Message URI and Conversations code), chat both ways', async () => {
    const svc = ['--service', server.service, '--encryption', 'omemo03']
    const alice = 'alice@localhost'
    const bob = 'bob@localhost'
    const a = await json('alice', 'account', 'register', alice, ...svc, '--resource', 'laptop')
    expect(a).toMatchObject({ jid: alice, encryption: 'omemo03', registered: true })
    const b = await json('bob', 'account', 'register', bob, ...svc, '--resource', 'phone')
    expect(b).toMatchObject({ jid: bob, encryption: 'omemo03' })

    const aliceDevices = await json('alice', 'device', 'list')
    expect(aliceDevices[0]).toMatchObject({ key: a.key, level: 'this device' })
    expect(aliceDevices[0].device).toBeGreaterThan(0)

    // Alice scans Bob's Trust Message URI (encryption eu.siacs.conversations.axolotl)
    const bobUri = await json('bob', 'uri', 'show')
    expect(bobUri.uri).toContain('encryption=eu.siacs.conversations.axolotl')
    expect(await on('alice', 'uri', 'use', bobUri.uri, '--yes', '--source', 'scan')).toContain(
      `${bob} ${b.key} authenticated`,
    )
    // Bob scans Alice's Conversations fingerprint code: what a deployed client shows and scans
    const aliceUri = await json('alice', 'uri', 'show')
    expect(aliceUri.fingerprint).toBe(
      `xmpp:${alice}?omemo-sid-${aliceDevices[0].device}=05${String(a.key).toLowerCase()}`,
    )
    expect(await on('bob', 'uri', 'use', aliceUri.fingerprint, '--yes', '--source', 'scan')).toContain(
      `${alice} ${a.key} authenticated`,
    )
    const bobSees = await json('bob', 'trust', 'list', alice)
    expect(bobSees).toEqual([expect.objectContaining({ key: a.key, level: 'authenticated' })])

    // a chat both ways: the first message is a key exchange, the answer rides the session
    await json('alice', 'chat', 'send', bob, 'hello Bob, in OMEMO 0.3')
    const atBob = await listen('bob', 1)
    expect(atBob).toEqual([
      expect.objectContaining({ body: 'hello Bob, in OMEMO 0.3', senderKey: a.key, trust: 'authenticated' }),
    ])
    await json('bob', 'chat', 'send', alice, 'hello Alice')
    const atAlice = await listen('alice', 1)
    expect(atAlice).toEqual([
      expect.objectContaining({ body: 'hello Alice', senderKey: b.key, trust: 'authenticated' }),
    ])
  })
})
