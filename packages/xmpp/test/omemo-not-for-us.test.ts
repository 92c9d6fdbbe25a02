/**
 * OMEMO-NOT-FOR-US with nothing to read (the backend's `DecryptionError.nothingToRead`): when
 * Alice's laptop (A1) starts a session with Bob (B1), B1 answers A1 with an OMEMO empty message
 * (keys for A1 only, no `<payload/>`), and Alice's phone (A2) gets it too (a message to her bare
 * JID, Carbons, MAM). Nothing in it is for A2 or lost on A2: the binding says `skipped`, never
 * `rejected`, holds and retries nothing, and changes no state but the processed id. A message
 * WITH a payload that has no key for A2 stays `rejected` (no silent drops).
 *
 * Real OMEMO 2 backends (no server: the fake client plays it), the binding on A2.
 */
import { NS_OMEMO2, type OmemoBackend, omemoBackend } from '@vouch/backend-omemo'
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, Element, FullJid, KeyId } from '@vouch/tm-core'
import xml from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { type VouchXmppEvents, vouchXmpp } from '../src/binding.ts'
import { readHeld } from '../src/held.ts'
import { fakeClient } from './fake-client.ts'
import { emptyRoster, tick } from './stand-in.ts'

const ALICE = 'alice@localhost' as BareJid
const BOB = 'bob@localhost' as BareJid

async function device(jid: BareJid): Promise<{ store: AccountTrustStore; backend: OmemoBackend }> {
  const store = memoryStore().forAccount(jid)
  const backend = omemoBackend({ preKeyCount: 25 })({ store })
  await backend.createDevice()
  return { store, backend }
}

/** `a` knows `b`'s only device and trusts its key (standing in for PEP and ATM). */
async function know(a: { store: AccountTrustStore; backend: OmemoBackend }, owner: BareJid, b: OmemoBackend) {
  const id = (await b.ownDeviceId()) as number
  await a.backend.importDeviceList(owner, [{ id }])
  const keyId: KeyId = await a.backend.importBundle(owner, id, await b.ownBundle())
  await a.store.addKeys(
    NS_OMEMO2,
    owner,
    [keyId],
    { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
    'automatically-trusted',
  )
}

/** A1 starts a session with B1 (who does not know A2), B1 answers; A2 runs the binding. */
async function setup() {
  const a1 = await device(ALICE)
  const b1 = await device(BOB)
  await know(a1, BOB, b1.backend)
  await know(b1, ALICE, a1.backend)
  const kex = (await a1.backend.encrypt(xml('body', { xmlns: 'jabber:client' }, 'hi Bob'), [BOB])).element
  await b1.backend.decrypt(kex, { from: `${ALICE}/laptop` as FullJid, to: BOB })
  const answers = await b1.backend.takeEmptyMessages()
  expect(answers.map((a) => a.to)).toEqual([ALICE])
  const answer = answers[0]?.element as Element
  expect(answer.getChild('payload')).toBeUndefined()

  const a2 = await device(ALICE)
  const fake = fakeClient(emptyRoster(ALICE), ALICE)
  const vouch = vouchXmpp(fake.xmpp, { store: a2.store, backends: [a2.backend] })
  const skipped: VouchXmppEvents['skipped'][] = []
  const rejected: VouchXmppEvents['rejected'][] = []
  const duplicates: VouchXmppEvents['duplicate'][] = []
  vouch.on('skipped', (e) => skipped.push(e))
  vouch.on('rejected', (e) => rejected.push(e))
  vouch.on('duplicate', (e) => duplicates.push(e))
  const receive = async (el: Element) => {
    fake.receive(el)
    await tick()
    await vouch.idle()
  }
  return { a2, kex, answer, fake, vouch, skipped, rejected, duplicates, receive }
}

const message = (from: string, to: string, id: string, encrypted: Element): Element =>
  xml(
    'message',
    { from, to, type: 'chat', id },
    encrypted,
    xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: ALICE, id: `s-${id}` }),
  )

describe('OMEMO-NOT-FOR-US in the binding: nothing to read is skipped, content for other devices is rejected', () => {
  it('OMEMO-NOT-FOR-US nothingToRead: B1’s session answer to A1, received by A2, is skipped (no rejected, nothing held, no state)', async () => {
    const t = await setup()
    const stanza = message(`${BOB}/phone`, ALICE, 'answer', t.answer)
    await t.receive(stanza)
    expect(t.rejected).toEqual([])
    expect(t.skipped).toEqual([
      {
        from: `${BOB}/phone`,
        sender: BOB,
        rule: 'OMEMO-NOT-FOR-US',
        reason: expect.stringContaining('no <key/> for our device'),
        source: 'live',
        archiveId: 's-answer',
      },
    ])
    // not held for a retry, no key of Bob learned, no trust level written
    expect(await readHeld(t.a2.store)).toEqual([])
    expect(await t.a2.backend.keysOf(BOB)).toEqual([])
    expect(await t.a2.store.getKeys(NS_OMEMO2, { owners: [BOB] })).toEqual([])
    // processed like any received copy: the same message again is a duplicate, not a second event
    await t.receive(message(`${BOB}/phone`, ALICE, 'answer', t.answer))
    expect(t.duplicates).toHaveLength(1)
    expect(t.skipped).toHaveLength(1)
    t.vouch.close()
  })

  it('OMEMO-NOT-FOR-US: A1’s message with a payload, read back by A2 as a Carbon, is still rejected', async () => {
    const t = await setup()
    const sent = xml(
      'message',
      { from: ALICE, to: `${ALICE}/r`, id: 'carbon' },
      xml(
        'sent',
        { xmlns: 'urn:xmpp:carbons:2' },
        xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, message(`${ALICE}/laptop`, BOB, 'kex', t.kex)),
      ),
    )
    await t.receive(sent)
    expect(t.skipped).toEqual([])
    expect(t.rejected).toMatchObject([
      {
        from: `${ALICE}/laptop`,
        sender: ALICE,
        rule: 'OMEMO-NOT-FOR-US',
        source: 'carbon-sent',
        held: false,
      },
    ])
    t.vouch.close()
  })
})
