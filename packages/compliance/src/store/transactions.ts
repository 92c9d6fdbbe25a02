/** Transactions: atomic commit and rollback, nesting, serialisation, isolation from plain calls. */
import type { AccountTrustStore } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  A1,
  B1,
  B2,
  BOB,
  bytes,
  decision,
  EMPTY_SNAPSHOT,
  gate,
  manual,
  OMEMO,
  type SuiteContext,
  S1,
  snapshot,
  T0,
  tick,
  writeEverything,
} from './fixtures.ts'

class Boom extends Error {
  override readonly name = 'Boom'
}

/** Increments a counter kept in backend state, yielding to the event loop in between. */
async function increment(tx: AccountTrustStore): Promise<void> {
  const current = (await tx.getState('test', 'counter'))?.[0] ?? 0
  await tick()
  await tx.setState('test', 'counter', bytes(current + 1))
}

export function transactionTests(ctx: SuiteContext): void {
  describe('transactions', () => {
    it('commit applies every write made through tx and returns the function’s value', async () => {
      const s = ctx.alice()
      const result = await s.transaction(async (tx) => {
        await writeEverything(tx, OMEMO)
        return 42
      })
      expect(result).toBe(42)
      const expected = ctx.store().forAccount(BOB)
      await writeEverything(expected, OMEMO)
      expect(await snapshot(s, OMEMO)).toEqual(await snapshot(expected, OMEMO))
    })

    it('a throw rolls back every kind of write and rethrows the same error', async () => {
      const s = ctx.alice()
      const boom = new Boom('boom')
      const failed = s.transaction(async (tx) => {
        await writeEverything(tx, OMEMO)
        throw boom
      })
      await expect(failed).rejects.toBe(boom)
      expect(await snapshot(s, OMEMO)).toEqual(EMPTY_SNAPSHOT)
    })

    it('a throw also undoes changes and removals of data that existed before', async () => {
      const s = ctx.alice()
      await writeEverything(s, OMEMO)
      const before = await snapshot(s, OMEMO)
      await expect(
        s.transaction(async (tx) => {
          await tx.setTrustLevels(
            OMEMO,
            [{ owner: BOB, keyIds: [B1], level: 'manually-distrusted' }],
            manual(T0 + 9),
          )
          await tx.resetAuthenticatedOnce(OMEMO, BOB)
          await tx.removePostponedBySenders(OMEMO)
          await tx.setLastApplied(OMEMO, A1, BOB, B1, T0 + 9)
          await tx.deleteState(`ns:${OMEMO}`, 'session/1')
          await tx.resetAll(OMEMO)
          throw new Boom('late')
        }),
      ).rejects.toMatchObject({ name: 'Boom' })
      expect(await snapshot(s, OMEMO)).toEqual(before)
    })

    it('reads inside a transaction see its own writes', async () => {
      await ctx.alice().transaction(async (tx) => {
        await tx.addKeys(OMEMO, BOB, [B1], manual())
        expect(await tx.getTrustLevel(OMEMO, BOB, B1)).toBe('automatically-distrusted')
        await tx.setState('omemo', 'k', bytes(1))
        expect(await tx.listState('omemo')).toEqual(['k'])
        const { stored } = await tx.addPostponed([
          decision({ senderKey: S1, owner: BOB, keyId: B2, polarity: 'trust', sceTime: T0 }),
        ])
        expect(await tx.getPostponed(OMEMO)).toEqual(stored)
      })
    })

    it('a nested transaction joins the outer one: committed together, rolled back together', async () => {
      const s = ctx.alice()
      await s.transaction(async (tx) => {
        await tx.transaction(async (inner) => {
          await inner.addKeys(OMEMO, BOB, [B1], manual())
        })
        expect(await tx.getKey(OMEMO, BOB, B1)).toBeDefined()
        await tx.addKeys(OMEMO, BOB, [B2], manual())
      })
      expect(await s.getKeys(OMEMO)).toHaveLength(2)

      await expect(
        s.transaction(async (tx) => {
          await tx.transaction(async (inner) => {
            await inner.setOwnKey(OMEMO, A1)
          })
          throw new Boom('outer fails after the nested one committed')
        }),
      ).rejects.toMatchObject({ name: 'Boom' })
      expect(await s.getOwnKey(OMEMO)).toBeUndefined()
    })

    it('a nested transaction that throws undoes its own writes only (savepoint)', async () => {
      const s = ctx.alice()
      await s.transaction(async (tx) => {
        await tx.addKeys(OMEMO, BOB, [B1], manual())
        await expect(
          tx.transaction(async (inner) => {
            await inner.addKeys(OMEMO, BOB, [B2], manual())
            await inner.setOwnKey(OMEMO, A1)
            throw new Boom('inner')
          }),
        ).rejects.toMatchObject({ name: 'Boom' })
        expect(await tx.getKey(OMEMO, BOB, B2)).toBeUndefined()
      })
      expect((await s.getKeys(OMEMO)).map((r) => r.keyId)).toEqual([B1])
      expect(await s.getOwnKey(OMEMO)).toBeUndefined()
    })

    it('two concurrent transactions on one account are serialised and both commit', async () => {
      const s = ctx.alice()
      await Promise.all([s.transaction(increment), ctx.store().forAccount(s.account).transaction(increment)])
      expect(await s.getState('test', 'counter')).toEqual(bytes(2))
    })

    it('a plain call made while a transaction runs never sees its uncommitted writes', async () => {
      const s = ctx.alice()
      const hold = gate()
      const written = gate()
      const running = s.transaction(async (tx) => {
        await tx.addKeys(OMEMO, BOB, [B1], manual())
        written.open()
        await hold.wait
        throw new Boom('roll back')
      })
      await written.wait
      let seen: unknown = 'pending'
      const plain = s.getKey(OMEMO, BOB, B1).then((r) => {
        seen = r
      })
      await tick()
      expect(seen === 'pending' || seen === undefined).toBe(true)
      hold.open()
      await expect(running).rejects.toMatchObject({ name: 'Boom' })
      await plain
      expect(seen).toBeUndefined()
    })

    it('a plain write made while a transaction runs is not lost when it commits', async () => {
      const s = ctx.alice()
      const hold = gate()
      const written = gate()
      const running = s.transaction(async (tx) => {
        await tx.addKeys(OMEMO, BOB, [B1], manual())
        written.open()
        await hold.wait
        await tx.setState('test', 'tx', bytes(1))
      })
      await written.wait
      const plain = s.setOwnKey(OMEMO, A1)
      await tick()
      hold.open()
      await Promise.all([running, plain])
      expect(await s.getOwnKey(OMEMO)).toBe(A1)
      expect(await s.getKey(OMEMO, BOB, B1)).toBeDefined()
      expect(await s.getState('test', 'tx')).toEqual(bytes(1))
    })

    it('a tx used after its transaction settled rejects with StoreError', async () => {
      let leaked: AccountTrustStore | undefined
      await ctx.alice().transaction(async (tx) => {
        leaked = tx
      })
      await expect(leaked?.setOwnKey(OMEMO, A1)).rejects.toMatchObject({ name: 'StoreError' })
      expect(await ctx.alice().getOwnKey(OMEMO)).toBeUndefined()
    })

    it('a failed transaction does not block later calls and transactions', async () => {
      const s = ctx.alice()
      await expect(
        s.transaction(async () => {
          throw new Boom('first')
        }),
      ).rejects.toMatchObject({ name: 'Boom' })
      await s.transaction(async (tx) => {
        await tx.setOwnKey(OMEMO, A1)
      })
      expect(await s.getOwnKey(OMEMO)).toBe(A1)
    })
  })
}
