/**
 * A stale archive pointer never locks an account out. The server lost its archive (here: it
 * was replaced by a fresh one, as after a restart with new data; in real life an archive older
 * than the server keeps): the stored MAM id is unknown to it and `<after/>` answers
 * `item-not-found`. Before, every session start failed with `SyncError` for good. Now the
 * catch-up goes on by time from the last stored stamp and says that history may be incomplete.
 */
import type { ProsodyServer } from '@vouch/prosody-tooling'
import { sqliteStore } from '@vouch/store-sqlite'
import type { TrustStore } from '@vouch/tm-core'
import { afterAll, describe, expect, it } from 'vitest'
import type { ReceivedChat, VouchXmppEvents } from '../src/binding.ts'
import { startClient } from '../src/connect.ts'
import { getLastArchiveId } from '../src/state.ts'
import {
  type Endpoint,
  endpoint,
  eventually,
  PASSWORD,
  SKIP_INTEGRATION,
  startTestServer,
} from './helpers.ts'

describe.skipIf(SKIP_INTEGRATION)(
  'stale archive pointer (XEP-0313 item-not-found)',
  { timeout: 90_000 },
  () => {
    const running: { stop(): Promise<void> }[] = []
    afterAll(async () => {
      for (const r of running.reverse()) await r.stop().catch(() => undefined)
    })

    it('after the server lost its archive, the session starts, catches up by time and reports history-incomplete', async () => {
      // the first server: Alice reads a message, so her store keeps an archive id of it
      const first: ProsodyServer = await startTestServer()
      running.push(first)
      for (const u of ['alice', 'bob']) await first.register(u, PASSWORD)
      const aliceStore: TrustStore = await sqliteStore({ database: ':memory:' })
      const a1 = await endpoint({ server: first, user: 'alice', resource: 'A1', trustStore: aliceStore })
      const b1 = await endpoint({ server: first, user: 'bob', resource: 'B1' })
      await a1.vouch.refreshKeys(b1.jid)
      await b1.vouch.refreshKeys(a1.jid)
      const seen: ReceivedChat[] = []
      a1.vouch.on('message', (m) => seen.push(m))
      await b1.vouch.sendChat(a1.jid, 'before the server lost its data')
      await eventually(() => seen.length === 1, 10_000, 'the first message')
      await a1.vouch.idle()
      const stale = await getLastArchiveId(a1.store)
      expect(stale).toBeDefined()
      await a1.stop()
      await b1.stop()
      await first.stop()

      // the server again, with new data: same accounts, an empty archive
      const second = await startTestServer()
      running.push(second)
      for (const u of ['alice', 'bob']) await second.register(u, PASSWORD)
      const b2 = await endpoint({ server: second, user: 'bob', resource: 'B1' })
      running.push(b2)
      await b2.vouch.refreshKeys(a1.jid).catch(() => undefined) // Alice has not published here yet

      const a2: Endpoint = await endpoint({
        server: second,
        user: 'alice',
        resource: 'A1',
        trustStore: aliceStore,
        start: false,
      })
      running.push(a2)
      const gaps: VouchXmppEvents['history-incomplete'][] = []
      const chats: ReceivedChat[] = []
      a2.vouch.on('history-incomplete', (g) => gaps.push(g))
      a2.vouch.on('message', (m) => chats.push(m))
      const synced = a2.vouch.synced({ timeoutMs: 20_000 })
      await startClient(a2.xmpp)
      await synced // before: SyncError "… item-not-found", at every session start
      expect(gaps).toHaveLength(1)
      expect(gaps[0]?.lostArchiveId).toBe(stale)

      // and it carries on: Bob's message while Alice is offline arrives from the new archive
      await b2.vouch.refreshKeys(a2.jid)
      await a2.stop()
      await b2.vouch.sendChat(a2.jid, 'while Alice was offline')
      const a3 = await endpoint({
        server: second,
        user: 'alice',
        resource: 'A1',
        trustStore: aliceStore,
        start: false,
      })
      running.push(a3)
      const later: ReceivedChat[] = []
      a3.vouch.on('message', (m) => later.push(m))
      const again = a3.vouch.synced({ timeoutMs: 20_000 })
      await startClient(a3.xmpp)
      await again
      await a3.vouch.idle()
      // once: from offline storage (live, our server's <delay/>) or the archive, the other copy a duplicate
      expect(later.map((m) => m.body)).toEqual(['while Alice was offline'])
      expect(await getLastArchiveId(a3.store)).not.toBe(stale)
    })
  },
)
