/**
 * The backend state both OMEMO backends keep: a cached record is decoded once while its stored
 * bytes stay the same, and again when another writer changed them; a failed transaction writes
 * nothing and leaves no stale cache; owed empty messages are listed and paid.
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { BackendState, bytesEqual, stateCodec, stateKey } from '../src/state.ts'

class CountingState extends BackendState {
  decoded = 0
  read(tx: AccountTrustStore): Promise<Record<string, unknown> | undefined> {
    return this.load(tx, stateKey.own, (u) => {
      this.decoded++
      return stateCodec.unjson(u)
    })
  }
  write(tx: AccountTrustStore, v: Record<string, unknown>): Promise<void> {
    return this.save(tx, stateKey.own, v, stateCodec.json)
  }
}

const alice = 'alice@example.org' as BareJid

describe('backend state', () => {
  it('decodes a record once while its bytes stay the same, again after another writer changed them', async () => {
    const store = memoryStore().forAccount(alice)
    const a = new CountingState(store, 'omemo-test')
    const b = new CountingState(store, 'omemo-test')
    await a.write(store, { n: 1 })
    expect(await a.read(store)).toEqual({ n: 1 })
    expect(await a.read(store)).toEqual({ n: 1 })
    expect(a.decoded).toBe(0) // the written value is the cached one
    await b.write(store, { n: 2 })
    expect(await a.read(store)).toEqual({ n: 2 })
    expect(a.decoded).toBe(1)
  })

  it('a failed transaction writes nothing and drops the cache', async () => {
    const store = memoryStore().forAccount(alice)
    const s = new CountingState(store, 'omemo-test')
    await s.write(store, { n: 1 })
    await expect(
      s.tx(async (tx) => {
        await s.write(tx, { n: 9 })
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await s.read(store)).toEqual({ n: 1 })
    expect(s.decoded).toBe(1)
  })

  it('owed empty messages are listed per device and paid one by one; device ids are listed', async () => {
    const store = memoryStore().forAccount(alice)
    const s = new BackendState(store, 'omemo-test')
    const bob = 'bob@example.com' as BareJid
    await s.oweEmpty(store, bob, 7)
    await s.oweEmpty(store, bob, 7)
    await s.oweEmpty(store, bob, 9)
    const owed = await s.owedEmpty(store)
    expect(owed.map((o) => [o.owner, o.id]).sort()).toEqual([
      [bob, 7],
      [bob, 9],
    ])
    await s.paidEmpty(store, (owed[0] as { key: string }).key)
    expect(await s.owedEmpty(store)).toHaveLength(1)
    await store.setState('omemo-test', stateKey.device(bob, 42), new Uint8Array([1]))
    expect(await s.deviceIds(store, bob)).toEqual([42])
    expect(await s.has(store, stateKey.device(bob, 42))).toBe(true)
  })

  it('bytesEqual compares every byte, aligned or not', () => {
    const a = crypto.getRandomValues(new Uint8Array(203))
    for (const i of [0, 3, 64, 100, 199, 202]) {
      const b = new Uint8Array(a)
      b[i] = (b[i] as number) ^ 1
      expect(bytesEqual(a, b)).toBe(false)
      expect(bytesEqual(a.subarray(1), new Uint8Array(a).subarray(1))).toBe(true)
    }
    expect(bytesEqual(a, new Uint8Array(a))).toBe(true)
  })
})
