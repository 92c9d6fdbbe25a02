/**
 * Spoofed senders and protocol confusion (X3): the sender key comes from the decryption, is looked
 * up under the stanza's bare JID, and in the carrier's namespace.
 */
import { NS_OMEMO_2, NS_OX } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  A1,
  A2,
  ALICE,
  ALICE_LAPTOP,
  B1,
  B2,
  BOB,
  BOB_PHONE,
  CAROL,
  CAROL_PHONE,
  MALLORY_PHONE,
  M1,
  OMEMO,
  OX,
  oxKey,
  seed,
  trustMessage,
} from '../helpers.ts'
import { type Endpoint, endpoint, levels, receive } from '../stores.ts'

const NS = NS_OMEMO_2

describe('spoofed senders', () => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  it('X3: with allowCrossProtocol: false, a trust message whose encryption attribute differs from the carrier is ignored', async () => {
    ep = await endpoint({
      backends: [OMEMO, OX],
      ownKeys: { [NS]: A1 },
      policy: { allowCrossProtocol: false },
    })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      carrier: NS,
      message: trustMessage(NS_OX, [{ jid: BOB, trust: [oxKey('bob')] }]),
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'protocol-mismatch' })
    expect(await levels(ep.store, NS_OX)).toEqual({})
  })

  it('X3, D-12: by default an OMEMO 2 channel may carry decisions about OX keys; the sender key is looked up in OMEMO', async () => {
    ep = await endpoint({ backends: [OMEMO, OX], ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      carrier: NS,
      message: trustMessage(NS_OX, [{ jid: BOB, trust: [oxKey('bob')] }]),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS_OX, BOB, oxKey('bob'))).toBe('authenticated')
  })

  it('X3, D-12: a sender key authenticated only in the keys’ namespace does not count', async () => {
    ep = await endpoint({ backends: [OMEMO, OX], ownKeys: { [NS]: A1 } })
    // A2's bytes authenticated as an "OX" key would be a namespace confusion: must not qualify
    await seed(ep.store, NS_OX, ALICE, [A2], 'authenticated')
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      carrier: NS,
      message: trustMessage(NS_OX, [{ jid: BOB, trust: [oxKey('bob')] }]),
    })
    expect(r.outcome).toBe('postponed')
    expect(await ep.store.getTrustLevel(NS_OX, BOB, oxKey('bob'))).toBe('undecided')
  })

  it('spoofed sender: Bob’s authenticated key reported for a stanza from Carol does not make Carol authenticated', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, BOB, [B2], 'authenticated')
    const r = await receive(ep.atm, {
      from: CAROL_PHONE,
      key: B2,
      message: trustMessage(NS, [{ jid: CAROL, trust: [M1] }]),
    })
    expect(r.outcome).toBe('postponed')
    expect(await ep.store.getTrustLevel(NS, CAROL, M1)).toBe('undecided')
  })

  it('spoofed sender: data postponed under Bob’s key for a stanza from Carol is not released when Bob’s key is authenticated', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await receive(ep.atm, {
      from: CAROL_PHONE,
      key: B1,
      message: trustMessage(NS, [{ jid: CAROL, trust: [M1] }]),
    })
    await ep.atm.authenticate(NS, BOB, [B1])
    expect(await ep.store.getTrustLevel(NS, CAROL, M1)).toBe('undecided')
  })

  it('spoofed sender: a stanza claiming our own JID with an unauthenticated key cannot vouch for anyone', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: M1,
      message: trustMessage(NS, [{ jid: BOB, distrust: [B1], trust: [B2] }]),
    })
    expect(r.outcome).toBe('postponed')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('undecided')
  })

  it('spoofed sender: a postponed vouch from a key that gets distrusted is dropped, never applied', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await receive(ep.atm, {
      from: MALLORY_PHONE,
      key: M1,
      message: trustMessage(NS, [{ jid: ALICE, trust: [A2] }]),
    })
    expect(await ep.store.getPostponed(NS)).toEqual([]) // not qualified at all: Mallory vouching for Alice (X9)
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: M1,
      message: trustMessage(NS, [{ jid: BOB, trust: [B2] }]),
    })
    await ep.atm.distrust(NS, BOB, [M1])
    expect(await ep.store.getPostponed(NS)).toEqual([])
    await ep.atm.authenticate(NS, BOB, [B1])
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('undecided')
  })
})
