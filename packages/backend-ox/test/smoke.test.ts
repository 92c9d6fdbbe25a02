import { beforeAll, describe, expect, it } from 'vitest'
import { ALICE, BOB, body, introduce, type Party, party, stanza } from './helpers.ts'

describe('smoke', () => {
  let alice: Party
  let bob: Party
  beforeAll(async () => {
    alice = await party(ALICE)
    bob = await party(BOB)
    await introduce(alice, bob)
  })
  it('round trip', async () => {
    const { element, recipients } = await alice.ox.encrypt(body('hi'), [BOB])
    expect(recipients.length).toBe(2)
    const r = await bob.ox.decrypt(element, stanza(ALICE, BOB))
    expect(r.payload[0]?.toString()).toBe('<body xmlns="jabber:client">hi</body>')
    expect(r.senderKey).toBe((await alice.ox.ownKeys())[0])
    const own = await alice.ox.decrypt(element, stanza(ALICE, BOB))
    expect(own.signed).toBe(true)
  })
})
