/**
 * Attack: someone holding Alice's password (or her server) adds an OMEMO 2 device to her
 * account and sends "wire 1000 EUR to X" from `alice@…/evil`. Before, the binding labelled every
 * message from the own bare JID `authenticated`, whatever key sent it. Now the app gets the
 * store's level of the key that sent it (here `automatically-distrusted`) for live, carbon and
 * archived copies alike; only our own key itself is `authenticated`.
 */
import type { BareJid } from '@vouch/tm-core'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ReceivedChat, VouchXmpp } from '../../src/binding.ts'
import { vouchXmpp } from '../../src/binding.ts'
import { type Fake, type FakeArchived, fakeClient, fakeServer } from '../fake-client.ts'
import {
  ALICE,
  ALL_LEVELS,
  BOB,
  body,
  type Device,
  device,
  introduce,
  messageStanza,
  sentCarbon,
  setLevel,
} from './omemo-fixture.ts'

describe('own-account impostor device: a message from our own bare JID reports its sender key’s real trust', () => {
  let alice: Device
  let evil: Device
  let bob: Device
  let fake: Fake
  let vouch: VouchXmpp
  let archive: FakeArchived[]
  let chats: ReceivedChat[]

  beforeEach(async () => {
    alice = await device(ALICE)
    evil = await device(ALICE) // a second device of alice's account, not hers
    bob = await device(BOB)
    for (const [x, y] of [
      [alice, evil],
      [evil, alice],
      [evil, bob],
      [bob, evil],
    ] as const)
      await introduce(x, y)
    await setLevel(alice, ALICE, evil.key, 'automatically-distrusted')
    archive = []
    fake = fakeClient(fakeServer(() => archive))
    vouch = vouchXmpp(fake.xmpp, { store: alice.store, backends: [alice.backend] })
    chats = []
    vouch.on('message', (m) => chats.push(m))
  })

  const fromEvil = async (to: BareJid, text: string) =>
    (await evil.backend.encrypt(body(text), [to], { acceptedLevels: ALL_LEVELS })).element

  it('a <sent/> carbon from alice/evil is outgoing and automatically-distrusted, not authenticated', async () => {
    const inner = messageStanza(`${ALICE}/evil`, BOB, await fromEvil(BOB, 'wire 1000 EUR to X'))
    fake.receive(sentCarbon(ALICE, inner))
    await vouch.idle()
    expect(chats).toHaveLength(1)
    expect(chats[0]).toMatchObject({
      body: 'wire 1000 EUR to X',
      direction: 'outgoing',
      source: 'carbon-sent',
      senderKey: evil.key,
      trustLevel: 'automatically-distrusted',
    })
  })

  it('a live message from alice/evil to alice reports the store’s level of the evil key', async () => {
    fake.receive(messageStanza(`${ALICE}/evil`, `${ALICE}/r`, await fromEvil(ALICE, 'wire 1000 EUR to X')))
    await vouch.idle()
    expect(chats.map((c) => [c.source, c.trustLevel])).toEqual([['live', 'automatically-distrusted']])
  })

  it('an archived copy from alice/evil reports the store’s level of the evil key', async () => {
    const inner = messageStanza(`${ALICE}/evil`, BOB, await fromEvil(BOB, 'wire 1000 EUR to X'))
    archive.push({ id: 'a1', stamp: new Date(), message: inner })
    await vouch.catchUp()
    await vouch.idle()
    expect(chats.map((c) => [c.source, c.direction, c.trustLevel])).toEqual([
      ['archive', 'outgoing', 'automatically-distrusted'],
    ])
  })

  it('the same device once authenticated is reported authenticated', async () => {
    await setLevel(alice, ALICE, evil.key, 'authenticated')
    fake.receive(sentCarbon(ALICE, messageStanza(`${ALICE}/evil`, BOB, await fromEvil(BOB, 'hi'))))
    await vouch.idle()
    expect(chats.map((c) => c.trustLevel)).toEqual(['authenticated'])
  })
})
