/**
 * The XEP-0450 story over a real Prosody with OX (one key per account: ATM-4, X16 — only the
 * contact use cases apply and trust messages go to the own endpoints): A1, A2, A3 share
 * Alice's key; B1 is Bob. A3 is offline during the decisions and catches up from MAM; A2's
 * connection is dropped in the middle and resumed (XEP-0198).
 */
import { NS_OX } from '@vouch/backend-ox'
import type { ProsodyServer } from '@vouch/prosody-tooling'
import type { KeyId, TrustLevel } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VouchXmppEvents } from '../src/binding.ts'
import { NS_SID } from '../src/namespaces.ts'
import {
  type Endpoint,
  endpoint,
  eventually,
  PASSWORD,
  SKIP_INTEGRATION,
  startTestServer,
} from './helpers.ts'

describe.skipIf(SKIP_INTEGRATION)('XEP-0450 story over Prosody (OX)', { timeout: 60_000 }, () => {
  let server: ProsodyServer
  let a1: Endpoint
  let a2: Endpoint
  let a3: Endpoint
  let b1: Endpoint
  let bobKey: KeyId
  const started = Date.now()
  const received = new Map<string, VouchXmppEvents['trust-message'][]>()
  const levelOf = (e: Endpoint): Promise<TrustLevel> => e.store.getTrustLevel(NS_OX, b1.jid, bobKey)
  const watch = (name: string, e: Endpoint): void => {
    received.set(name, [])
    e.vouch.on('trust-message', (m) => received.get(name)?.push(m))
  }

  beforeAll(async () => {
    server = await startTestServer()
    await server.register('alice', PASSWORD)
    await server.register('bob', PASSWORD)
    a1 = await endpoint({ server, user: 'alice', resource: 'A1' })
    a2 = await endpoint({ server, user: 'alice', resource: 'A2', sameKeyAs: a1 })
    a3 = await endpoint({ server, user: 'alice', resource: 'A3', sameKeyAs: a1 })
    b1 = await endpoint({ server, user: 'bob', resource: 'B1' })
    bobKey = (await b1.ox.ownKeys())[0] as KeyId
    for (const [n, e] of [
      ['A1', a1],
      ['A2', a2],
      ['A3', a3],
      ['B1', b1],
    ] as const)
      watch(n, e)
    for (const e of [a1, a2, a3]) await e.vouch.refreshKeys(b1.jid)
    await b1.vouch.refreshKeys(a1.jid)
  }, 60_000)
  afterAll(async () => {
    for (const e of [a1, a2, a3, b1]) await e?.stop()
    await a3again?.stop()
    await server?.stop()
    console.info(`XEP-0450 story over Prosody: ${Date.now() - started} ms wall time`)
  })
  let a3again: Endpoint | undefined

  it('TOAK-1: before any authentication, every Alice endpoint trusts Bob’s key automatically (fetched from PEP)', async () => {
    for (const e of [a1, a2, a3]) expect(await levelOf(e)).toBe('automatically-trusted')
    expect(await a1.ox.ownKeys()).toEqual(await a3.ox.ownKeys()) // one key per account
  })

  it('ATM-S1/R1 (OOK) + D-7: A1 authenticates Bob by URI; the trust message goes to the own bare JID, shaped like chat, and A2 authenticates Bob', async () => {
    await a3.stop() // A3 is offline during the decisions
    const raw: Element[] = []
    a2.xmpp.on('stanza', (s) => {
      if (s.name === 'message') raw.push(s)
    })
    const result = await a1.vouch.applyUri(
      { jid: b1.jid, encryption: NS_OX, trust: [bobKey], distrust: [] },
      { uriSource: 'scan', confirm: async () => true },
    )
    expect(result.outgoing.map((o) => o.to)).toEqual([a1.jid])
    expect(await levelOf(a1)).toBe('authenticated')
    await eventually(async () => (await levelOf(a2)) === 'authenticated', 10_000, 'A2 authenticates Bob')
    // D-7: the outer stanza of a trust message (as A2 got it, maybe inside a carbon)
    const stanza = raw
      .map(
        (s) =>
          s.getChild('sent')?.getChild('forwarded')?.getChild('message') ??
          s.getChild('received')?.getChild('forwarded')?.getChild('message') ??
          s,
      )
      .find((s) => s.getChild('openpgp', NS_OX) !== undefined)
    expect(stanza?.attrs.type).toBe('chat')
    expect(stanza?.getChild('store', 'urn:xmpp:hints')).toBeDefined()
    expect(stanza?.getChild('encryption', 'urn:xmpp:eme:0')?.attrs.namespace).toBe(NS_OX)
    expect(stanza?.getChildText('body')).toBe('This message is encrypted using OpenPGP for XMPP.')
    expect(stanza?.getChild('origin-id', NS_SID)).toBeDefined()
    expect(received.get('B1')).toEqual([]) // ATM-4: never to the contact
  })

  it('XEP-0313: A3, offline during the decision, catches up from the archive after connecting and authenticates Bob', async () => {
    a3again = await endpoint({
      server,
      user: 'alice',
      resource: 'A3',
      trustStore: a3.trustStore,
      start: false,
    })
    const synced = a3again.vouch.synced()
    expect(await levelOf(a3again)).toBe('automatically-trusted')
    const { startClient } = await import('../src/connect.ts')
    await startClient(a3again.xmpp)
    await synced
    expect(await levelOf(a3again)).toBe('authenticated')
  })

  it('XEP-0198: A2’s connection drops; A1 distrusts Bob meanwhile (ATM-S6); A2 resumes and applies the distrust exactly once', async () => {
    const changes: VouchXmppEvents['trust-changed'][] = []
    a2.vouch.on('trust-changed', (c) => changes.push(c))
    let resumed = 0
    ;(a2.xmpp.streamManagement as unknown as { on(e: string, l: () => void): void }).on(
      'resumed',
      () => resumed++,
    )
    ;(a2.xmpp as unknown as { socket: { destroy(): void } }).socket.destroy()
    await eventually(() => a2.xmpp.status !== 'online', 5000, 'A2 offline')
    const res = await a1.vouch.distrust(NS_OX, b1.jid, [bobKey])
    expect(res.outgoing.map((o) => o.to)).toEqual([a1.jid])
    await eventually(() => resumed > 0, 15_000, 'A2 resumes')
    await eventually(async () => (await levelOf(a2)) === 'manually-distrusted', 15_000, 'A2 distrusts Bob')
    // the archive replays the same messages: nothing is applied twice
    await a2.vouch.catchUp()
    await a2.vouch.idle()
    expect(changes.filter((c) => c.to === 'manually-distrusted')).toHaveLength(1)
    expect(a2.xmpp.status).toBe('online')
    await eventually(
      async () => (await levelOf(a3again!)) === 'manually-distrusted',
      10_000,
      'A3 distrusts Bob',
    )
    expect(received.get('B1')).toEqual([])
  })

  it('XEP-0198: the outbox is empty once every trust message was sent and acknowledged; A1 keeps its decision', async () => {
    const outbox = await import('../src/state.ts').then((s) => s.readOutbox(a1.store))
    expect(outbox).toEqual([]) // everything sent and acknowledged
    expect(await a1.store.getTrustLevel(NS_OX, b1.jid, bobKey)).toBe('manually-distrusted')
  })
})
