/** ATM-UI3: an optional confirmation before every automatic decision. */
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { PendingAutomaticDecision } from '../src/index.ts'
import { A1, A2, ALICE, ALICE_LAPTOP, B1, B2, BOB, seed, trustMessage } from './helpers.ts'
import { type Endpoint, endpoint, receive } from './stores.ts'

const NS = NS_OMEMO_2

describe('ATM-UI3 confirmation hook', () => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  it('ATM-UI3: a vetoed automatic decision is not applied, the rest are', async () => {
    const asked: PendingAutomaticDecision[] = []
    ep = await endpoint({
      ownKeys: { [NS]: A1 },
      policy: { requireConfirmation: true },
      confirm: async (d) => {
        asked.push(d)
        return d.key.keyId !== B2
      },
    })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const vetoed: string[] = []
    ep.atm.on('decision-vetoed', (e) => vetoed.push(e.decision.key.keyId))
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1, B2] }]),
    })
    expect(r.outcome).toBe('partially-applied')
    expect(r.skipped.map((s) => [s.key.keyId, s.reason])).toEqual([[B2, 'vetoed']])
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('undecided')
    expect(vetoed).toEqual([B2])
    expect(asked.find((d) => d.key.keyId === B1)).toMatchObject({
      polarity: 'trust',
      from: 'undecided',
      to: 'authenticated',
      senderJid: ALICE,
      senderKey: A2,
    })
  })

  it('ATM-UI3: released postponed decisions are confirmed too; manual decisions are not', async () => {
    const asked: string[] = []
    ep = await endpoint({
      ownKeys: { [NS]: A1 },
      policy: { requireConfirmation: true },
      confirm: async (d) => {
        asked.push(d.key.keyId)
        return false
      },
    })
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    await ep.atm.authenticate(NS, ALICE, [A2])
    expect(asked).toEqual([B1])
    expect(await ep.store.getTrustLevel(NS, ALICE, A2)).toBe('authenticated')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('undecided')
  })

  it('ATM-UI3: requireConfirmation without a hook vetoes every automatic decision (fail safe)', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 }, policy: { requireConfirmation: true } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'vetoed' })
  })
})
