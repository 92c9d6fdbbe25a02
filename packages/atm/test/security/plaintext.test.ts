/** X2, TM-2, TM-3, TM-14: trust messages are honoured only encrypted, or signed by a backend that signs. */
import { NS_OMEMO_2, NS_OX } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  A1,
  A2,
  ALICE,
  ALICE_LAPTOP,
  B1,
  BOB,
  BOB_PHONE,
  OMEMO,
  OX,
  oxKey,
  seed,
  trustMessage,
} from '../helpers.ts'
import { type Endpoint, endpoint, levels, receive } from '../stores.ts'

describe('plaintext trust messages', () => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  it('X2: a plaintext trust message (no E2EE) from an authenticated sender is ignored, nothing stored', async () => {
    ep = await endpoint({ ownKeys: { [NS_OMEMO_2]: A1 } })
    await seed(ep.store, NS_OMEMO_2, ALICE, [A2], 'authenticated')
    const before = await levels(ep.store)
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      encrypted: false,
      message: trustMessage(NS_OMEMO_2, [{ jid: BOB, trust: [B1] }]),
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'plaintext' })
    expect(await levels(ep.store)).toEqual(before)
    expect(await ep.store.getPostponed(NS_OMEMO_2)).toEqual([])
  })

  it('TM-2, TM-3: a plaintext trust message from an unauthenticated sender is not even postponed', async () => {
    ep = await endpoint({ ownKeys: { [NS_OMEMO_2]: A1 } })
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      encrypted: false,
      message: trustMessage(NS_OMEMO_2, [{ jid: BOB, trust: [B1] }]),
    })
    expect(r.reason).toBe('plaintext')
    expect(await ep.store.getPostponed(NS_OMEMO_2)).toEqual([])
  })

  it('TM-14: "signed" is not enough when the carrier cannot sign trust messages (OMEMO)', async () => {
    ep = await endpoint({ ownKeys: { [NS_OMEMO_2]: A1 } })
    await seed(ep.store, NS_OMEMO_2, ALICE, [A2], 'authenticated')
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      encrypted: false,
      signed: true,
      message: trustMessage(NS_OMEMO_2, [{ jid: BOB, trust: [B1] }]),
    })
    expect(r.reason).toBe('plaintext')
  })

  it('TM-14: a signed-only OX trust message (<sign/>) from an authenticated contact key is applied', async () => {
    const BOX = oxKey('bob')
    const BOX2 = oxKey('bob-new')
    ep = await endpoint({ backends: [OMEMO, OX], ownKeys: { [NS_OX]: oxKey('alice') } })
    await seed(ep.store, NS_OX, BOB, [BOX], 'authenticated')
    const r = await receive(ep.atm, {
      from: BOB_PHONE,
      key: BOX,
      carrier: NS_OX,
      encrypted: false,
      signed: true,
      message: trustMessage(NS_OX, [{ jid: BOB, trust: [BOX2] }]),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS_OX, BOB, BOX2)).toBe('authenticated')
  })
})
