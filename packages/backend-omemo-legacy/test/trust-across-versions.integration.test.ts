/**
 * Issue 12 points 3 and 6 over a real (loopback) Prosody with `@vouch/xmpp`:
 * - both OMEMO versions on one account: Alice's endpoints A1 and A2 run OMEMO 2
 *   (`@vouch/backend-omemo`) and OMEMO 0.3 (this package) with one device id for both, publish
 *   both device lists, send a chat in OMEMO 2 where every device of the contact has it and in
 *   OMEMO 0.3 otherwise (`chooseChatProtocol`), and decrypt both;
 * - D-12: Carol runs a pure OMEMO 0.3 client (stood in for by a binding with this backend only, no
 *   OMEMO 2). A1 scans Carol's Conversations-style fingerprint code (`@vouch/uri`
 *   `parseScannedUri`); ATM plans the ATM-S1 trust message about Carol's OMEMO 0.3 key over
 *   OMEMO 2 (the body-only protocol cannot carry it); Prosody delivers it to A2, which decrypts it
 *   with OMEMO 2 and authenticates Carol's OMEMO 0.3 key (ATM-R1 under the cross-protocol rule).
 * Skipped visibly without Prosody outside CI.
 */
import { type OmemoBackend, omemoBackend } from '@vouch/backend-omemo'
import { omemoKeyDirectory } from '@vouch/backend-omemo/pep'
import { type ProsodyServer, prosodyInstalled, startProsody } from '@vouch/prosody-tooling'
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, KeyId, KeyRef } from '@vouch/tm-core'
import { keyIdToHex, NS_OMEMO_2 } from '@vouch/tm-core'
import { parseScannedUri } from '@vouch/uri'
import { createClient, type ReceivedChat, startClient, type VouchXmpp, vouchXmpp } from '@vouch/xmpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LegacyOmemoBackend, legacyOmemoBackend } from '../src/backend.ts'
import { legacyOmemoKeyDirectory } from '../src/pep.ts'
import { NODE_DEVICELIST, NS_AXOLOTL, parseDeviceList } from '../src/wire.ts'
import { curve, webCrypto } from './helpers.ts'

const SKIP = !prosodyInstalled() && process.env.CI === undefined
const PASSWORD = 'correct horse battery staple'

interface Ep {
  readonly jid: BareJid
  readonly xmpp: ReturnType<typeof createClient>
  readonly store: AccountTrustStore
  readonly legacy: LegacyOmemoBackend
  readonly omemo2: OmemoBackend | undefined
  readonly vouch: VouchXmpp
  readonly received: ReceivedChat[]
  readonly sentTrust: KeyRef[][]
  stop(): Promise<void>
}

/** An endpoint with OMEMO 2 and OMEMO 0.3 (one device id), or OMEMO 0.3 only (`legacyOnly`). */
async function endpoint(
  server: ProsodyServer,
  user: string,
  resource: string,
  legacyOnly = false,
): Promise<Ep> {
  const jid = `${user}@${server.domain}` as BareJid
  const store = memoryStore().forAccount(jid)
  const legacy = legacyOmemoBackend({ curve, webCrypto, preKeyCount: 20 })({ store })
  let omemo2: OmemoBackend | undefined
  if (legacyOnly) await legacy.createDevice()
  else {
    omemo2 = omemoBackend({ preKeyCount: 25 })({ store })
    const { deviceId } = await omemo2.createDevice()
    await legacy.createDevice({ deviceId }) // one device, one id in both lists
  }
  const xmpp = createClient({ service: server.service, jid, password: PASSWORD, resource })
  const vouch = vouchXmpp(xmpp, {
    store,
    // preference order: OMEMO 2 first (chat and trust-message carrier)
    backends: omemo2 === undefined ? [legacy] : [omemo2, legacy],
    keyDirectories:
      omemo2 === undefined
        ? [legacyOmemoKeyDirectory(legacy)]
        : [omemoKeyDirectory(omemo2), legacyOmemoKeyDirectory(legacy)],
  })
  const received: ReceivedChat[] = []
  const sentTrust: KeyRef[][] = []
  vouch.on('message', (m) => received.push(m))
  vouch.on('trust-message-sent', (e) => sentTrust.push([...e.recipients]))
  const synced = vouch.synced()
  await startClient(xmpp)
  await synced
  return {
    jid,
    xmpp,
    store,
    legacy,
    omemo2,
    vouch,
    received,
    sentTrust,
    async stop() {
      vouch.close()
      await xmpp.stop().catch(() => undefined)
    },
  }
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const ownKey = async (b: { ownKeys(): Promise<readonly KeyId[]> } | undefined): Promise<KeyId> => {
  const k = (await b?.ownKeys())?.[0]
  if (k === undefined) throw new Error('no own key')
  return k
}

describe.skipIf(SKIP)(
  `trust across OMEMO versions over Prosody (issue 12 points 3 and 6)${SKIP ? ' (skipped: Prosody not installed)' : ''}`,
  () => {
    let server: ProsodyServer
    let a1: Ep
    let a2: Ep
    let b1: Ep
    let c1: Ep

    beforeAll(async () => {
      server = await startProsody()
      for (const u of ['alice', 'bob', 'carol']) await server.register(u, PASSWORD)
      a1 = await endpoint(server, 'alice', 'A1')
      a2 = await endpoint(server, 'alice', 'A2')
      b1 = await endpoint(server, 'bob', 'B1')
      c1 = await endpoint(server, 'carol', 'C1', true)
      // everyone learns everyone's keys (PEP), as after a subscription
      for (const e of [a1, a2, b1, c1])
        for (const o of [a1, b1, c1]) await e.vouch.refreshKeys(o.jid).catch(() => undefined)
    }, 90_000)
    afterAll(async () => {
      for (const e of [a1, a2, b1, c1]) await e?.stop()
      await server?.stop()
    })

    it('issue 12 §6: both device lists are published, with one device id per endpoint', async () => {
      const items = await b1.vouch.pep.fetch(a1.jid, NODE_DEVICELIST)
      const legacyList = parseDeviceList(items.find((i) => i.id === 'current')?.payload as never)
      const ids = [await a1.omemo2?.ownDeviceId(), await a2.omemo2?.ownDeviceId()]
      expect([...legacyList].sort()).toEqual([...ids].sort())
      expect([...((await b1.omemo2?.endpointsOf?.(a1.jid)) ?? [])].sort()).toEqual(ids.map(String).sort())
      expect([...((await b1.legacy.endpointsOf?.(a1.jid)) ?? [])].sort()).toEqual(ids.map(String).sort())
    })

    it('issue 12 §6: a chat goes in OMEMO 2 to a contact whose every device has it, in OMEMO 0.3 to one on a pure OMEMO 0.3 client; both are decrypted', async () => {
      const toBob = await a1.vouch.sendChat(b1.jid, 'hello Bob (both versions)')
      expect(toBob).toMatchObject({ encryption: NS_OMEMO_2, unreached: [] })
      const toCarol = await a1.vouch.sendChat(c1.jid, 'hello Carol (OMEMO 0.3 only)')
      expect(toCarol).toMatchObject({ encryption: NS_AXOLOTL, unreached: [] })
      await eventually(() => b1.received.some((m) => m.body === 'hello Bob (both versions)'), 'B1 to read it')
      await eventually(
        () => c1.received.some((m) => m.body === 'hello Carol (OMEMO 0.3 only)'),
        'C1 to read it',
      )
      expect(b1.received.find((m) => m.body === 'hello Bob (both versions)')?.encryption).toBe(NS_OMEMO_2)
      expect(c1.received.find((m) => m.body === 'hello Carol (OMEMO 0.3 only)')?.encryption).toBe(NS_AXOLOTL)
      // and back: Carol answers in OMEMO 0.3, and A1 decrypts it next to its OMEMO 2 traffic
      await c1.vouch.sendChat(a1.jid, 'hi Alice')
      await eventually(
        () => a1.received.some((m) => m.body === 'hi Alice' && m.encryption === NS_AXOLOTL),
        'A1 to read it',
      )
    })

    it('D-12, ATM-S1/R1 with OMEMO 0.3 keys: A1 scans Carol’s Conversations code; the trust message travels to A2 in OMEMO 2, and A2 authenticates Carol’s OMEMO 0.3 key', async () => {
      // precondition: Alice's endpoints authenticated each other (in OMEMO 2)
      await a1.vouch.authenticate(NS_OMEMO_2, a1.jid, [await ownKey(a2.omemo2)])
      await a2.vouch.authenticate(NS_OMEMO_2, a1.jid, [await ownKey(a1.omemo2)])
      const carolKey = await ownKey(c1.legacy)
      const carolDevice = (await c1.legacy.ownDeviceId()) as number
      expect(await a2.store.getTrustLevel(NS_AXOLOTL, c1.jid, carolKey)).not.toBe('authenticated')

      // what Conversations shows: xmpp:JID?omemo-sid-<device id>=<fingerprint without 05>
      const code = `xmpp:${c1.jid}?omemo-sid-${carolDevice}=${keyIdToHex(carolKey)}`
      const scanned = parseScannedUri(code, { expectedJid: c1.jid })
      expect(scanned.kind).toBe('fingerprint')
      const before = a1.sentTrust.length
      const r = await a1.vouch.applyUri(scanned.uri, { uriSource: 'scan', confirm: async () => true })
      expect(r.outgoing.map((m) => [m.to, m.carrier, m.message.encryption])).toEqual([
        [a1.jid, NS_OMEMO_2, NS_AXOLOTL],
      ])
      await eventually(() => a1.sentTrust.length > before, 'A1 to send the trust message')
      // on the wire: encrypted in OMEMO 2 for A2's OMEMO 2 key only (TM-15, TM-21)
      for (const k of a1.sentTrust.slice(before).flat()) expect(k.encryption).toBe(NS_OMEMO_2)
      expect(
        a1.sentTrust
          .slice(before)
          .flat()
          .map((k) => k.keyId),
      ).toContain(await ownKey(a2.omemo2))
      await eventually(
        async () => (await a2.store.getTrustLevel(NS_AXOLOTL, c1.jid, carolKey)) === 'authenticated',
        "A2 to authenticate Carol's OMEMO 0.3 key",
      )
    })

    it('D-12, ATM-S6/R6 with OMEMO 0.3 keys: A2 distrusts Carol’s OMEMO 0.3 key; A1 follows over OMEMO 2, and no longer encrypts chats to it', async () => {
      const carolKey = await ownKey(c1.legacy)
      const r = await a2.vouch.distrust(NS_AXOLOTL, c1.jid, [carolKey])
      expect(r.outgoing.map((m) => [m.to, m.carrier])).toEqual([[a1.jid, NS_OMEMO_2]])
      await eventually(
        async () => (await a1.store.getTrustLevel(NS_AXOLOTL, c1.jid, carolKey)) === 'manually-distrusted',
        "A1 to distrust Carol's OMEMO 0.3 key",
      )
      // Carol's only key is distrusted now: nothing is encrypted to it (the backend refuses, typed)
      await expect(a1.vouch.sendChat(c1.jid, 'not for a distrusted key')).rejects.toMatchObject({
        name: 'UntrustedKeyError',
        keyId: carolKey,
      })
    })
  },
)
