/** Views and close, QXmpp 18 (policy), QXmpp 19 (own key), D-11 (sticky flag), D-9 (last applied). */
import { describe, expect, it } from 'vitest'
import {
  A1,
  A2,
  A3,
  ALICE,
  B1,
  B2,
  BOB,
  CAROL,
  manual,
  OMEMO,
  OX,
  type SuiteContext,
  S1,
  S2,
  T0,
} from './fixtures.ts'

export function settingsTests(ctx: SuiteContext): void {
  describe('accounts and lifecycle', () => {
    it('forAccount returns a view of that account', () => {
      expect(ctx.store().forAccount(BOB).account).toBe(BOB)
      expect(ctx.alice().account).toBe(ALICE)
    })

    it('data survives getting a new view of the same account', async () => {
      await ctx.store().forAccount(ALICE).addKeys(OMEMO, BOB, [B1], manual())
      await ctx.store().forAccount(ALICE).setOwnKey(OMEMO, A1)
      const again = ctx.store().forAccount(ALICE)
      expect(await again.getTrustLevel(OMEMO, BOB, B1)).toBe('automatically-distrusted')
      expect(await again.getOwnKey(OMEMO)).toBe(A1)
    })

    it('close() is idempotent', async () => {
      await ctx.store().close()
      await expect(ctx.store().close()).resolves.toBeUndefined()
    })
  })

  describe('QXmpp 18: security policy per encryption', () => {
    it('QXmpp 18: the policy is undefined until set (the caller applies its default)', async () => {
      expect(await ctx.alice().getSecurityPolicy(OMEMO)).toBeUndefined()
    })

    it('QXmpp 18: a set policy reads back and can be overwritten', async () => {
      const s = ctx.alice()
      await s.setSecurityPolicy(OMEMO, 'authenticated-only')
      expect(await s.getSecurityPolicy(OMEMO)).toBe('authenticated-only')
      await s.setSecurityPolicy(OMEMO, 'toakafa')
      expect(await s.getSecurityPolicy(OMEMO)).toBe('toakafa')
    })

    it('QXmpp 18: reset returns to undefined', async () => {
      const s = ctx.alice()
      await s.setSecurityPolicy(OMEMO, 'toakafa')
      await s.resetSecurityPolicy(OMEMO)
      expect(await s.getSecurityPolicy(OMEMO)).toBeUndefined()
    })

    it('QXmpp 18: encryptions are isolated (set and reset of one leave the other)', async () => {
      const s = ctx.alice()
      await s.setSecurityPolicy(OMEMO, 'authenticated-only')
      expect(await s.getSecurityPolicy(OX)).toBeUndefined()
      await s.setSecurityPolicy(OX, 'toakafa')
      await s.resetSecurityPolicy(OX)
      expect(await s.getSecurityPolicy(OMEMO)).toBe('authenticated-only')
      expect(await s.getSecurityPolicy(OX)).toBeUndefined()
    })
  })

  describe('QXmpp 19: own key per encryption', () => {
    it('QXmpp 19: no own key by default; a set one reads back and can be replaced', async () => {
      const s = ctx.alice()
      expect(await s.getOwnKey(OMEMO)).toBeUndefined()
      await s.setOwnKey(OMEMO, A1)
      expect(await s.getOwnKey(OMEMO)).toBe(A1)
      await s.setOwnKey(OMEMO, A2)
      expect(await s.getOwnKey(OMEMO)).toBe(A2)
    })

    it('QXmpp 19: resetting one encryption’s own key leaves the other’s', async () => {
      const s = ctx.alice()
      await s.setOwnKey(OMEMO, A1)
      await s.setOwnKey(OX, A3)
      await s.resetOwnKey(OMEMO)
      expect(await s.getOwnKey(OMEMO)).toBeUndefined()
      expect(await s.getOwnKey(OX)).toBe(A3)
    })
  })

  describe('D-11: sticky authenticated-once flag per (encryption, owner)', () => {
    it('D-11: false for an owner never authenticated', async () => {
      await ctx.alice().addKeys(OMEMO, BOB, [B1], manual(), 'manually-trusted')
      expect(await ctx.alice().wasAuthenticatedOnce(OMEMO, BOB)).toBe(false)
    })

    it('D-11: setTrustLevels to authenticated sets it, for that owner and encryption only', async () => {
      const s = ctx.alice()
      await s.setTrustLevels(OMEMO, [{ owner: BOB, keyIds: [B1], level: 'authenticated' }], manual())
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(true)
      expect(await s.wasAuthenticatedOnce(OMEMO, CAROL)).toBe(false)
      expect(await s.wasAuthenticatedOnce(OX, BOB)).toBe(false)
    })

    it('D-11: changeTrustLevels to authenticated sets it', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1], manual(), 'automatically-trusted')
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(false)
      await s.changeTrustLevels(OMEMO, [BOB], 'automatically-trusted', 'authenticated', manual())
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(true)
    })

    it('D-11: addKeys with level authenticated sets it (ATM-P2 pre-authenticated key)', async () => {
      await ctx.alice().addKeys(OMEMO, BOB, [B1], manual(), 'authenticated')
      expect(await ctx.alice().wasAuthenticatedOnce(OMEMO, BOB)).toBe(true)
    })

    it('D-11: addKeys of an already stored key does not authenticate it, so does not set it', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1], manual(), 'automatically-trusted')
      expect(await s.addKeys(OMEMO, BOB, [B1], manual(), 'authenticated')).toEqual([])
      expect(await s.getTrustLevel(OMEMO, BOB, B1)).toBe('automatically-trusted')
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(false)
    })

    it('D-11: other levels (manually trusted) never set it', async () => {
      const s = ctx.alice()
      await s.setTrustLevels(OMEMO, [{ owner: BOB, keyIds: [B1], level: 'manually-trusted' }], manual())
      await s.changeTrustLevels(OMEMO, [BOB], 'manually-trusted', 'automatically-trusted', manual())
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(false)
    })

    it('D-11: stays set after the authenticated key is distrusted and removed', async () => {
      const s = ctx.alice()
      await s.setTrustLevels(OMEMO, [{ owner: BOB, keyIds: [B1], level: 'authenticated' }], manual())
      await s.setTrustLevels(OMEMO, [{ owner: BOB, keyIds: [B1], level: 'manually-distrusted' }], manual())
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(true)
      await s.removeKeys(OMEMO, BOB)
      await s.removeKeysById(OMEMO, [B1])
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(true)
    })

    it('D-11: reset clears it for that owner only, other owners and encryptions keep theirs', async () => {
      const s = ctx.alice()
      const auth = (owner: typeof BOB, keyId: typeof B1) => ({
        owner,
        keyIds: [keyId],
        level: 'authenticated' as const,
      })
      await s.setTrustLevels(OMEMO, [auth(BOB, B1), auth(CAROL, B2)], manual())
      await s.setTrustLevels(OX, [auth(BOB, B1)], manual())
      await s.resetAuthenticatedOnce(OMEMO, BOB)
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(false)
      expect(await s.wasAuthenticatedOnce(OMEMO, CAROL)).toBe(true)
      expect(await s.wasAuthenticatedOnce(OX, BOB)).toBe(true)
      // the key itself is untouched
      expect(await s.getTrustLevel(OMEMO, BOB, B1)).toBe('authenticated')
    })

    it('D-11: after a reset, only a key newly becoming authenticated sets it again', async () => {
      const s = ctx.alice()
      await s.setTrustLevels(OMEMO, [{ owner: BOB, keyIds: [B1], level: 'authenticated' }], manual())
      await s.resetAuthenticatedOnce(OMEMO, BOB)
      // B1 is already authenticated: nothing changes, the flag stays reset
      expect(
        await s.setTrustLevels(OMEMO, [{ owner: BOB, keyIds: [B1], level: 'authenticated' }], manual()),
      ).toEqual([])
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(false)
      await s.setTrustLevels(OMEMO, [{ owner: BOB, keyIds: [B2], level: 'authenticated' }], manual())
      expect(await s.wasAuthenticatedOnce(OMEMO, BOB)).toBe(true)
    })
  })

  describe('D-9: last applied SCE time per (encryption, sender key, owner, key)', () => {
    it('D-9: undefined until set; a set time reads back', async () => {
      const s = ctx.alice()
      expect(await s.getLastApplied(OMEMO, S1, BOB, B1)).toBeUndefined()
      await s.setLastApplied(OMEMO, S1, BOB, B1, T0)
      expect(await s.getLastApplied(OMEMO, S1, BOB, B1)).toBe(T0)
    })

    it('D-9: each of encryption, sender key, owner and key id is part of the key', async () => {
      const s = ctx.alice()
      await s.setLastApplied(OMEMO, S1, BOB, B1, T0)
      expect(await s.getLastApplied(OX, S1, BOB, B1)).toBeUndefined()
      expect(await s.getLastApplied(OMEMO, S2, BOB, B1)).toBeUndefined()
      expect(await s.getLastApplied(OMEMO, S1, CAROL, B1)).toBeUndefined()
      expect(await s.getLastApplied(OMEMO, S1, BOB, B2)).toBeUndefined()
      await s.setLastApplied(OMEMO, S2, BOB, B1, T0 + 5)
      expect(await s.getLastApplied(OMEMO, S1, BOB, B1)).toBe(T0)
      expect(await s.getLastApplied(OMEMO, S2, BOB, B1)).toBe(T0 + 5)
    })

    it('D-9: set stores the given time as is, even an older one (the caller compares)', async () => {
      const s = ctx.alice()
      await s.setLastApplied(OMEMO, S1, BOB, B1, T0 + 10)
      await s.setLastApplied(OMEMO, S1, BOB, B1, T0 + 3)
      expect(await s.getLastApplied(OMEMO, S1, BOB, B1)).toBe(T0 + 3)
    })
  })
}
