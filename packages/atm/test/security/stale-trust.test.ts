/**
 * D-9 across senders, D-10: an automatic trust is not applied to a key whose current level is a
 * distrust decision (manual, or from another endpoint's trust message) stored at or after the
 * trust message's SCE time. Automatic distrusts keep applying (fail safe); the same sender's
 * decisions stay ordered by D-9 alone; `automatically-distrusted` (a policy default) is not a
 * decision. The receiving endpoint is Alice's A2 (own key A2); A1 and A3 are her other endpoints.
 */
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  A1,
  A2,
  A3,
  ALICE,
  ALICE_LAPTOP,
  ALICE_PHONE,
  B1,
  B2,
  BOB,
  BOB_PHONE,
  seed,
  trustMessage,
} from '../helpers.ts'
import { type Endpoint, endpoint, receive, STORES } from '../stores.ts'

const NS = NS_OMEMO_2
const bobKey = (keyId = B1) => ({ encryption: NS, owner: BOB, keyId })

describe.each(STORES)('D-9 across senders: stale trust messages ($name store)', (factory) => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  /** A2 with A1 and A3 authenticated (converged), B1 authenticated. */
  async function a2(policy: { manualDecisionsFinal?: boolean } = {}): Promise<Endpoint> {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A2 }, policy })
    await seed(ep.store, NS, ALICE, [A1, A3], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    return ep
  }

  it('D-9: an older trust message from another own endpoint never undoes a newer manual distrust', async () => {
    await a2()
    const t2 = ep.clock.now() // A1 authenticates B1; its message is in flight …
    ep.clock.advance(1_000)
    await ep.atm.distrust(NS, BOB, [B1]) // … when a person on A2 distrusts B1 (t3 > t2)
    const r = await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: t2,
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'stale', changes: [] })
    expect(r.skipped).toEqual([{ key: bobKey(), polarity: 'trust', reason: 'stale' }])
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
    // not applied, so not recorded as applied (D-9): the sender's next, newer message still counts
    expect(await ep.store.getLastApplied(NS, A1, BOB, B1)).toBeUndefined()
  })

  it('D-9: an older trust from A1 arriving after a newer distrust from A3 never undoes it (symmetric case)', async () => {
    await a2()
    const t2 = ep.clock.now() // A1 authenticates B1 (again)
    const t3 = ep.clock.advance(500) // A3 distrusts B1; its message arrives first
    const d = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A3,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B1] }]),
      sceTime: t3,
    })
    expect(d.outcome).toBe('applied')
    ep.clock.advance(500)
    const r = await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: t2,
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'stale' })
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
  })

  it('D-9: a trust message as old as the distrust is stale too (ties keep the distrust, fail safe)', async () => {
    await a2()
    await ep.atm.distrust(NS, BOB, [B1])
    const r = await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: ep.clock.now(),
    })
    expect(r.reason).toBe('stale')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
  })

  it('D-10: a trust message sent after the manual distrust still overrides it (spec default)', async () => {
    await a2()
    await ep.atm.distrust(NS, BOB, [B1])
    const r = await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: ep.clock.advance(1),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
  })

  it('D-10: with manualDecisionsFinal a newer trust still does not override a manual distrust (reason manual-final)', async () => {
    await a2({ manualDecisionsFinal: true })
    await ep.atm.distrust(NS, BOB, [B1])
    const r = await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: ep.clock.advance(1),
    })
    expect(r.reason).toBe('manual-final')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
  })

  it('D-9: one endpoint’s distrust and later re-authentication stay ordered per sender, however late the distrust arrives', async () => {
    await a2()
    const t1 = ep.clock.now() // A1 distrusts B1 …
    const t2 = ep.clock.advance(10) // … and authenticates it again
    ep.clock.advance(1_000) // the distrust is delivered late (after t2)
    await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B1] }]),
      sceTime: t1,
    })
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
    const r = await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
      sceTime: t2,
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
  })

  it('D-10: an automatic distrust keeps applying, even one older than a manual authentication (fail safe)', async () => {
    await a2()
    await ep.atm.distrust(NS, BOB, [B1])
    await ep.atm.authenticate(NS, BOB, [B1])
    const r = await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B1] }]),
      sceTime: ep.clock.now() - 60_000,
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
  })

  it('D-9: a postponed trust released after a newer manual distrust is stale; a postponed distrust still applies (X1)', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A2 } })
    const old = ep.clock.now()
    // B1 and A3 are not authenticated here yet: their decisions are postponed (ATM-P1)
    const p1 = await receive(ep.atm, {
      from: BOB_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
      sceTime: old,
    })
    const p2 = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A3,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B2] }]),
      sceTime: old - 1,
    })
    expect([p1.outcome, p2.outcome]).toEqual(['postponed', 'postponed'])
    ep.clock.advance(1_000)
    await ep.atm.distrust(NS, BOB, [B2]) // a person distrusts B2 after both messages were sent
    const released = await ep.atm.authenticate(NS, BOB, [B1])
    expect(released.changes.map((c) => `${c.keyId} ${c.level}`)).toEqual([`${B1} authenticated`])
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('manually-distrusted')
    // X1 still holds: a postponed distrust applied after an authentication distrusts
    await ep.atm.authenticate(NS, BOB, [B2])
    await ep.atm.authenticate(NS, ALICE, [A3])
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('manually-distrusted')
  })

  it('ATM-P2: a policy default (automatically-distrusted) is not a decision: an older trust message still applies', async () => {
    await a2()
    const sent = ep.clock.now() // A1 authenticates B2 before this endpoint fetched it
    ep.clock.advance(1_000)
    // TOAKAFA: Bob was authenticated once, so the newly fetched B2 starts automatically distrusted
    await ep.atm.keysDiscovered(NS, BOB, [B2])
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('automatically-distrusted')
    const r = await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
      sceTime: sent,
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('authenticated')
  })
})
