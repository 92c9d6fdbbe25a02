/**
 * No silent drops: the store of messages held for their sender's keys (`src/held.ts`) is
 * bounded, ordered, per sender, and says when a key arrived that the message was not waiting with.
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, EncryptionNamespace, KeyId } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { type HeldMessage, holdMessage, MAX_HELD, newKeyArrived, readHeld, releaseHeld } from '../src/held.ts'

const ALICE = 'alice@example.org' as BareJid
const CAROL = 'carol@example.org' as BareJid
const DAVE = 'dave@example.org' as BareJid
const entry = (sender: BareJid, n: number, knownKeys: readonly KeyId[] = []): Omit<HeldMessage, 'seq'> => ({
  sender,
  encryption: 'urn:xmpp:openpgp:0' as EncryptionNamespace,
  xml: `<message xmlns='jabber:client' id='m${n}'/>`,
  source: 'archive',
  archiveId: `a${n}`,
  referenceTime: new Date(Date.UTC(2026, 11, 4, 12, 0, n)).toISOString(),
  knownKeys,
  attempts: 0,
})

describe('held messages (no silent drops, bounded)', () => {
  it('keeps them in arrival order, per sender, and releases one by its seq', async () => {
    const store = memoryStore().forAccount(ALICE)
    await holdMessage(store, entry(CAROL, 1))
    await holdMessage(store, entry(DAVE, 2))
    await holdMessage(store, entry(CAROL, 3))
    expect((await readHeld(store)).map((h) => h.archiveId)).toEqual(['a1', 'a2', 'a3'])
    const carol = await readHeld(store, CAROL)
    expect(carol.map((h) => h.archiveId)).toEqual(['a1', 'a3'])
    await releaseHeld(store, carol[0]?.seq ?? '')
    expect((await readHeld(store)).map((h) => h.archiveId)).toEqual(['a2', 'a3'])
  })

  it(`holds at most ${MAX_HELD} messages: the oldest goes first`, async () => {
    const store = memoryStore().forAccount(ALICE)
    for (let i = 0; i < MAX_HELD + 5; i++) await holdMessage(store, entry(CAROL, i))
    const all = await readHeld(store)
    expect(all).toHaveLength(MAX_HELD)
    expect(all[0]?.archiveId).toBe('a5')
    expect(all.at(-1)?.archiveId).toBe(`a${MAX_HELD + 4}`)
  })

  it('a retry waits for a key the message was not held with', () => {
    const h = { ...entry(CAROL, 1, ['k1' as KeyId]), seq: '0' }
    expect(newKeyArrived(h, [])).toBe(false)
    expect(newKeyArrived(h, ['k1' as KeyId])).toBe(false)
    expect(newKeyArrived(h, ['k1' as KeyId, 'k2' as KeyId])).toBe(true)
    expect(newKeyArrived({ ...h, knownKeys: [] }, ['k1' as KeyId])).toBe(true)
  })
})
