/** X9: a contact vouches only for its own keys; own endpoints may vouch for anyone. */
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  A1,
  A2,
  A3,
  ALICE,
  ALICE_LAPTOP,
  B1,
  B2,
  BOB,
  BOB_PHONE,
  C1,
  CAROL,
  seed,
  trustMessage,
} from '../helpers.ts'
import { type Endpoint, endpoint, levels, receive } from '../stores.ts'

const NS = NS_OMEMO_2

describe('third-party vouching', () => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  it('X9: an authenticated contact vouching for a third party and for our keys is ignored', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const before = await levels(ep.store)
    const r = await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [
        { jid: CAROL, trust: [C1] },
        { jid: ALICE, trust: [A3], distrust: [A2] },
      ]),
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'unqualified-sender' })
    expect(r.skipped).toHaveLength(3)
    expect(await levels(ep.store)).toEqual(before)
  })

  it('X9: an unauthenticated contact vouching for a third party is not even postponed', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    const r = await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: CAROL, trust: [C1] }]),
    })
    expect(r.reason).toBe('unqualified-sender')
    expect(await ep.store.getPostponed(NS)).toEqual([])
  })

  it('X9: mixed message — the contact’s own keys apply, the rest is reported as skipped', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [
        { jid: BOB, trust: [B2] },
        { jid: CAROL, trust: [C1] },
      ]),
    })
    expect(r.outcome).toBe('partially-applied')
    expect(r.skipped.map((s) => [s.key.owner, s.reason])).toEqual([[CAROL, 'unqualified-sender']])
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('authenticated')
    expect(await ep.store.getTrustLevel(NS, CAROL, C1)).toBe('undecided')
  })

  it('X9: an own endpoint may vouch for any owner', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [
        { jid: BOB, trust: [B2] },
        { jid: CAROL, trust: [C1] },
      ]),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS, CAROL, C1)).toBe('authenticated')
  })
})
