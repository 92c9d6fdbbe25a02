/**
 * The XMPP building blocks against a real Prosody 0.12: XEP-0077, XEP-0280, XEP-0313 (+RSM),
 * XEP-0060/0163 (publish-options, `+notify`), XEP-0030/0115, XEP-0359.
 */
import { NODE_PUBLIC_KEYS, NS_OX_IM } from '@vouch/backend-ox'
import type { ProsodyServer } from '@vouch/prosody-tooling'
import type { Client } from '@xmpp/client'
import xml from '@xmpp/xml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReceivedChat } from '../src/binding.ts'
import { createClient, startClient } from '../src/connect.ts'
import { NS_CARBONS, NS_SID } from '../src/namespaces.ts'
import { capsVerification, queryDiscoInfo } from '../src/xep0030-disco.ts'
import { pepFetch, pepPublish, readPepEvent } from '../src/xep0060-pep.ts'
import { enableCarbons, unwrapCarbon } from '../src/xep0280-carbons.ts'
import { mamClient } from '../src/xep0313-mam.ts'
import {
  type Endpoint,
  endpoint,
  eventually,
  jidOf,
  nextStanza,
  online,
  PASSWORD,
  SKIP_INTEGRATION,
  startTestServer,
} from './helpers.ts'

describe.skipIf(SKIP_INTEGRATION)('XMPP building blocks over Prosody', { timeout: 30_000 }, () => {
  let server: ProsodyServer
  const clients: Client[] = []
  const endpoints: Endpoint[] = []
  const track = (c: Client): Client => {
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    server = await startTestServer()
    for (const u of ['alice', 'bob', 'carol', 'dave']) await server.register(u, PASSWORD)
  }, 30_000)
  afterAll(async () => {
    for (const e of endpoints) await e.stop()
    for (const c of clients) await c.stop().catch(() => undefined)
    await server?.stop()
  })

  it('XEP-0077: registers an account in-band before SASL, and a second registration is refused with conflict', async () => {
    const jid = jidOf(server, 'erin')
    const c = track(
      createClient({ service: server.service, jid, password: PASSWORD, register: true, resource: 'r' }),
    )
    await startClient(c)
    expect(c.jid?.bare().toString()).toBe(jid)
    await c.stop()
    const again = createClient({ service: server.service, jid, password: PASSWORD, register: true })
    await expect(startClient(again)).rejects.toMatchObject({
      name: 'RegistrationError',
      condition: 'conflict',
    })
  })

  it('login errors are typed: a wrong password is AuthenticationError, a closed port ServerUnreachableError', async () => {
    const bad = createClient({ service: server.service, jid: jidOf(server, 'alice'), password: 'wrong' })
    await expect(startClient(bad)).rejects.toMatchObject({ name: 'AuthenticationError' })
    const closed = createClient({ service: 'xmpp://127.0.0.1:1', jid: jidOf(server, 'alice'), password: 'x' })
    await expect(startClient(closed)).rejects.toMatchObject({ name: 'ServerUnreachableError' })
  })

  it('XEP-0280: a message sent by A1 reaches A2 as a <sent/> carbon from the own bare JID; a forged carbon is refused', async () => {
    const a1 = track(await online(server, 'alice', 'A1'))
    const a2 = track(await online(server, 'alice', 'A2'))
    await enableCarbons(a1)
    await enableCarbons(a2)
    await a1.send(xml('presence'))
    await a2.send(xml('presence'))
    const alice = jidOf(server, 'alice')
    const carbon = nextStanza(a2, (s) => s.name === 'message' && s.getChild('sent', NS_CARBONS) !== undefined)
    await a1.send(xml('message', { to: jidOf(server, 'bob'), type: 'chat', id: 'c1' }, xml('body', {}, 'hi')))
    const got = await carbon
    expect(got.attrs.from).toBe(alice)
    const unwrapped = unwrapCarbon(got, alice)
    expect(unwrapped?.direction).toBe('sent')
    expect(unwrapped?.message.attrs.id).toBe('c1')
    const forged = xml(
      'message',
      { from: jidOf(server, 'bob'), to: `${alice}/A2` },
      got.getChild('sent', NS_CARBONS)!,
    )
    expect(unwrapCarbon(forged, alice)).toBeNull()
    await a1.stop()
    await a2.stop()
  })

  it('XEP-0313 + XEP-0059: the archive is read page by page with RSM after an archive id; ids equal the live stanza-ids', async () => {
    const bob = track(await online(server, 'bob', 'B1'))
    const carol = track(await online(server, 'carol', 'C1'))
    await carol.send(xml('presence'))
    const live: string[] = []
    carol.on('stanza', (s) => {
      const sid = s.getChild('stanza-id', NS_SID)
      if (s.name === 'message' && sid !== undefined && s.getChildText('body')?.startsWith('m'))
        live.push(String(sid.attrs.id))
    })
    for (let i = 0; i < 7; i++)
      await bob.send(
        xml(
          'message',
          { to: jidOf(server, 'carol'), type: 'chat' },
          xml('body', {}, `m${i}`),
          xml('store', 'urn:xmpp:hints'),
        ),
      )
    await eventually(() => live.length === 7, 5000, 'seven live messages')
    const mam = mamClient(carol, jidOf(server, 'carol'))
    const pages = []
    let after: string | undefined
    for (;;) {
      const page = await mam.queryPage(after === undefined ? { max: 3 } : { after, max: 3 })
      if (page.messages.length > 0) pages.push(page)
      if (page.complete || page.messages.length === 0) break
      after = page.last
    }
    const ids = pages.flatMap((p) => p.messages.map((m) => m.id))
    expect(pages.map((p) => p.messages.length)).toEqual([3, 3, 1])
    expect(ids).toEqual(live)
    expect(pages.flatMap((p) => p.messages.map((m) => m.message.getChildText('body')))).toEqual([
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
      'm6',
    ])
    await bob.stop()
    await carol.stop()
  })

  it('XEP-0060 §7.1.5: an item published with access_model=open is readable by a non-contact; the default model refuses', async () => {
    const dave = track(await online(server, 'dave', 'D1'))
    const bob = track(await online(server, 'bob', 'B2'))
    const node = 'urn:example:vouch:open'
    await pepPublish(dave, node, 'current', xml('thing', { xmlns: 'urn:example' }, 'open data'), {
      'pubsub#access_model': 'open',
    })
    const items = await pepFetch(bob, jidOf(server, 'dave'), node)
    expect(items.map((i) => [i.id, i.payload?.text()])).toEqual([['current', 'open data']])
    await pepPublish(dave, 'urn:example:vouch:closed', 'current', xml('thing', { xmlns: 'urn:example' }, 'x'))
    await expect(pepFetch(bob, jidOf(server, 'dave'), 'urn:example:vouch:closed')).rejects.toMatchObject({
      condition: 'forbidden',
    })
    await dave.stop()
    await bob.stop()
  })

  it('XEP-0030 + XEP-0115: disco#info lists the OX features and +notify; the caps hash in presence matches it', async () => {
    const a = await endpoint({ server, user: 'alice', resource: 'disco' })
    endpoints.push(a)
    const asker = track(await online(server, 'bob', 'asker'))
    const info = await queryDiscoInfo(asker, `${a.jid}/disco`)
    expect(info.features).toContain(NS_OX_IM)
    expect(info.features).toContain('urn:xmpp:openpgp:0')
    expect(info.features).toContain(`${NODE_PUBLIC_KEYS}+notify`)
    expect(info.features).toEqual(a.vouch.discoInfo().features.slice().sort())
    const ver = capsVerification(a.vouch.discoInfo())
    const withNode = await queryDiscoInfo(asker, `${a.jid}/disco`, `https://github.com/vouch/vouch#${ver}`)
    expect(withNode.features).toEqual(info.features)
    await asker.stop()
  })

  it('XEP-0163 §4: with +notify in caps, another own resource is notified of the OX key published on connect (with payload)', async () => {
    const watcher = track(
      createClient({
        service: server.service,
        jid: jidOf(server, 'carol'),
        password: PASSWORD,
        resource: 'W',
      }),
    )
    // the watcher announces the same +notify features as a binding would
    const { vouchXmpp } = await import('../src/binding.ts')
    const { memoryStore } = await import('@vouch/store-memory')
    const { oxBackend } = await import('@vouch/backend-ox')
    const store = memoryStore().forAccount(jidOf(server, 'carol'))
    const ox = oxBackend()({ store })
    const { oxKeyDirectory } = await import('@vouch/backend-ox/pep')
    const binding = vouchXmpp(watcher, { store, backends: [ox], keyDirectories: [oxKeyDirectory(ox)] })
    const synced = binding.synced()
    await startClient(watcher)
    await synced
    const notified = nextStanza(
      watcher,
      (s) => s.name === 'message' && readPepEvent(s, jidOf(server, 'carol'))?.node === NODE_PUBLIC_KEYS,
    )
    const c1 = await endpoint({ server, user: 'carol', resource: 'C9' })
    endpoints.push(c1)
    const event = readPepEvent(await notified, jidOf(server, 'carol'))
    const fpr = (await c1.ox.ownKeyInfo())?.fingerprint
    expect(event?.items[0]?.payload?.toString()).toContain(String(fpr))
    binding.close()
  })

  it('XEP-0359: a message seen live is not processed again when MAM replays it (stanza-id = archive id)', async () => {
    const bob = await endpoint({ server, user: 'bob', resource: 'B7' })
    const alice = await endpoint({ server, user: 'alice', resource: 'A7' })
    endpoints.push(bob, alice)
    const got: ReceivedChat[] = []
    alice.vouch.on('message', (m) => got.push(m))
    let duplicates = 0
    alice.vouch.on('duplicate', () => duplicates++)
    for (let i = 0; i < 6; i++) await bob.vouch.sendChat(alice.jid, `hello ${i}`)
    await eventually(() => got.length === 6, 10_000, 'six messages')
    // forget the archive pointer: the whole archive comes again
    await alice.store.deleteState('vouch-xmpp', 'mam:last')
    await alice.vouch.catchUp()
    await alice.vouch.idle()
    expect(got.map((m) => m.body)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `hello ${i}`))
    expect(duplicates).toBeGreaterThanOrEqual(6)
    expect(got[0]?.senderKey).toBe((await bob.ox.ownKeys())[0])
    expect(got[0]?.trustLevel).toBe('automatically-trusted')
  })
})
