import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { isProcessed, markProcessed, processedCount } from '../src/processed.ts'

const alice = 'alice@example.org' as BareJid

describe('processed ids (dedup memory of the receive pipeline)', () => {
  it('keeps at most the bound, forgetting the oldest first', async () => {
    const store = memoryStore().forAccount(alice)
    for (let i = 0; i < 10; i++) await markProcessed(store, [`sid:${i}`], 4)
    expect(await processedCount(store)).toBe(4)
    expect(await isProcessed(store, ['sid:5'])).toBe(false)
    expect(await isProcessed(store, ['sid:6'])).toBe(true)
    expect(await isProcessed(store, ['sid:9', 'sid:0'])).toBe(true)
  })

  it('a record is idempotent: marking the same key twice keeps one entry', async () => {
    const store = memoryStore().forAccount(alice)
    await markProcessed(store, ['oid:x', 'oid:x'], 10)
    await markProcessed(store, ['oid:x'], 10)
    expect(await processedCount(store)).toBe(1)
  })
})
