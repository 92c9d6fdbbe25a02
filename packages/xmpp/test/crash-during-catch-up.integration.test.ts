/**
 * Decrypt and apply commit together (OMEMO 2). Before, the ratchet step committed in its own
 * transaction before the trust message was applied in another: a crash in between lost the
 * decision for good (the archived copy was then refused as `REPLAY`). Now a MAM page is received
 * in one transaction — decryptions, `handleTrustMessages`, processed ids and the archive
 * pointer — so a SIGKILL between a decryption and its apply leaves nothing of the page, and the
 * next catch-up applies every decision.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NS_OMEMO2, omemoBackend } from '@vouch/backend-omemo'
import type { ProsodyServer } from '@vouch/prosody-tooling'
import { sqliteStore } from '@vouch/store-sqlite'
import type { BareJid, KeyId, TrustStore } from '@vouch/tm-core'
import { afterAll, describe, expect, it } from 'vitest'
import { type VouchXmpp, vouchXmpp } from '../src/binding.ts'
import { createClient, startClient, stopClient } from '../src/connect.ts'
import { readOutbox } from '../src/state.ts'
import { omemoKeyDirectory } from '@vouch/backend-omemo/pep'
import { eventually, jidOf, PASSWORD, SKIP_INTEGRATION, startTestServer } from './helpers.ts'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const CHILD = fileURLToPath(new URL('./fixtures/catch-up-child.ts', import.meta.url))

interface Device {
  readonly jid: BareJid
  readonly key: KeyId
  readonly vouch: VouchXmpp
  readonly trustStore: TrustStore
  stop(): Promise<void>
}

async function omemoDevice(server: ProsodyServer, user: string, resource: string, database = ':memory:') {
  const jid = jidOf(server, user)
  const trustStore = await sqliteStore({ database })
  const store = trustStore.forAccount(jid)
  const omemo = omemoBackend()({ store })
  if ((await omemo.ownDeviceId()) === undefined) await omemo.createDevice()
  const xmpp = createClient({ service: server.service, jid, password: PASSWORD, resource })
  const vouch = vouchXmpp(xmpp, { store, backends: [omemo], keyDirectories: [omemoKeyDirectory(omemo)] })
  const synced = vouch.synced()
  await startClient(xmpp)
  await synced
  const device: Device = {
    jid,
    key: (await omemo.ownKeys())[0] as KeyId,
    vouch,
    trustStore,
    async stop() {
      vouch.close()
      await stopClient(xmpp).catch(() => undefined)
      await trustStore.close()
    },
  }
  return device
}

function runChild(args: readonly string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString()
  })
  return new Promise<{ signal: NodeJS.Signals | null; code: number | null; out: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, out })),
  )
}

describe.skipIf(SKIP_INTEGRATION)(
  'SIGKILL between decrypt and apply during a MAM catch-up (OMEMO 2, SQLite file)',
  () => {
    const cleanup: (() => Promise<void>)[] = []
    afterAll(async () => {
      for (const c of cleanup.reverse()) await c().catch(() => undefined)
    })

    it('ATM-R1: no decision is lost and none is refused as REPLAY after the crash', {
      timeout: 120_000,
    }, async () => {
      const server = await startTestServer()
      cleanup.push(() => server.stop())
      await server.register('alice', PASSWORD)
      await server.register('bob', PASSWORD)
      const dir = await mkdtemp(join(tmpdir(), 'vouch-crash-'))
      cleanup.push(() => rm(dir, { recursive: true, force: true }))
      const file = join(dir, 'a2.sqlite')

      const a1 = await omemoDevice(server, 'alice', 'A1')
      cleanup.push(() => a1.stop())
      const b1 = await omemoDevice(server, 'bob', 'B1')
      cleanup.push(() => b1.stop())
      const a2 = await omemoDevice(server, 'alice', 'A2', file)
      // A1 and A2 authenticate each other, so A2 applies A1's decisions (ATM-R1)
      for (const d of [a1, a2]) await d.vouch.refreshKeys(d.jid)
      await a1.vouch.refreshKeys(b1.jid)
      await a1.vouch.authenticate(NS_OMEMO2, a1.jid, [a2.key])
      await a2.vouch.authenticate(NS_OMEMO2, a2.jid, [a1.key])
      await a2.vouch.idle()
      await a2.stop()

      // while A2 is offline, A1 decides five times about Bob's key: five trust messages to A2
      const decisions = ['authenticate', 'distrust', 'authenticate', 'distrust', 'authenticate'] as const
      for (const d of decisions) await a1.vouch[d](NS_OMEMO2, b1.jid, [b1.key])
      const outbox = a1.trustStore.forAccount(a1.jid)
      await eventually(
        async () => (await readOutbox(outbox)).length === 0,
        15_000,
        'A1 to send its trust messages',
      )

      const args = [server.service, a2.jid, file, b1.jid, b1.key]
      const killed = await runChild(args, { KILL_AFTER_DECRYPTS: String(decisions.length) })
      expect(killed.signal).toBe('SIGKILL')

      const after = await runChild(args, {})
      expect(after.code).toBe(0)
      const seen = JSON.parse(after.out.trim()) as { outcomes: string[]; level: string }
      expect(seen.outcomes.filter((o) => o.startsWith('rejected'))).toEqual([])
      expect(seen.outcomes).toHaveLength(decisions.length)
      expect(seen.level).toBe('authenticated')
    })
  },
)
