/**
 * Attack: a message signed long ago is delivered with a `<delay/>` that makes it look fresh.
 * Before, the sender's own `<delay/>` became the reference time of SCE-1 (and OX-TIME): a
 * 90-day-old message was accepted. Now the reference time is ours: the clock for live stanzas, a
 * stamp only where our own server set it (offline storage, our archive), never more than
 * `maxStampAgeSeconds` (30 days) before the clock.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import type { VouchXmpp } from '../../src/binding.ts'
import { vouchXmpp } from '../../src/binding.ts'
import { type Fake, type FakeArchived, fakeClient, fakeServer } from '../fake-client.ts'
import { ALICE, BOB, body, type Device, delay, device, introduce, messageStanza } from './omemo-fixture.ts'

const DAY = 24 * 3600 * 1000
const daysAgo = (n: number): Date => new Date(Date.now() - n * DAY)

describe('forged delay: the freshness checks measure against our clock or our server’s stamp (SCE-1)', () => {
  let alice: Device
  let bob: Device
  let fake: Fake
  let vouch: VouchXmpp
  let archive: FakeArchived[]
  let outcome: string[]

  beforeEach(async () => {
    alice = await device(ALICE)
    bob = await device(BOB)
    await introduce(alice, bob)
    await introduce(bob, alice)
    archive = []
    fake = fakeClient(fakeServer(() => archive))
    vouch = vouchXmpp(fake.xmpp, { store: alice.store, backends: [alice.backend] })
    outcome = []
    vouch.on('message', (m) => outcome.push(`message ${m.body}`))
    vouch.on('rejected', (r) => outcome.push(`rejected ${(r.error as { rule?: string }).rule}`))
  })

  /** Bob's message written `age` days ago (its signed SCE `<time/>`). */
  const oldMessage = async (age: number, text: string) =>
    (await bob.backend.encrypt(body(text), [ALICE], { now: daysAgo(age) })).element

  it('a 90-day-old message with the sender’s matching <delay/> is rejected (SCE-1)', async () => {
    const m = await oldMessage(90, 'old')
    fake.receive(messageStanza(`${BOB}/b`, `${ALICE}/r`, m, [delay(`${BOB}/b`, daysAgo(90))]))
    await vouch.idle()
    expect(outcome).toEqual(['rejected SCE-1'])
  })

  it('a <delay/> claiming our server but 90 days old is bounded by the clock: rejected (SCE-1)', async () => {
    const m = await oldMessage(90, 'old')
    fake.receive(messageStanza(`${BOB}/b`, `${ALICE}/r`, m, [delay('localhost', daysAgo(90))]))
    await vouch.idle()
    expect(outcome).toEqual(['rejected SCE-1'])
  })

  it('offline storage: our server’s <delay/> of 10 days ago is honoured; without it the copy is stale', async () => {
    const kept = await oldMessage(10, 'kept offline')
    fake.receive(messageStanza(`${BOB}/b`, `${ALICE}/r`, kept, [delay('localhost', daysAgo(10))]))
    const stale = await oldMessage(10, 'no server stamp')
    fake.receive(messageStanza(`${BOB}/b`, `${ALICE}/r`, stale))
    await vouch.idle()
    expect(outcome).toEqual(['message kept offline', 'rejected SCE-1'])
  })

  it('of a sender’s and our server’s <delay/>, only the server’s counts', async () => {
    const m = await oldMessage(10, 'two stamps')
    fake.receive(
      messageStanza(`${BOB}/b`, `${ALICE}/r`, m, [
        delay(`${BOB}/b`, daysAgo(10)),
        delay('localhost', daysAgo(1)),
      ]),
    )
    await vouch.idle()
    expect(outcome).toEqual(['rejected SCE-1'])
  })

  it('our archive’s stamp of 10 days ago is honoured for the archived copy', async () => {
    archive.push({
      id: 'arch-1',
      stamp: daysAgo(10),
      message: messageStanza(`${BOB}/b`, ALICE, await oldMessage(10, 'from the archive')),
    })
    await vouch.catchUp()
    await vouch.idle()
    expect(outcome).toEqual(['message from the archive'])
  })

  it('a server stamp in the future does not move the reference time past the clock', async () => {
    const m = await bob.backend.encrypt(body('from the future'), [ALICE], {
      now: new Date(Date.now() + 5 * DAY),
    })
    fake.receive(
      messageStanza(`${BOB}/b`, `${ALICE}/r`, m.element, [
        delay('localhost', new Date(Date.now() + 5 * DAY)),
      ]),
    )
    await vouch.idle()
    expect(outcome).toEqual(['rejected SCE-1'])
  })
})
