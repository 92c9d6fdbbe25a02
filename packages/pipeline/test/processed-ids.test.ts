import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import xml from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { isProcessed, markProcessed, processedCount } from '../src/state.ts'
import { dedupKeys } from '../src/xep0359-ids.ts'

const alice = 'alice@example.org' as BareJid

describe('XEP-0359 processed ids', () => {
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

  it("only trusts a stanza-id added by the own account's archive (§5), and scopes origin-id by sender", () => {
    const m = xml(
      'message',
      { from: 'bob@example.org/B1' },
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: 'mallory@example.org', id: 'forged' }),
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: alice, id: 'real' }),
      xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'o1' }),
    )
    expect(dedupKeys(m, alice)).toEqual(['sid:real', 'oid:bob@example.org:o1'])
    expect(dedupKeys(m, alice, 'archived')).toEqual(['sid:archived', 'oid:bob@example.org:o1'])
  })
})
