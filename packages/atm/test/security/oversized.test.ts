import type { KeyId } from '@vouch/tm-core'
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { createAtm } from '../../src/index.ts'
import { ALICE, B1, BOB, BOB_PHONE, OMEMO, omemoKey, testClock, trustMessage } from '../helpers.ts'
import { endpoint, receive } from '../stores.ts'
import { untouchedStore } from './untouched-store.ts'

async function rejection(
  p: Promise<unknown>,
): Promise<Error & { limit?: string; max?: number; actual?: number }> {
  try {
    await p
  } catch (e) {
    return e as Error
  }
  throw new Error('expected a rejection')
}

describe('X10: oversized trust messages and decisions', () => {
  const keys = (n: number): KeyId[] => Array.from({ length: n }, (_, i) => omemoKey(`k${i}`))

  it('X10: a message with more key owners than the cap is rejected before the store is touched', async () => {
    const { store, calls } = untouchedStore()
    const atm = createAtm({
      account: ALICE,
      store,
      backends: [OMEMO],
      now: testClock().now,
      limits: { maxKeyOwners: 2 },
    })
    const owners = [BOB, BOB, BOB].map((jid) => ({ jid, trust: [B1] }))
    const err = await rejection(
      atm.handleTrustMessage({
        message: trustMessage(NS_OMEMO_2, owners),
        senderJid: BOB_PHONE,
        senderKey: B1,
        carrier: NS_OMEMO_2,
        encrypted: true,
        sceTime: 1,
      }),
    )
    expect(err.name).toBe('LimitExceededError')
    expect(err.max).toBe(2)
    expect(err.actual).toBe(3)
    expect(calls).toEqual([])
  })

  it('X10: a key owner with more ids than the cap is rejected before the store is touched', async () => {
    const { store, calls } = untouchedStore()
    const atm = createAtm({
      account: ALICE,
      store,
      backends: [OMEMO],
      now: testClock().now,
      limits: { maxKeyIdsPerOwner: 4 },
    })
    const err = await rejection(
      atm.handleTrustMessage({
        message: trustMessage(NS_OMEMO_2, [{ jid: BOB, trust: keys(3), distrust: keys(5).slice(3) }]),
        senderJid: BOB_PHONE,
        senderKey: B1,
        carrier: NS_OMEMO_2,
        encrypted: true,
        sceTime: 1,
      }),
    )
    expect(err.name).toBe('LimitExceededError')
    expect(err.actual).toBe(5)
    expect(calls).toEqual([])
  })

  it('X10: a manual decision over the cap is rejected before the store is touched', async () => {
    const { store, calls } = untouchedStore()
    const atm = createAtm({
      account: ALICE,
      store,
      backends: [OMEMO],
      now: testClock().now,
      limits: { maxKeyIdsPerOwner: 2 },
    })
    const err = await rejection(atm.authenticate(NS_OMEMO_2, BOB, keys(3)))
    expect(err.name).toBe('LimitExceededError')
    expect(calls).toEqual([])
  })

  it('TM-11: a key id of the wrong length for its protocol is rejected before the store is touched', async () => {
    const { store, calls } = untouchedStore()
    const atm = createAtm({ account: ALICE, store, backends: [OMEMO], now: testClock().now })
    const short = btoa(String.fromCharCode(...new Uint8Array(20).fill(7))) as KeyId
    const err = await rejection(
      atm.handleTrustMessage({
        message: trustMessage(NS_OMEMO_2, [{ jid: BOB, trust: [short] }]),
        senderJid: BOB_PHONE,
        senderKey: B1,
        carrier: NS_OMEMO_2,
        encrypted: true,
        sceTime: 1,
      }),
    )
    expect(err.name).toBe('InvalidKeyIdError')
    expect(calls).toEqual([])
  })
})

describe('X10: the postponed store stays bounded', () => {
  it('X10: past the store’s per-sender cap the oldest postponed decisions are evicted and reported', async () => {
    const ep = await endpoint({ storeLimits: { maxPostponedPerSender: 2 } })
    const evicted: string[] = []
    ep.atm.on('postponed-evicted', (e) => evicted.push(e.decision.keyId))
    const [k1, k2, k3] = [omemoKey('p1'), omemoKey('p2'), omemoKey('p3')]
    for (const [i, k] of [k1, k2, k3].entries())
      await receive(ep.atm, {
        from: BOB_PHONE,
        key: B1,
        message: trustMessage(NS_OMEMO_2, [{ jid: BOB, trust: [k] }]),
        sceTime: 100 + i,
      })
    const pending = await ep.store.getPostponed(NS_OMEMO_2)
    expect(pending.map((p) => p.keyId)).toEqual([k2, k3])
    expect(evicted).toEqual([k1])
    await ep.close()
  })
})
