/** Accounts and encryptions never see each other's data, in any method. */
import { describe, expect, it } from 'vitest'
import {
  ALICE,
  B1,
  BOB,
  CAROL,
  EMPTY_SNAPSHOT,
  manual,
  OMEMO,
  OX,
  type SuiteContext,
  snapshot,
  writeEverything,
} from './fixtures.ts'

export function isolationTests(ctx: SuiteContext): void {
  describe('isolation', () => {
    it('two accounts: nothing written by one is visible to the other, in any method', async () => {
      await writeEverything(ctx.store().forAccount(ALICE), OMEMO)
      expect(await snapshot(ctx.store().forAccount(BOB), OMEMO)).toEqual(EMPTY_SNAPSHOT)
      expect(await snapshot(ctx.store().forAccount(CAROL), OMEMO)).toEqual(EMPTY_SNAPSHOT)
    })

    it('two encryptions: nothing written in one is visible in the other', async () => {
      const s = ctx.alice()
      await writeEverything(s, OMEMO)
      expect(await snapshot(s, OX)).toEqual(EMPTY_SNAPSHOT)
    })

    it('two accounts: writes, removals and resets of one leave the other intact', async () => {
      const alice = ctx.store().forAccount(ALICE)
      const bob = ctx.store().forAccount(BOB)
      await writeEverything(alice, OMEMO)
      await writeEverything(bob, OMEMO)
      const bobBefore = await snapshot(bob, OMEMO)
      await alice.setTrustLevels(
        OMEMO,
        [{ owner: BOB, keyIds: [B1], level: 'manually-distrusted' }],
        manual(),
      )
      await alice.removeKeysById(OMEMO, [B1])
      await alice.resetAuthenticatedOnce(OMEMO, BOB)
      await alice.removePostponedBySenders(OMEMO)
      await alice.deleteState(`ns:${OMEMO}`, 'session/1')
      await alice.resetAll(OMEMO)
      expect(await snapshot(bob, OMEMO)).toEqual(bobBefore)
    })

    it('resetAll of one encryption leaves the other encryption of the same account', async () => {
      const s = ctx.alice()
      await writeEverything(s, OMEMO)
      await writeEverything(s, OX)
      const before = await snapshot(s, OX)
      await s.resetAll(OMEMO)
      expect(await snapshot(s, OX)).toEqual(before)
    })

    it('a transaction of one account does not commit into another', async () => {
      const alice = ctx.store().forAccount(ALICE)
      await alice.transaction(async (tx) => {
        await writeEverything(tx, OMEMO)
      })
      expect(await snapshot(ctx.store().forAccount(BOB), OMEMO)).toEqual(EMPTY_SNAPSHOT)
    })
  })
}
