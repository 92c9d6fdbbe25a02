/**
 * QXmpp 23 (postponed decisions), D-8 (keying and replacement), X1, and the caps that keep the
 * postponed store bounded (X10): per sender key, per sender JID, per account.
 */
import type { PostponedDecision, TrustStoreLimits } from '@vouch/tm-core'
import { DEFAULT_TRUST_STORE_LIMITS, keyIdFromBytes } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  ALICE,
  B1,
  B2,
  B3,
  BOB,
  brief,
  CAROL,
  DAVE,
  decision,
  K,
  OMEMO,
  OX,
  type SuiteContext,
  S1,
  S2,
  S3,
  T0,
} from './fixtures.ts'

/** Key id number `i` (32 bytes, `i` big-endian in the first two; `fill` in the others). */
function numbered(i: number, fill = 7) {
  const b = new Uint8Array(32).fill(fill)
  b[0] = i >> 8
  b[1] = i & 255
  return keyIdFromBytes(b)
}

const briefs = (list: readonly PostponedDecision[]): string[] => list.map(brief)

export function postponedTests(ctx: SuiteContext): void {
  describe('QXmpp 23: postponed decisions', () => {
    it('addPostponed stores every field and reports the stored decisions', async () => {
      const d = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: B1,
        polarity: 'trust',
        sceTime: T0,
      })
      const result = await ctx.alice().addPostponed([d])
      expect(result).toEqual({ stored: [d], ignored: [], evicted: [] })
      expect(await ctx.alice().getPostponed(OMEMO)).toEqual([d])
    })

    it.each([
      ['trust first', ['trust', 'distrust']],
      ['distrust first', ['distrust', 'trust']],
    ] as const)(
      'QXmpp 23: trust and distrust of one key from one sender in one call is stored as distrust (%s)',
      async (_, order) => {
        const s = ctx.alice()
        const [first, second] = order.map((polarity) =>
          decision({ senderKey: S1, owner: BOB, keyId: B1, polarity, sceTime: T0 }),
        ) as [PostponedDecision, PostponedDecision]
        const result = await s.addPostponed([first, second])
        expect(briefs(result.stored)).toEqual([brief({ ...first, polarity: 'distrust' })])
        expect(result.ignored.map((d) => d.polarity)).toEqual(['trust'])
        expect((await s.getPostponed(OMEMO)).map((d) => d.polarity)).toEqual(['distrust'])
      },
    )

    it('D-8: in one call distrust wins even over a newer trust of the same key from that sender', async () => {
      const s = ctx.alice()
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'distrust', sceTime: T0 }),
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 + 10 }),
      ])
      expect(briefs(await s.getPostponed(OMEMO))).toEqual([
        `${OMEMO} ${S1.slice(0, 2)} ${BOB} Yj distrust @0`,
      ])
    })

    it('D-8: of two decisions with the same polarity in one call, the newer is stored', async () => {
      const s = ctx.alice()
      const newer = decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 + 2 })
      const older = decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 + 1 })
      expect(await s.addPostponed([newer, older])).toEqual({ stored: [newer], ignored: [older], evicted: [] })
      expect(await s.getPostponed(OMEMO)).toEqual([newer])
    })

    it('QXmpp 23: a newer message from the same sender flips a stored decision (D-8)', async () => {
      const s = ctx.alice()
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
      ])
      const newer = decision({
        senderKey: S1,
        senderJid: CAROL,
        owner: BOB,
        keyId: B1,
        polarity: 'distrust',
        sceTime: T0 + 1,
      })
      const result = await s.addPostponed([newer])
      expect(result).toEqual({ stored: [newer], ignored: [], evicted: [] })
      expect(await s.getPostponed(OMEMO)).toEqual([newer])
    })

    it('D-8: an older decision of the same key from the same sender is ignored and reported', async () => {
      const s = ctx.alice()
      const stored = decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'distrust', sceTime: T0 + 5 })
      await s.addPostponed([stored])
      const older = decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 + 4 })
      expect(await s.addPostponed([older])).toEqual({ stored: [], ignored: [older], evicted: [] })
      expect(await s.getPostponed(OMEMO)).toEqual([stored])
    })

    it('D-8: a decision with the same SCE time replaces the stored one', async () => {
      const s = ctx.alice()
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
      ])
      const same = decision({
        senderKey: S1,
        owner: BOB,
        keyId: B1,
        polarity: 'distrust',
        sceTime: T0,
        receivedAt: T0 + 9,
      })
      expect((await s.addPostponed([same])).stored).toEqual([same])
      expect(await s.getPostponed(OMEMO)).toEqual([same])
    })

    it('X1: two unauthenticated senders never overwrite each other', async () => {
      const s = ctx.alice()
      const trust = decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 + 1 })
      const distrust = decision({
        senderKey: S2,
        owner: BOB,
        keyId: B1,
        polarity: 'distrust',
        sceTime: T0 + 2,
      })
      await s.addPostponed([trust])
      await s.addPostponed([distrust])
      expect(await s.getPostponed(OMEMO)).toEqual([trust, distrust])
      expect(await s.getPostponed(OMEMO, { senderKeys: [S1] })).toEqual([trust])
      expect(await s.getPostponed(OMEMO, { senderKeys: [S2] })).toEqual([distrust])
    })

    it('X1: removing one sender’s decisions keeps the other sender’s about the same key', async () => {
      const s = ctx.alice()
      const trust = decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 + 1 })
      const distrust = decision({
        senderKey: S2,
        owner: BOB,
        keyId: B1,
        polarity: 'distrust',
        sceTime: T0 + 2,
      })
      await s.addPostponed([trust, distrust])
      await s.removePostponedBySenders(OMEMO, [S1])
      expect(await s.getPostponed(OMEMO)).toEqual([distrust])
    })

    it('the same key of two owners is two decisions', async () => {
      const s = ctx.alice()
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
        decision({ senderKey: S1, owner: CAROL, keyId: B1, polarity: 'distrust', sceTime: T0 }),
      ])
      expect((await s.getPostponed(OMEMO)).map((d) => [d.owner, d.polarity])).toEqual([
        [BOB, 'trust'],
        [CAROL, 'distrust'],
      ])
    })

    it('QXmpp 23: removal by ids respects polarity', async () => {
      const s = ctx.alice()
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
        decision({ senderKey: S2, owner: BOB, keyId: B1, polarity: 'distrust', sceTime: T0 + 1 }),
        decision({ senderKey: S1, owner: BOB, keyId: B2, polarity: 'distrust', sceTime: T0 + 2 }),
      ])
      // B1 listed for distrusting: the postponed authentication of B1 stays
      await s.removePostponed(OMEMO, { distrust: [B1] })
      expect((await s.getPostponed(OMEMO)).map((d) => [d.keyId, d.polarity])).toEqual([
        [B1, 'trust'],
        [B2, 'distrust'],
      ])
      // B2 listed for authentication: its postponed distrust stays
      await s.removePostponed(OMEMO, { trust: [B1, B2] })
      expect((await s.getPostponed(OMEMO)).map((d) => [d.keyId, d.polarity])).toEqual([[B2, 'distrust']])
    })

    it('removal by ids with both lists, and with none', async () => {
      const s = ctx.alice()
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
        decision({ senderKey: S2, owner: CAROL, keyId: B2, polarity: 'distrust', sceTime: T0 + 1 }),
        decision({ senderKey: S2, owner: CAROL, keyId: B3, polarity: 'distrust', sceTime: T0 + 2 }),
      ])
      await s.removePostponed(OMEMO, {})
      expect(await s.getPostponed(OMEMO)).toHaveLength(3)
      await s.removePostponed(OMEMO, { trust: [B1], distrust: [B2] })
      expect((await s.getPostponed(OMEMO)).map((d) => d.keyId)).toEqual([B3])
    })

    it('QXmpp 23: removal by sender keys', async () => {
      const s = ctx.alice()
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
        decision({ senderKey: S2, owner: BOB, keyId: B2, polarity: 'trust', sceTime: T0 + 1 }),
        decision({ senderKey: S3, owner: BOB, keyId: B3, polarity: 'trust', sceTime: T0 + 2 }),
      ])
      await s.removePostponedBySenders(OMEMO, [S1, S3])
      expect((await s.getPostponed(OMEMO)).map((d) => d.senderKey)).toEqual([S2])
    })

    it('QXmpp 23: removal per encryption (all senders) leaves the other encryption', async () => {
      const s = ctx.alice()
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
        decision({ senderKey: S2, owner: BOB, keyId: B2, polarity: 'trust', sceTime: T0 }),
        decision({ encryption: OX, senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
      ])
      await s.removePostponedBySenders(OMEMO)
      expect(await s.getPostponed(OMEMO)).toEqual([])
      expect(await s.getPostponed(OX)).toHaveLength(1)
      await s.removePostponed(OX, { distrust: [B1] })
      await s.removePostponedBySenders(OMEMO, [S1])
      expect(await s.getPostponed(OX)).toHaveLength(1)
    })

    it('QXmpp 23: resetAll also clears postponed decisions', async () => {
      const s = ctx.alice()
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
      ])
      await s.resetAll(OMEMO)
      expect(await s.getPostponed(OMEMO)).toEqual([])
    })

    it('one call may carry decisions of several encryptions and senders', async () => {
      const s = ctx.alice()
      const a = decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 + 1 })
      const b = decision({
        encryption: OX,
        senderKey: S1,
        owner: BOB,
        keyId: B1,
        polarity: 'distrust',
        sceTime: T0,
      })
      const result = await s.addPostponed([a, b])
      expect(result.stored).toEqual([b, a])
      expect(await s.getPostponed(OMEMO)).toEqual([a])
      expect(await s.getPostponed(OX)).toEqual([b])
    })

    describe('getPostponed filters and order', () => {
      const seed = async () => {
        const s = ctx.alice()
        await s.addPostponed([
          decision({ senderKey: S2, owner: CAROL, keyId: K('C'), polarity: 'trust', sceTime: T0 + 2 }),
          decision({ senderKey: S1, owner: BOB, keyId: B2, polarity: 'distrust', sceTime: T0 + 1 }),
          decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 + 1 }),
          decision({
            senderKey: S3,
            owner: ALICE,
            keyId: K('A'),
            polarity: 'trust',
            sceTime: T0 + 1,
            receivedAt: T0 + 5000,
          }),
          decision({ senderKey: S2, owner: BOB, keyId: B1, polarity: 'distrust', sceTime: T0 }),
        ])
        return s
      }

      it('sorted by (sceTime, receivedAt, owner, keyId)', async () => {
        const s = await seed()
        expect((await s.getPostponed(OMEMO)).map((d) => [d.sceTime - T0, d.owner, d.keyId])).toEqual([
          [0, BOB, B1],
          [1, BOB, B1],
          [1, BOB, B2],
          [1, ALICE, K('A')], // received later
          [2, CAROL, K('C')],
        ])
      })

      it('ties on (sceTime, receivedAt, owner, keyId) are ordered by sender key', async () => {
        const s = ctx.alice()
        await s.addPostponed([
          decision({ senderKey: S3, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
          decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'distrust', sceTime: T0 }),
          decision({ senderKey: S2, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 }),
        ])
        expect((await s.getPostponed(OMEMO)).map((d) => d.senderKey)).toEqual([S1, S2, S3])
      })

      it('by sender keys, key ids and polarity, alone and combined', async () => {
        const s = await seed()
        const keys = async (q: Parameters<typeof s.getPostponed>[1]) =>
          (await s.getPostponed(OMEMO, q)).map(
            (d) => `${d.senderKey === S1 ? 'S1' : d.senderKey === S2 ? 'S2' : 'S3'} ${d.keyId.slice(0, 2)}`,
          )
        expect(await keys({ senderKeys: [S1] })).toEqual(['S1 Yj', 'S1 tC'])
        expect(await keys({ keyIds: [B1] })).toEqual(['S2 Yj', 'S1 Yj'])
        expect(await keys({ polarity: 'distrust' })).toEqual(['S2 Yj', 'S1 tC'])
        expect(await keys({ senderKeys: [S1, S2], keyIds: [B1], polarity: 'trust' })).toEqual(['S1 Yj'])
        expect(await keys({ senderKeys: [S3], polarity: 'distrust' })).toEqual([])
      })

      it('an empty filter list matches nothing', async () => {
        const s = await seed()
        expect(await s.getPostponed(OMEMO, { senderKeys: [] })).toEqual([])
        expect(await s.getPostponed(OMEMO, { keyIds: [] })).toEqual([])
      })
    })

    it('mutating a given or returned decision does not change the store', async () => {
      const s = ctx.alice()
      const given = decision({ senderKey: S1, owner: BOB, keyId: B1, polarity: 'trust', sceTime: T0 })
      const copy = { ...given }
      const result = await s.addPostponed([given])
      ;(given as { polarity: string }).polarity = 'distrust'
      const [got] = await s.getPostponed(OMEMO)
      for (const r of [result.stored[0], got]) {
        try {
          ;(r as { sceTime: number }).sceTime = 0
        } catch {
          // frozen is fine too
        }
      }
      expect(await s.getPostponed(OMEMO)).toEqual([copy])
    })
  })

  describe('per-sender cap (TrustStoreLimits.maxPostponedPerSender)', () => {
    const capped = async (max: number) =>
      (await ctx.createStore({ limits: { maxPostponedPerSender: max } })).forAccount(ALICE)

    it('the oldest decisions (by sceTime) of a sender over the cap are evicted and reported', async () => {
      const s = await capped(2)
      const d1 = decision({ senderKey: S1, owner: BOB, keyId: K('A'), polarity: 'trust', sceTime: T0 + 1 })
      const d2 = decision({ senderKey: S1, owner: BOB, keyId: K('B'), polarity: 'trust', sceTime: T0 + 2 })
      const d3 = decision({ senderKey: S1, owner: BOB, keyId: K('C'), polarity: 'distrust', sceTime: T0 + 3 })
      const d4 = decision({ senderKey: S1, owner: BOB, keyId: K('D'), polarity: 'trust', sceTime: T0 + 4 })
      expect(await s.addPostponed([d2, d1])).toEqual({ stored: [d1, d2], ignored: [], evicted: [] })
      expect(await s.addPostponed([d4, d3])).toEqual({ stored: [d3, d4], ignored: [], evicted: [d1, d2] })
      expect(await s.getPostponed(OMEMO)).toEqual([d3, d4])
    })

    it('eviction ties on sceTime are broken by receivedAt', async () => {
      const s = await capped(1)
      const late = decision({
        senderKey: S1,
        owner: BOB,
        keyId: K('A'),
        polarity: 'trust',
        sceTime: T0,
        receivedAt: T0 + 9,
      })
      const early = decision({
        senderKey: S1,
        owner: BOB,
        keyId: K('B'),
        polarity: 'trust',
        sceTime: T0,
        receivedAt: T0 + 1,
      })
      expect((await s.addPostponed([late, early])).evicted).toEqual([early])
      expect(await s.getPostponed(OMEMO)).toEqual([late])
    })

    it('a decision older than all kept ones is evicted at once and not reported as stored', async () => {
      const s = await capped(1)
      const newer = decision({ senderKey: S1, owner: BOB, keyId: K('A'), polarity: 'trust', sceTime: T0 + 5 })
      await s.addPostponed([newer])
      const older = decision({ senderKey: S1, owner: BOB, keyId: K('B'), polarity: 'trust', sceTime: T0 + 1 })
      expect(await s.addPostponed([older])).toEqual({ stored: [], ignored: [], evicted: [older] })
      expect(await s.getPostponed(OMEMO)).toEqual([newer])
    })

    it('other senders and the same sender key in another encryption are not affected', async () => {
      const s = await capped(1)
      const other = decision({ senderKey: S2, owner: BOB, keyId: K('A'), polarity: 'trust', sceTime: T0 })
      const ox = decision({
        encryption: OX,
        senderKey: S1,
        owner: BOB,
        keyId: K('A'),
        polarity: 'trust',
        sceTime: T0,
      })
      await s.addPostponed([other, ox])
      const a = decision({ senderKey: S1, owner: BOB, keyId: K('A'), polarity: 'trust', sceTime: T0 + 1 })
      const b = decision({ senderKey: S1, owner: BOB, keyId: K('B'), polarity: 'trust', sceTime: T0 + 2 })
      expect((await s.addPostponed([a, b])).evicted).toEqual([a])
      expect(await s.getPostponed(OMEMO)).toEqual([other, b])
      expect(await s.getPostponed(OX)).toEqual([ox])
    })

    it('replacing a decision at the cap evicts nothing', async () => {
      const s = await capped(2)
      await s.addPostponed([
        decision({ senderKey: S1, owner: BOB, keyId: K('A'), polarity: 'trust', sceTime: T0 }),
        decision({ senderKey: S1, owner: BOB, keyId: K('B'), polarity: 'trust', sceTime: T0 }),
      ])
      const flip = decision({
        senderKey: S1,
        owner: BOB,
        keyId: K('A'),
        polarity: 'distrust',
        sceTime: T0 + 1,
      })
      expect(await s.addPostponed([flip])).toEqual({ stored: [flip], ignored: [], evicted: [] })
      expect(await s.getPostponed(OMEMO)).toHaveLength(2)
    })

    it('without limits the cap is DEFAULT_TRUST_STORE_LIMITS.maxPostponedPerSender', async () => {
      const s = ctx.alice()
      const max = DEFAULT_TRUST_STORE_LIMITS.maxPostponedPerSender
      const many = Array.from({ length: max + 1 }, (_, i) =>
        decision({ senderKey: S1, owner: BOB, keyId: numbered(i), polarity: 'trust', sceTime: T0 + i }),
      )
      const result = await s.addPostponed(many)
      expect(result.evicted).toEqual([many[0]])
      expect(result.stored).toHaveLength(max)
      expect(await s.getPostponed(OMEMO, { senderKeys: [S1] })).toHaveLength(max)
    })
  })

  describe('caps per sender JID and per account (TrustStoreLimits, X10)', () => {
    const capped = async (limits: Partial<TrustStoreLimits>) =>
      (await ctx.createStore({ limits })).forAccount(ALICE)

    it('D-8: the per sender JID cap evicts the oldest across all keys of that JID', async () => {
      const s = await capped({ maxPostponedPerSenderJid: 3 })
      const d1 = decision({
        senderKey: S2,
        senderJid: BOB,
        owner: BOB,
        keyId: K('A'),
        polarity: 'trust',
        sceTime: T0 + 1,
      })
      const d2 = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: K('B'),
        polarity: 'trust',
        sceTime: T0 + 2,
      })
      const d3 = decision({
        senderKey: S3,
        senderJid: BOB,
        owner: BOB,
        keyId: K('C'),
        polarity: 'trust',
        sceTime: T0 + 3,
      })
      expect((await s.addPostponed([d1, d2, d3])).evicted).toEqual([])
      // a fourth decision from S1: the JID's oldest goes, although it was sent by another key (S2)
      const d4 = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: K('D'),
        polarity: 'trust',
        sceTime: T0 + 4,
      })
      expect(await s.addPostponed([d4])).toEqual({ stored: [d4], ignored: [], evicted: [d1] })
      expect(await s.getPostponed(OMEMO)).toEqual([d2, d3, d4])
    })

    it('D-8: a flood from many keys of one JID stays at the per sender JID cap, the newest kept', async () => {
      const s = await capped({ maxPostponedPerSender: 4, maxPostponedPerSenderJid: 10 })
      // 8 keys × 4 decisions each = 32, every key within its own cap
      const all: PostponedDecision[] = []
      for (let k = 0; k < 8; k++) {
        const batch = Array.from({ length: 4 }, (_, i) =>
          decision({
            senderKey: numbered(k, 9),
            senderJid: BOB,
            owner: BOB,
            keyId: numbered(i),
            polarity: 'trust',
            sceTime: T0 + k * 4 + i,
          }),
        )
        all.push(...batch)
        await s.addPostponed(batch)
      }
      expect(await s.getPostponed(OMEMO)).toEqual(all.slice(-10))
    })

    it('the per sender JID cap leaves other JIDs and the same JID in another encryption alone', async () => {
      const s = await capped({ maxPostponedPerSenderJid: 1 })
      const carol = decision({
        senderKey: S2,
        senderJid: CAROL,
        owner: CAROL,
        keyId: K('A'),
        polarity: 'trust',
        sceTime: T0,
      })
      const ox = decision({
        encryption: OX,
        senderKey: S3,
        senderJid: BOB,
        owner: BOB,
        keyId: K('A'),
        polarity: 'trust',
        sceTime: T0,
      })
      await s.addPostponed([carol, ox])
      const a = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: K('A'),
        polarity: 'trust',
        sceTime: T0 + 1,
      })
      const b = decision({
        senderKey: S3,
        senderJid: BOB,
        owner: BOB,
        keyId: K('B'),
        polarity: 'trust',
        sceTime: T0 + 2,
      })
      expect(await s.addPostponed([a, b])).toEqual({ stored: [b], ignored: [], evicted: [a] })
      expect(await s.getPostponed(OMEMO)).toEqual([carol, b])
      expect(await s.getPostponed(OX)).toEqual([ox])
    })

    it('replacing a decision at the per sender JID cap evicts nothing', async () => {
      const s = await capped({ maxPostponedPerSenderJid: 2 })
      await s.addPostponed([
        decision({
          senderKey: S1,
          senderJid: BOB,
          owner: BOB,
          keyId: K('A'),
          polarity: 'trust',
          sceTime: T0,
        }),
        decision({
          senderKey: S2,
          senderJid: BOB,
          owner: BOB,
          keyId: K('B'),
          polarity: 'trust',
          sceTime: T0,
        }),
      ])
      const flip = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: K('A'),
        polarity: 'distrust',
        sceTime: T0 + 1,
      })
      expect(await s.addPostponed([flip])).toEqual({ stored: [flip], ignored: [], evicted: [] })
      expect(await s.getPostponed(OMEMO)).toHaveLength(2)
    })

    it('the per account cap evicts the oldest of any sender and any encryption, and reports it', async () => {
      const s = await capped({ maxPostponedPerAccount: 3 })
      const ox = decision({
        encryption: OX,
        senderKey: S3,
        senderJid: CAROL,
        owner: CAROL,
        keyId: K('A'),
        polarity: 'trust',
        sceTime: T0 + 1,
      })
      const bob = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: K('B'),
        polarity: 'trust',
        sceTime: T0 + 2,
      })
      const dave = decision({
        senderKey: S2,
        senderJid: DAVE,
        owner: DAVE,
        keyId: K('C'),
        polarity: 'trust',
        sceTime: T0 + 3,
      })
      await s.addPostponed([ox, bob, dave])
      const newer = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: K('D'),
        polarity: 'trust',
        sceTime: T0 + 4,
      })
      expect(await s.addPostponed([newer])).toEqual({ stored: [newer], ignored: [], evicted: [ox] })
      expect(await s.getPostponed(OX)).toEqual([])
      expect(await s.getPostponed(OMEMO)).toEqual([bob, dave, newer])
      // a given decision older than all kept is evicted at once: in `evicted`, not in `stored`
      const old = decision({
        senderKey: S2,
        senderJid: DAVE,
        owner: DAVE,
        keyId: K('E'),
        polarity: 'trust',
        sceTime: T0,
      })
      expect(await s.addPostponed([old])).toEqual({ stored: [], ignored: [], evicted: [old] })
    })

    it('the per account cap counts one account only', async () => {
      const store = await ctx.createStore({ limits: { maxPostponedPerAccount: 1 } })
      const a = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: K('A'),
        polarity: 'trust',
        sceTime: T0,
      })
      const b = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: K('B'),
        polarity: 'trust',
        sceTime: T0 + 1,
      })
      await store.forAccount(ALICE).addPostponed([a])
      expect((await store.forAccount(CAROL).addPostponed([b])).evicted).toEqual([])
      expect(await store.forAccount(ALICE).getPostponed(OMEMO)).toEqual([a])
    })

    it('evictions reported: one call over all three caps reports every evicted decision once, oldest first', async () => {
      const s = await capped({
        maxPostponedPerSender: 2,
        maxPostponedPerSenderJid: 3,
        maxPostponedPerAccount: 3,
      })
      const carol = decision({
        senderKey: S3,
        senderJid: CAROL,
        owner: CAROL,
        keyId: K('C'),
        polarity: 'trust',
        sceTime: T0 + 1,
      })
      const bobOld = decision({
        senderKey: S2,
        senderJid: BOB,
        owner: BOB,
        keyId: K('B'),
        polarity: 'trust',
        sceTime: T0 + 2,
      })
      await s.addPostponed([carol])
      await s.addPostponed([bobOld])
      const given = [3, 4, 5].map((i) =>
        decision({
          senderKey: S1,
          senderJid: BOB,
          owner: BOB,
          keyId: numbered(i),
          polarity: 'trust',
          sceTime: T0 + i,
        }),
      )
      const other = decision({
        senderKey: K('V'),
        senderJid: BOB,
        owner: BOB,
        keyId: K('V'),
        polarity: 'trust',
        sceTime: T0 + 6,
      })
      const result = await s.addPostponed([...given, other])
      // per sender key S1: given[0]; per JID bob: bobOld; per account: carol
      expect(result).toEqual({
        stored: [given[1], given[2], other],
        ignored: [],
        evicted: [carol, bobOld, given[0]],
      })
      expect(await s.getPostponed(OMEMO)).toEqual([given[1], given[2], other])
    })

    it('the caps apply in order: per sender key first, then per sender JID, then per account', async () => {
      // S1 was recorded for two JIDs (a replaced decision keeps its new senderJid): the groups
      // overlap, so the order decides what is left
      const s = await capped({ maxPostponedPerSender: 1, maxPostponedPerSenderJid: 1 })
      const bob = decision({
        senderKey: S1,
        senderJid: BOB,
        owner: BOB,
        keyId: K('A'),
        polarity: 'trust',
        sceTime: T0 + 1,
      })
      const carolS2 = decision({
        senderKey: S2,
        senderJid: CAROL,
        owner: CAROL,
        keyId: K('C'),
        polarity: 'trust',
        sceTime: T0 + 3,
      })
      await s.addPostponed([bob])
      await s.addPostponed([carolS2])
      const carolS1 = decision({
        senderKey: S1,
        senderJid: CAROL,
        owner: CAROL,
        keyId: K('B'),
        polarity: 'trust',
        sceTime: T0 + 2,
      })
      // sender key S1 over 1: `bob` goes; then JID carol over 1: `carolS1` goes (JID first would
      // have kept `bob` and evicted only `carolS1`)
      expect(await s.addPostponed([carolS1])).toEqual({ stored: [], ignored: [], evicted: [bob, carolS1] })
      expect(await s.getPostponed(OMEMO)).toEqual([carolS2])
    })

    it('defaults: 4,096 per sender JID and 65,536 per account in DEFAULT_TRUST_STORE_LIMITS', () => {
      expect(DEFAULT_TRUST_STORE_LIMITS).toEqual({
        maxPostponedPerSender: 1024,
        maxPostponedPerSenderJid: 4096,
        maxPostponedPerAccount: 65_536,
      })
    })

    it('without limits the per sender JID cap is DEFAULT_TRUST_STORE_LIMITS.maxPostponedPerSenderJid', async () => {
      const s = ctx.alice()
      const perKey = DEFAULT_TRUST_STORE_LIMITS.maxPostponedPerSender
      const max = DEFAULT_TRUST_STORE_LIMITS.maxPostponedPerSenderJid
      // one more key's worth than the JID may keep, every key within its own cap
      const keys = max / perKey + 1
      const many = Array.from({ length: keys * perKey }, (_, n) =>
        decision({
          senderKey: numbered(Math.floor(n / perKey), 9),
          senderJid: BOB,
          owner: BOB,
          keyId: numbered(n % perKey),
          polarity: 'trust',
          sceTime: T0 + n,
        }),
      )
      const result = await s.addPostponed(many)
      expect(result.evicted).toEqual(many.slice(0, many.length - max))
      expect(result.stored).toEqual(many.slice(-max))
      expect(await s.getPostponed(OMEMO)).toHaveLength(max)
    })
  })
}
