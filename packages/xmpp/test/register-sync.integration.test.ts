/**
 * Regression: `vouch account register` hung about one run in four. After XEP-0077 registration
 * and binding, the session start raced stream management's `<enabled/>`; the client then
 * acknowledged fewer stanzas than before, Prosody closed the stream, the reconnect tried to
 * register again (conflict) and `synced()` waited forever. Each cycle here must settle, and
 * resolve, within a bound.
 */
import type { ProsodyServer } from '@vouch/prosody-tooling'
import { sqliteStore } from '@vouch/store-sqlite'
import type { BareJid } from '@vouch/tm-core'
import { oxBackend } from '@vouch/backend-ox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { vouchXmpp } from '../src/binding.ts'
import { createClient, startClient, stopClient } from '../src/connect.ts'
import { oxKeyDirectory } from '@vouch/backend-ox/pep'
import { eventually, PASSWORD, SKIP_INTEGRATION, startTestServer } from './helpers.ts'

const CYCLES = 20
const CYCLE_BOUND_MS = 10_000

async function registerAndSync(server: ProsodyServer, user: string) {
  const jid = `${user}@${server.domain}` as BareJid
  const trustStore = await sqliteStore({ database: ':memory:' })
  const store = trustStore.forAccount(jid)
  const ox = oxBackend()({ store })
  await ox.generateOwnKey()
  const xmpp = createClient({
    service: server.service,
    jid,
    password: PASSWORD,
    resource: 'vouch',
    register: true,
  })
  const vouch = vouchXmpp(xmpp, { store, backends: [ox], keyDirectories: [oxKeyDirectory(ox)] })
  const started = Date.now()
  const synced = vouch.synced({ timeoutMs: CYCLE_BOUND_MS })
  await startClient(xmpp, { timeoutMs: CYCLE_BOUND_MS })
  await synced
  return {
    xmpp,
    elapsed: Date.now() - started,
    async stop() {
      vouch.close()
      await stopClient(xmpp)
      await trustStore.close()
    },
  }
}

describe.skipIf(SKIP_INTEGRATION)(
  'XEP-0077 registration, then the session start',
  { timeout: 120_000 },
  () => {
    let server: ProsodyServer
    beforeAll(async () => {
      server = await startTestServer()
    })
    afterAll(async () => {
      await server?.stop()
    })

    it(`${CYCLES} register + connect + synced cycles all resolve within ${CYCLE_BOUND_MS} ms each`, async () => {
      const outcomes: string[] = []
      for (let i = 0; i < CYCLES; i++) {
        const outcome = await registerAndSync(server, `cycle${i}`).then(
          async (s) => {
            await s.stop()
            return s.elapsed <= CYCLE_BOUND_MS ? 'ok' : `slow ${s.elapsed} ms`
          },
          (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`,
        )
        outcomes.push(outcome)
      }
      expect(outcomes).toEqual(Array.from({ length: CYCLES }, () => 'ok'))
      // XEP-0198: our <a h/> never went down
      expect(await server.log()).not.toMatch(/acknowledged less stanzas/)
    })

    it('a registered client that loses its connection logs in again without registering twice', async () => {
      const s = await registerAndSync(server, 'dropped')
      try {
        ;(s.xmpp as unknown as { socket: { destroy(): void } }).socket.destroy()
        await eventually(() => s.xmpp.status !== 'online', 5000, 'the drop')
        await eventually(() => s.xmpp.status === 'online', 15_000, 'back online')
        expect(await server.log()).not.toMatch(/Attempt to register with existing username/)
      } finally {
        await s.stop()
      }
    })
  },
)
