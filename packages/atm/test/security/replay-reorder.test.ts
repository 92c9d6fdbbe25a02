/** D-9, X5, X6: per (sender key, owner, key id) last applied SCE time. */
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import { A1, A2, ALICE, ALICE_LAPTOP, B1, B2, BOB, seed, trustMessage } from '../helpers.ts'
import { type Endpoint, endpoint, receive, STORES } from '../stores.ts'

const NS = NS_OMEMO_2

describe.each(STORES)('replay and reordering ($name store)', (factory) => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  it('X5: a replayed older trust message for the same (sender, owner, key) changes nothing', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const trust = trustMessage(NS, [{ jid: BOB, trust: [B1] }])
    const distrust = trustMessage(NS, [{ jid: BOB, distrust: [B1] }])
    await receive(ep.atm, { from: ALICE_LAPTOP, key: A2, message: trust, sceTime: 100 })
    await receive(ep.atm, { from: ALICE_LAPTOP, key: A2, message: distrust, sceTime: 200 })
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
    const replay = await receive(ep.atm, { from: ALICE_LAPTOP, key: A2, message: trust, sceTime: 100 })
    expect(replay).toMatchObject({ outcome: 'ignored', reason: 'replay' })
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
    // same time again is "not newer" either
    const same = await receive(ep.atm, { from: ALICE_LAPTOP, key: A2, message: trust, sceTime: 200 })
    expect(same.reason).toBe('replay')
  })

  it('X6: out-of-order archive delivery of two messages about different keys from one sender applies both', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
      sceTime: 200,
    })
    const older = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: 100,
    })
    expect(older.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('authenticated')
  })

  it('D-9: a postponed decision older than one already applied from the same sender is ignored on release', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: 300,
    })
    // A2 temporarily loses its authentication (distrust then re-authenticate) meanwhile an old
    // distrust from A2 is delivered late and postponed
    await ep.atm.distrust(NS, ALICE, [A2])
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B1] }]),
      sceTime: 100,
    })
    await ep.atm.authenticate(NS, ALICE, [A2])
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
  })
})
