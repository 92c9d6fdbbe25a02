/**
 * XEP-0384 v0.9 §6 through the binding: while Alice's device was offline, Bob and Carol both took
 * the same one-time pre key from her unchanged bundle and each sent a key exchange. Her catch-up
 * (XEP-0313) reads both from the archive: the binding decrypts archived copies with
 * `fromCatchUp`, so the backend keeps the pre key until the archive is read to its end, and then
 * calls `catchUpDone`, which deletes it: Dave's key exchange on the same pre key, arriving live
 * afterwards, is refused (and said so). No server: the fake client answers MAM from an array.
 */
import type { BareJid, KeyId } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { type ReceivedChat, type VouchXmppEvents, vouchXmpp } from '../src/binding.ts'
import { type FakeArchived, fakeClient, fakeServer } from './fake-client.ts'
import { type Device, device } from './security/omemo-fixture.ts'
import { tick } from './stand-in.ts'

const ALICE = 'alice@localhost' as BareJid
const NS = 'urn:xmpp:omemo:2'

type Party = Device
const party = (jid: string): Promise<Party> => device(jid as BareJid)
/** `x` learns `y`'s device; `onePreKey`: from a bundle that offers only its first pre key. */
async function learn(x: Party, y: Party, onePreKey = false): Promise<void> {
  const bundle = await y.backend.ownBundle()
  await x.backend.importDeviceList(y.jid, await y.backend.ownDeviceList())
  const id = (await y.backend.ownDeviceId()) as number
  const key = await x.backend.importBundle(
    y.jid,
    id,
    onePreKey ? { ...bundle, preKeys: bundle.preKeys.slice(0, 1) } : bundle,
  )
  await x.store.addKeys(
    NS,
    y.jid,
    [key as KeyId],
    { provenance: { kind: 'manual' }, at: Date.now() },
    'automatically-trusted',
  )
}
const stanza = (from: Party, encrypted: Element, n: number): Element =>
  xml(
    'message',
    { xmlns: 'jabber:client', from: `${from.jid}/d`, to: `${ALICE}/r`, type: 'chat', id: `m${n}` },
    encrypted,
    xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: ALICE, id: `s${n}` }),
  )

describe('pre keys during the catch-up, through the binding (XEP-0384 v0.9 §6)', () => {
  it('XEP-0384 §6: two key exchanges on one pre key in the archive are both read in the catch-up; the pre key goes when it ends; a third, live, is refused', async () => {
    const alice = await party(ALICE)
    const senders = await Promise.all(['bob@localhost', 'carol@localhost', 'dave@localhost'].map(party))
    const sent: Element[] = []
    for (const s of senders) {
      await learn(s, alice, true)
      await learn(alice, s)
      sent.push(
        (await s.backend.encrypt(xml('body', { xmlns: 'jabber:client' }, `hi from ${s.jid}`), [ALICE]))
          .element,
      )
    }
    const [bob, carol, dave] = senders as [Party, Party, Party]
    const archive: FakeArchived[] = [
      { id: 'a1', stamp: new Date(), message: stanza(bob, sent[0] as Element, 1) },
      { id: 'a2', stamp: new Date(), message: stanza(carol, sent[1] as Element, 2) },
    ]
    const fake = fakeClient(fakeServer(() => archive))
    const vouch = vouchXmpp(fake.xmpp, { store: alice.store, backends: [alice.backend] })
    const messages: ReceivedChat[] = []
    const rejected: VouchXmppEvents['rejected'][] = []
    vouch.on('message', (m) => messages.push(m))
    vouch.on('rejected', (r) => rejected.push(r))
    await vouch.catchUp()
    await vouch.idle()
    expect(messages.map((m) => m.body)).toEqual([`hi from ${bob.jid}`, `hi from ${carol.jid}`])
    expect(rejected).toEqual([])
    // the catch-up read the archive to its end: the kept pre key is gone
    fake.receive(stanza(dave, sent[2] as Element, 3))
    await tick()
    await vouch.idle()
    expect(messages).toHaveLength(2)
    expect(rejected.map((r) => r.rule)).toEqual(['OMEMO-KEX'])
    vouch.close()
  })
})
