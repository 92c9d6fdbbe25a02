/** TM-24, X7, X8: our own messages and our own key. */
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
  BOB,
  BOB_PHONE,
  seed,
  trustMessage,
} from '../helpers.ts'
import { type Endpoint, endpoint, levels, receive } from '../stores.ts'
import { untouchedStore } from './untouched-store.ts'
import { createAtm } from '../../src/index.ts'
import { OMEMO, testClock } from '../helpers.ts'

const NS = NS_OMEMO_2

describe('own messages and own key', () => {
  let ep: Endpoint | undefined
  afterEach(async () => {
    await ep?.close()
    ep = undefined
  })

  it('TM-24: a trust message from our own full JID is discarded before the store is read', async () => {
    const { store, calls } = untouchedStore()
    const atm = createAtm({
      account: ALICE,
      ownFullJid: ALICE_PHONE,
      store,
      backends: [OMEMO],
      now: testClock().now,
    })
    const r = await receive(atm, {
      from: ALICE_PHONE,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'own-full-jid' })
    expect(calls).toEqual([])
  })

  it('X7: our own trust message replayed from the archive under another resource is ignored (own key id)', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 }, ownFullJid: ALICE_PHONE })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const before = await levels(ep.store)
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B1] }]),
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'own-key' })
    expect(await levels(ep.store)).toEqual(before)
    expect(await ep.store.getPostponed(NS)).toEqual([])
  })

  it('X7: a contact’s stanza reporting our own key id as sender key is ignored', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    const r = await receive(ep.atm, {
      from: BOB_PHONE,
      key: A1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    expect(r.reason).toBe('own-key')
    expect(await ep.store.getPostponed(NS)).toEqual([])
  })

  it('X8: a trust message listing our own key never changes it (trust or distrust)', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: ALICE, trust: [A3], distrust: [A1] }]),
    })
    expect(r.outcome).toBe('partially-applied')
    expect(r.skipped.map((s) => s.reason)).toEqual(['own-key'])
    expect(await ep.store.getKey(NS, ALICE, A1)).toBeUndefined()
    expect(await ep.store.getTrustLevel(NS, ALICE, A3)).toBe('authenticated')
  })

  it('X8: a postponed decision about our own key is never stored', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: ALICE, distrust: [A1] }]),
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'own-key' })
    expect(await ep.store.getPostponed(NS)).toEqual([])
  })

  it('X8: keysDiscovered never stores our own key', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    const r = await ep.atm.keysDiscovered(NS, ALICE, [A1, A2])
    expect(r.added.map((k) => k.keyId)).toEqual([A2])
    expect(await ep.store.getKey(NS, ALICE, A1)).toBeUndefined()
  })
})
