/**
 * A device reads its own sent messages back from the archive. In a protocol that never encrypts
 * for the sending device (OMEMO: `encryptsToSelf: false`) such a copy cannot be read and is not a
 * received message: it must not come out as a `rejected` event (no false alarm, nothing held for
 * keys that will never arrive), while the same message is still received by the account's other
 * device, for which it was encrypted. And the other way round, OMEMO-NOT-FOR-US with nothing to
 * read: the contact's session answer to the sending device (an empty message for it only) reaches
 * the other device too and is `skipped` there, not `rejected`.
 */
import { omemoBackend } from '@vouch/backend-omemo'
import { omemoKeyDirectory } from '@vouch/backend-omemo/pep'
import type { ProsodyServer } from '@vouch/prosody-tooling'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, TrustStore } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ReceivedChat, type VouchXmpp, type VouchXmppEvents, vouchXmpp } from '../src/binding.ts'
import { createClient, startClient } from '../src/connect.ts'
import { readHeld } from '../src/held.ts'
import { eventually, jidOf, PASSWORD, SKIP_INTEGRATION, startTestServer } from './helpers.ts'

interface Device {
  readonly xmpp: Client
  readonly vouch: VouchXmpp
  readonly rejected: VouchXmppEvents['rejected'][]
  readonly skipped: VouchXmppEvents['skipped'][]
  readonly messages: ReceivedChat[]
  stop(): Promise<void>
}

async function device(server: ProsodyServer, user: string, resource: string, trustStore: TrustStore) {
  const jid: BareJid = jidOf(server, user)
  const store = trustStore.forAccount(jid)
  const omemo = omemoBackend()({ store })
  if ((await omemo.ownDeviceId()) === undefined) await omemo.createDevice()
  const xmpp = createClient({ service: server.service, jid, password: PASSWORD, resource })
  const vouch = vouchXmpp(xmpp, { store, backends: [omemo], keyDirectories: [omemoKeyDirectory(omemo)] })
  const d: Device = {
    xmpp,
    vouch,
    rejected: [],
    skipped: [],
    messages: [],
    async stop() {
      vouch.close()
      await xmpp.stop().catch(() => undefined)
    },
  }
  vouch.on('rejected', (e) => d.rejected.push(e))
  vouch.on('skipped', (e) => d.skipped.push(e))
  vouch.on('message', (m) => d.messages.push(m))
  const synced = vouch.synced()
  await startClient(xmpp)
  await synced
  return d
}

describe.skipIf(SKIP_INTEGRATION)('own sent copies read back from the archive (OMEMO 2, Prosody)', () => {
  let server: ProsodyServer
  beforeAll(async () => {
    server = await startTestServer()
    await server.register('alice', PASSWORD)
    await server.register('bob', PASSWORD)
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('the sending device skips its own unreadable copy; the account’s other device reads it', async () => {
    const a1Store = memoryStore()
    const b1 = await device(server, 'bob', 'B1', memoryStore())
    const a2 = await device(server, 'alice', 'A2', memoryStore())
    let a1 = await device(server, 'alice', 'A1', a1Store)
    await a1.vouch.refreshKeys(jidOf(server, 'bob'))
    await a1.vouch.refreshKeys(jidOf(server, 'alice'))
    await a1.vouch.sendChat(jidOf(server, 'bob'), 'from the laptop')
    await eventually(() => b1.messages.some((m) => m.body === 'from the laptop'), 20_000, 'Bob reads it')

    // A1 comes back and catches up: the archive holds its own sent message
    await a1.stop()
    a1 = await device(server, 'alice', 'A1', a1Store)
    expect(a1.rejected.filter((e) => e.from === `${jidOf(server, 'alice')}/A1`)).toEqual([])
    expect(await readHeld(a1Store.forAccount(jidOf(server, 'alice')), jidOf(server, 'alice'))).toEqual([])

    // the control: A2, another device of the account, was a recipient and read its copy
    await eventually(
      () => a2.messages.some((m) => m.body === 'from the laptop' && m.direction === 'outgoing'),
      20_000,
      'A2 reads the copy sent by A1',
    )
    expect(a2.rejected.filter((e) => e.sender === jidOf(server, 'alice'))).toEqual([])
    // OMEMO-NOT-FOR-US with nothing to read: Bob's session answer to A1 (an empty message for A1
    // only) reaches A2 too; it is skipped quietly, never reported as rejected
    await eventually(
      () => a2.skipped.some((e) => e.sender === jidOf(server, 'bob') && e.rule === 'OMEMO-NOT-FOR-US'),
      20_000,
      'A2 skips Bob’s answer to A1',
    )
    expect(a2.rejected.filter((e) => e.sender === jidOf(server, 'bob'))).toEqual([])
    await a1.stop()
    await a2.stop()
    await b1.stop()
  }, 120_000)
})
