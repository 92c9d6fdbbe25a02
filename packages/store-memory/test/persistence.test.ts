/**
 * The persistence hook (MemoryPersistence, rows.ts): the whole store compliance suite runs on a
 * store whose every call first reloads the account from its persisted rows, so each answer comes
 * from state rebuilt from what the commits handed over. A row a diff left out (or a table
 * `accountFromRows` cannot read back) fails a compliance test. Then the all-or-nothing rule:
 * a commit that fails leaves both the persisted rows and the visible state as they were.
 */
import { defineStoreComplianceSuite } from '@vouch/compliance/store'
import { type BareJid, parseBareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { type MemoryPersistence, memoryStore, type RowChanges, type RowKey } from '../src/index.ts'

/** Rows kept in a map per account; `load` always hands them all back. */
function rowsPersistence(failCommit?: () => Error | boolean): MemoryPersistence & {
  rows: Map<BareJid, Map<string, readonly [RowKey, unknown]>>
} {
  const rows = new Map<BareJid, Map<string, readonly [RowKey, unknown]>>()
  return {
    rows,
    async load(account) {
      return [...(rows.get(account)?.values() ?? [])].map(([k, v]) => [k, structuredClone(v)] as const)
    },
    async commit(account: BareJid, changes: RowChanges) {
      const failure = failCommit?.()
      if (failure instanceof Error) throw failure
      if (failure === true) throw new Error('disk full')
      let m = rows.get(account)
      if (m === undefined) {
        m = new Map()
        rows.set(account, m)
      }
      for (const k of changes.delete) m.delete(JSON.stringify(k))
      for (const [k, v] of changes.put) m.set(JSON.stringify(k), [k, structuredClone(v)])
    },
  }
}

defineStoreComplianceSuite({
  name: 'memory reloaded from its rows on every call',
  create: async (options) => memoryStore({ ...options, persistence: rowsPersistence() }),
  destroy: (store) => store.close(),
})

describe('MemoryPersistence commit', () => {
  const alice = parseBareJid('alice@example.org')
  const bob = parseBareJid('bob@example.org')
  const ns = 'urn:xmpp:omemo:2'
  const ctx = { provenance: { kind: 'manual' } as const, at: 1 }

  it('a failed commit of a transaction persists nothing and leaves the committed state as it was', async () => {
    let fail = false
    const p = rowsPersistence(() => fail)
    const store = memoryStore({ persistence: p }).forAccount(alice)
    await store.setOwnKey(ns, 'AAAA' as never)
    const before = [...(p.rows.get(alice)?.keys() ?? [])]
    fail = true
    await expect(
      store.transaction(async (tx) => {
        await tx.addKeys(ns, bob, ['BBBB' as never], ctx)
        await tx.setState('omemo', 'session', new Uint8Array([1, 2]))
      }),
    ).rejects.toThrow('disk full')
    fail = false
    expect([...(p.rows.get(alice)?.keys() ?? [])]).toEqual(before)
    expect(await store.getKeys(ns)).toEqual([])
    expect(await store.getState('omemo', 'session')).toBeUndefined()
    expect(await store.getOwnKey(ns)).toBe('AAAA')
  })

  it('a plain write whose commit fails retryably runs again on the reloaded state; a transaction does not', async () => {
    const busy = () => Object.assign(new Error('another writer'), { name: 'StoreBusyError', retryable: true })
    let failures = 0
    const p = rowsPersistence(() => (failures-- > 0 ? busy() : false))
    const store = memoryStore({ persistence: p }).forAccount(alice)
    failures = 2
    expect(await store.addKeys(ns, bob, ['BBBB' as never], ctx)).toHaveLength(1)
    expect(failures).toBe(-1) // two failed commits, the third went through
    expect((await store.getKeys(ns)).map((k) => k.keyId)).toEqual(['BBBB'])
    failures = 3
    await expect(store.addKeys(ns, bob, ['CCCC' as never], ctx)).rejects.toThrow('another writer')
    failures = 1
    await expect(store.transaction((tx) => tx.addKeys(ns, bob, ['DDDD' as never], ctx))).rejects.toThrow(
      'another writer',
    )
    expect((await store.getKeys(ns)).map((k) => k.keyId)).toEqual(['BBBB'])
  })
})
