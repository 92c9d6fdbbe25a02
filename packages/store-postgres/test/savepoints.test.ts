/**
 * Nested transactions on PostgreSQL hold their savepoint statements back and send them with the
 * next statement (`deferSavepoints`): the semantics must stay exactly those of the reference
 * store — a nested transaction that throws undoes its own writes only, whatever ran or did not
 * run inside it, and calls made before it (even not awaited) stay outside it.
 */
import { describe, expect, it } from 'vitest'
import { ctx, freshStore, jid, kid, ME, NO_PG, NS, SKIP } from './helpers.ts'

const bob = jid('bob@example.org')
const fail = new Error('nested fails')

describe.skipIf(NO_PG)(`nested transactions with deferred savepoints ${SKIP}`, () => {
  it('a nested transaction that throws after writing undoes its writes only; the outer commits', async () => {
    const store = await freshStore()
    const a = store.forAccount(ME)
    await a.transaction(async (tx) => {
      await tx.setOwnKey(NS, kid('outer'))
      await expect(
        tx.transaction(async (inner) => {
          await inner.addKeys(NS, bob, [kid('k1')], ctx(1))
          throw fail
        }),
      ).rejects.toBe(fail)
      await tx.addKeys(NS, bob, [kid('k2')], ctx(2))
    })
    expect((await a.getKeys(NS)).map((k) => k.keyId)).toEqual(['k2'])
    expect(await a.getOwnKey(NS)).toBe('outer')
    await store.close()
  })

  it('nested transactions that run no statement, succeeding or failing, change nothing and cost nothing', async () => {
    const store = await freshStore()
    const a = store.forAccount(ME)
    await a.transaction(async (tx) => {
      await tx.transaction(async () => 1)
      await expect(tx.transaction(async () => Promise.reject(fail))).rejects.toBe(fail)
      await tx.transaction(async (inner) => inner.transaction(async () => 2))
      await tx.setOwnKey(NS, kid('after'))
    })
    expect(await a.getOwnKey(NS)).toBe('after')
    await store.close()
  })

  it('three levels: the innermost fails after writing, the middle one writes after it and commits', async () => {
    const store = await freshStore()
    const a = store.forAccount(ME)
    await a.transaction(async (tx) => {
      await tx.transaction(async (mid) => {
        await mid.addKeys(NS, bob, [kid('mid-1')], ctx(1))
        await expect(
          mid.transaction(async (inner) => {
            await inner.addKeys(NS, bob, [kid('inner')], ctx(2))
            await inner.transaction(async (deepest) => deepest.addKeys(NS, bob, [kid('deepest')], ctx(3)))
            throw fail
          }),
        ).rejects.toBe(fail)
        await mid.addKeys(NS, bob, [kid('mid-2')], ctx(4))
      })
      // a failing nested transaction after a successful one whose release is still held back
      await expect(
        tx.transaction(async (inner) => {
          await inner.addKeys(NS, bob, [kid('late')], ctx(5))
          throw fail
        }),
      ).rejects.toBe(fail)
    })
    expect((await a.getKeys(NS)).map((k) => k.keyId)).toEqual(['mid-1', 'mid-2'])
    await store.close()
  })

  it('a call made (not awaited) before a nested transaction starts is not undone by its rollback', async () => {
    const store = await freshStore()
    const a = store.forAccount(ME)
    await a.transaction(async (tx) => {
      const before = tx.addKeys(NS, bob, [kid('before')], ctx(1))
      await expect(
        tx.transaction(async (inner) => {
          await inner.addKeys(NS, bob, [kid('inside')], ctx(2))
          throw fail
        }),
      ).rejects.toBe(fail)
      await before
    })
    expect((await a.getKeys(NS)).map((k) => k.keyId)).toEqual(['before'])
    await store.close()
  })

  it('50 nested transactions in one, every other one failing: exactly the others are kept', async () => {
    const store = await freshStore()
    const a = store.forAccount(ME)
    await a.transaction(async (tx) => {
      for (let i = 0; i < 50; i++) {
        await tx
          .transaction(async (inner) => {
            await inner.addKeys(NS, bob, [kid(`k${String(i).padStart(2, '0')}`)], ctx(i))
            if (i % 2 === 1) throw fail
          })
          .catch(() => {})
      }
    })
    const ids = (await a.getKeys(NS)).map((k) => k.keyId)
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `k${String(i * 2).padStart(2, '0')}`))
    await store.close()
  })
})
