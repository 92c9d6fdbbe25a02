import { parseBareJid, parseKeyIdBase64 } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../src/index.ts'

const ALICE = parseBareJid('alice@example.org')
const OMEMO = 'urn:xmpp:omemo:2'
const KEY = parseKeyIdBase64('AAAA')

describe('memoryStore', () => {
  it.each(['maxPostponedPerSender', 'maxPostponedPerSenderJid', 'maxPostponedPerAccount'] as const)(
    'rejects a cap that is not a positive integer (%s)',
    (name) => {
      for (const max of [0, -1, 1.5, Number.NaN])
        expect(() => memoryStore({ limits: { [name]: max } })).toThrow(
          expect.objectContaining({ name: 'RangeError', message: expect.stringContaining(name) }),
        )
    },
  )

  it('every call after close() rejects with StoreError, also on views taken before', async () => {
    const store = memoryStore()
    const view = store.forAccount(ALICE)
    await store.close()
    await expect(view.getOwnKey(OMEMO)).rejects.toMatchObject({ name: 'StoreError', retryable: false })
    await expect(store.forAccount(ALICE).transaction(async () => 1)).rejects.toMatchObject({
      name: 'StoreError',
    })
  })

  it('returned records and decisions are frozen', async () => {
    const s = memoryStore().forAccount(ALICE)
    const [record] = await s.addKeys(OMEMO, ALICE, [KEY], {
      provenance: { kind: 'manual' },
      at: 1,
    })
    expect(Object.isFrozen(record)).toBe(true)
    expect(Object.isFrozen(record?.provenance)).toBe(true)
  })

  it('concurrency rule: a plain read during a transaction waits for it and sees the commit', async () => {
    const s = memoryStore().forAccount(ALICE)
    let release = (): void => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const tx = s.transaction(async (t) => {
      await t.setOwnKey(OMEMO, KEY)
      await held
    })
    const read = s.getOwnKey(OMEMO)
    let settled = false
    void read.then(() => {
      settled = true
    })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(settled).toBe(false)
    release()
    await tx
    expect(await read).toBe(KEY)
  })

  it('copy-on-write: a rolled-back write to a table never shows in the committed one or a savepoint', async () => {
    const s = memoryStore().forAccount(ALICE)
    const ctx = { provenance: { kind: 'manual' as const }, at: 1 }
    const K2 = parseKeyIdBase64('AAAB')
    const K3 = parseKeyIdBase64('AAAC')
    await s.addKeys(OMEMO, ALICE, [KEY], ctx)
    await s.setState('ns', 'a', new Uint8Array([1]))
    await expect(
      s.transaction(async (tx) => {
        await tx.addKeys(OMEMO, ALICE, [K2], ctx)
        await tx.setState('ns', 'b', new Uint8Array([2]))
        throw new Error('rollback')
      }),
    ).rejects.toThrow('rollback')
    expect((await s.getKeys(OMEMO)).map((r) => r.keyId)).toEqual([KEY])
    expect(await s.listState('ns')).toEqual(['a'])
    await s.transaction(async (tx) => {
      await tx.addKeys(OMEMO, ALICE, [K2], ctx) // the draft owns its copy of the keys table now
      await expect(
        tx.transaction(async (inner) => {
          await inner.addKeys(OMEMO, ALICE, [K3], ctx)
          await inner.deleteState('ns', 'a')
          throw new Error('undo inner')
        }),
      ).rejects.toThrow('undo inner')
      expect((await tx.getKeys(OMEMO)).map((r) => r.keyId)).toEqual([KEY, K2])
      expect(await tx.listState('ns')).toEqual(['a'])
      await tx.addKeys(OMEMO, ALICE, [K3], ctx)
    })
    expect((await s.getKeys(OMEMO)).map((r) => r.keyId)).toEqual([KEY, K2, K3])
  })
})
