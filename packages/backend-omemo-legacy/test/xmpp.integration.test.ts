/**
 * OMEMO 0.3 in `@vouch/xmpp` over a real (loopback) Prosody, with the backend's own key directory
 * (`@vouch/backend-omemo-legacy/pep`): device lists and bundles published in PEP
 * (`eu.siacs.conversations.axolotl.devicelist`, `…bundles:<id>`), fetched by the other side and
 * registered with ATM (TOAKAFA: automatically trusted); a first message is a key exchange, the
 * receiver answers it with an empty message (the binding sends what the backend owes), republishes
 * its bundle with the used pre key replaced; replies flow both ways, and our other device reads
 * our sent copies (Carbons). Skipped visibly without Prosody outside CI.
 */
import { type ProsodyServer, prosodyInstalled, startProsody } from '@vouch/prosody-tooling'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, KeyId } from '@vouch/tm-core'
import { parseXml } from '@vouch/tm-core'
import { createClient, type ReceivedChat, startClient, type VouchXmpp, vouchXmpp } from '@vouch/xmpp'
import type { Client } from '@xmpp/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LegacyOmemoBackend, legacyOmemoBackend } from '../src/backend.ts'
import { legacyOmemoKeyDirectory } from '../src/pep.ts'
import { bundleNode, NODE_DEVICELIST, NS_AXOLOTL, parseBundle, parseDeviceList } from '../src/wire.ts'
import { curve, webCrypto } from './helpers.ts'

const SKIP = !prosodyInstalled() && process.env.CI === undefined
const PASSWORD = 'correct horse battery staple'

interface Ep {
  readonly jid: BareJid
  readonly xmpp: Client
  readonly omemo: LegacyOmemoBackend
  readonly vouch: VouchXmpp
  readonly received: ReceivedChat[]
  stop(): Promise<void>
}

async function endpoint(server: ProsodyServer, user: string, resource: string): Promise<Ep> {
  const jid = `${user}@${server.domain}` as BareJid
  const store = memoryStore().forAccount(jid)
  const omemo = legacyOmemoBackend({ curve, webCrypto })({ store })
  await omemo.createDevice()
  const xmpp = createClient({ service: server.service, jid, password: PASSWORD, resource })
  const vouch = vouchXmpp(xmpp, {
    store,
    backends: [omemo],
    keyDirectories: [legacyOmemoKeyDirectory(omemo)],
  })
  const received: ReceivedChat[] = []
  vouch.on('message', (m) => received.push(m))
  const synced = vouch.synced()
  await startClient(xmpp)
  await synced
  return {
    jid,
    xmpp,
    omemo,
    vouch,
    received,
    async stop() {
      vouch.close()
      await xmpp.stop().catch(() => undefined)
    },
  }
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe.skipIf(SKIP)(
  `OMEMO 0.3 over Prosody with @vouch/xmpp${SKIP ? ' (skipped: Prosody not installed)' : ''}`,
  () => {
    let server: ProsodyServer
    let a1: Ep
    let a2: Ep
    let b1: Ep

    beforeAll(async () => {
      server = await startProsody()
      await server.register('alice', PASSWORD)
      await server.register('bob', PASSWORD)
      a1 = await endpoint(server, 'alice', 'A1')
      a2 = await endpoint(server, 'alice', 'A2')
      b1 = await endpoint(server, 'bob', 'B1')
    }, 60_000)
    afterAll(async () => {
      for (const e of [a1, a2, b1]) await e?.stop()
      await server?.stop()
    })

    it('XEP-0384 v0.3 §4.2–4.3: device list and bundle are published in PEP and read by a contact', async () => {
      const items = await b1.vouch.pep.fetch(a1.jid, NODE_DEVICELIST)
      const list = parseDeviceList(items.find((i) => i.id === 'current')?.payload as never)
      expect(list).toEqual(
        expect.arrayContaining([await a1.omemo.ownDeviceId(), await a2.omemo.ownDeviceId()]),
      )
      const bundle = await b1.vouch.pep.fetch(a1.jid, bundleNode((await a1.omemo.ownDeviceId()) as number))
      expect(parseBundle(bundle[0]?.payload as never).preKeys).toHaveLength(100)
      const keys = await b1.vouch.refreshKeys(a1.jid, NS_AXOLOTL)
      expect([...keys].sort()).toEqual([...(await a1.omemo.ownKeys()), ...(await a2.omemo.ownKeys())].sort())
      await a1.vouch.refreshKeys(b1.jid, NS_AXOLOTL)
      await a1.vouch.refreshKeys(a1.jid, NS_AXOLOTL)
      await a2.vouch.refreshKeys(b1.jid, NS_AXOLOTL)
      await a2.vouch.refreshKeys(a1.jid, NS_AXOLOTL)
    })

    it('a key exchange is answered with an empty message and the used pre key is replaced in the published bundle', async () => {
      const b1Id = (await b1.omemo.ownDeviceId()) as number
      await a1.vouch.sendChat(b1.jid, 'hello bob, in OMEMO 0.3', { encryption: NS_AXOLOTL })
      await eventually(() => b1.received.length > 0, 'B1 to receive the message')
      const got = b1.received[0] as ReceivedChat
      expect(got.body).toBe('hello bob, in OMEMO 0.3')
      expect(got.encryption).toBe(NS_AXOLOTL)
      expect(got.senderKey).toBe((await a1.omemo.ownKeys())[0] as KeyId)
      expect(got.trustLevel).toBe('automatically-trusted')
      // B1 answered the key exchange: A1 now has a confirmed session (no more prekey='true')
      await eventually(async () => {
        const next = await a1.omemo.encrypt(parseXml("<body xmlns='jabber:client'>probe</body>"), [b1.jid])
        const keys = next.element.getChild('header')?.getChildren('key') ?? []
        return keys.some((k) => k.attrs.rid === String(b1Id) && k.attrs.prekey === undefined)
      }, "B1's empty message answering the key exchange")
      // the consumed pre key was replaced and the bundle republished (still 100 pre keys)
      await eventually(async () => {
        const items = await a2.vouch.pep.fetch(b1.jid, bundleNode(b1Id))
        const published = parseBundle(items[0]?.payload as never).preKeys.map((k) => k.id)
        const own = (await b1.omemo.ownBundle()).preKeys.map((k) => k.id)
        return published.length === 100 && published.join() === own.join()
      }, "B1's republished bundle")
    })

    it('replies flow both ways, and our other device reads our sent copy', async () => {
      await b1.vouch.refreshKeys(a1.jid, NS_AXOLOTL)
      await b1.vouch.sendChat(a1.jid, 'hello alice', { encryption: NS_AXOLOTL })
      await eventually(() => a1.received.some((m) => m.body === 'hello alice'), 'A1 to receive the reply')
      await eventually(() => a2.received.some((m) => m.body === 'hello alice'), 'A2 to receive the reply')
      await a1.vouch.sendChat(b1.jid, 'second from A1', { encryption: NS_AXOLOTL })
      await eventually(() => b1.received.some((m) => m.body === 'second from A1'), 'B1 to receive')
      await eventually(
        () => a2.received.some((m) => m.body === 'second from A1' && m.direction === 'outgoing'),
        "A2 to read A1's sent copy (Carbons)",
      )
    })
  },
)
