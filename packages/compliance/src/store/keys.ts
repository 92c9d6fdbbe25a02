/** QXmpp 20 (keys), QXmpp 21 (trust levels), QXmpp 22 (reset all), provenance, immutable results. */
import type { KeyRecord, Provenance } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  A1,
  A2,
  A3,
  ALICE,
  B1,
  B2,
  B3,
  BOB,
  byAtm,
  CAROL,
  DAVE,
  EMPTY_SNAPSHOT,
  K,
  manual,
  OMEMO,
  OX,
  PROVENANCES,
  type SuiteContext,
  S1,
  snapshot,
  T0,
  writeEverything,
} from './fixtures.ts'

const ids = (records: readonly KeyRecord[]): string[] => records.map((r) => `${r.owner} ${r.keyId}`)

export function keyTests(ctx: SuiteContext): void {
  describe('QXmpp 20: keys', () => {
    it('QXmpp 20: addKeys stores new keys as automatically-distrusted by default and returns them', async () => {
      const added = await ctx.alice().addKeys(OMEMO, BOB, [B1, B2], manual(T0))
      expect(added).toEqual([
        {
          encryption: OMEMO,
          owner: BOB,
          keyId: B1,
          level: 'automatically-distrusted',
          provenance: { kind: 'manual' },
          firstSeen: T0,
          changedAt: T0,
        },
        {
          encryption: OMEMO,
          owner: BOB,
          keyId: B2,
          level: 'automatically-distrusted',
          provenance: { kind: 'manual' },
          firstSeen: T0,
          changedAt: T0,
        },
      ])
      expect(await ctx.alice().getTrustLevel(OMEMO, BOB, B2)).toBe('automatically-distrusted')
    })

    it('QXmpp 20: addKeys stores the given level', async () => {
      await ctx.alice().addKeys(OMEMO, BOB, [B1], manual(), 'automatically-trusted')
      expect(await ctx.alice().getTrustLevel(OMEMO, BOB, B1)).toBe('automatically-trusted')
    })

    it('ATM-P2: addKeys keeps the level of keys already stored and returns only the added ones', async () => {
      const s = ctx.alice()
      await s.setTrustLevels(OMEMO, [{ owner: BOB, keyIds: [B1], level: 'authenticated' }], manual(T0))
      const added = await s.addKeys(OMEMO, BOB, [B1, B2], manual(T0 + 1), 'automatically-trusted')
      expect(ids(added)).toEqual([`${BOB} ${B2}`])
      expect(await s.getKey(OMEMO, BOB, B1)).toMatchObject({
        level: 'authenticated',
        firstSeen: T0,
        changedAt: T0,
      })
    })

    it('addKeys stores a key listed twice in one call once', async () => {
      const added = await ctx.alice().addKeys(OMEMO, BOB, [B1, B1], manual())
      expect(added).toHaveLength(1)
      expect(await ctx.alice().getKeys(OMEMO)).toHaveLength(1)
    })

    it('getKey and getTrustLevel of an unknown key: undefined and undecided', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1], manual())
      expect(await s.getKey(OMEMO, BOB, B2)).toBeUndefined()
      expect(await s.getTrustLevel(OMEMO, BOB, B2)).toBe('undecided')
      // same key id, other owner: a different key
      expect(await s.getKey(OMEMO, CAROL, B1)).toBeUndefined()
      expect(await s.getTrustLevel(OMEMO, CAROL, B1)).toBe('undecided')
    })

    it('QXmpp 20: getKeys lists all keys sorted by (owner, keyId)', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, CAROL, [K('B'), K('A')], manual())
      await s.addKeys(OMEMO, BOB, [K('C'), K('A')], manual())
      await s.addKeys(OMEMO, ALICE, [K('Z')], manual())
      expect(ids(await s.getKeys(OMEMO))).toEqual([
        `${ALICE} ${K('Z')}`,
        `${BOB} ${K('A')}`,
        `${BOB} ${K('C')}`,
        `${CAROL} ${K('A')}`,
        `${CAROL} ${K('B')}`,
      ])
      expect(await s.getKeys(OMEMO, {})).toEqual(await s.getKeys(OMEMO))
    })

    it('key ids sort by code point, case-sensitively: + / digits upper lower', async () => {
      const s = ctx.alice()
      const order = [K('+'), K('/'), K('0'), K('Z'), K('a')]
      await s.addKeys(OMEMO, BOB, [...order].reverse(), manual())
      expect((await s.getKeys(OMEMO)).map((r) => r.keyId)).toEqual(order)
    })

    it('sort order is by Unicode code point (UTF-8 bytes), not UTF-16 code units', async () => {
      const s = ctx.alice()
      // U+FF61 sorts before U+1F600 by code point, after it by UTF-16 code unit (0xD83D)
      const high = '\u{1F600}@example.org' as typeof BOB
      const bmp = '\uFF61@example.org' as typeof BOB
      await s.addKeys(OMEMO, high, [B1], manual())
      await s.addKeys(OMEMO, bmp, [B1], manual())
      await s.addKeys(OMEMO, BOB, [B1], manual())
      expect((await s.getKeys(OMEMO)).map((r) => r.owner)).toEqual([BOB, bmp, high])
    })

    describe('QXmpp 20: getKeys filters (all given conditions hold)', () => {
      const seed = async () => {
        const s = ctx.alice()
        await s.addKeys(OMEMO, BOB, [B1], manual(), 'authenticated')
        await s.addKeys(OMEMO, BOB, [B2], manual(), 'automatically-trusted')
        await s.addKeys(OMEMO, CAROL, [K('C')], manual(), 'authenticated')
        await s.addKeys(OMEMO, DAVE, [K('D')], manual(), 'manually-distrusted')
        return s
      }

      it('QXmpp 20: by level set', async () => {
        const s = await seed()
        expect(ids(await s.getKeys(OMEMO, { levels: ['authenticated'] }))).toEqual([
          `${BOB} ${B1}`,
          `${CAROL} ${K('C')}`,
        ])
        expect(
          ids(await s.getKeys(OMEMO, { levels: ['automatically-trusted', 'manually-distrusted'] })),
        ).toEqual([`${BOB} ${B2}`, `${DAVE} ${K('D')}`])
      })

      it('QXmpp 20: by owner list', async () => {
        const s = await seed()
        expect(ids(await s.getKeys(OMEMO, { owners: [DAVE, BOB] }))).toEqual([
          `${BOB} ${B1}`,
          `${BOB} ${B2}`,
          `${DAVE} ${K('D')}`,
        ])
      })

      it('QXmpp 20: by owners and levels together', async () => {
        const s = await seed()
        expect(ids(await s.getKeys(OMEMO, { owners: [BOB, DAVE], levels: ['authenticated'] }))).toEqual([
          `${BOB} ${B1}`,
        ])
      })

      it('by key ids, alone and with owners', async () => {
        const s = await seed()
        await s.addKeys(OMEMO, CAROL, [B1], manual())
        expect(ids(await s.getKeys(OMEMO, { keyIds: [B1] }))).toEqual([`${BOB} ${B1}`, `${CAROL} ${B1}`])
        expect(ids(await s.getKeys(OMEMO, { keyIds: [B1, K('D')], owners: [CAROL, DAVE] }))).toEqual([
          `${CAROL} ${B1}`,
          `${DAVE} ${K('D')}`,
        ])
        expect(
          ids(await s.getKeys(OMEMO, { keyIds: [B1], owners: [BOB, CAROL], levels: ['authenticated'] })),
        ).toEqual([`${BOB} ${B1}`])
      })

      it('an empty filter list matches nothing', async () => {
        const s = await seed()
        expect(await s.getKeys(OMEMO, { owners: [] })).toEqual([])
        expect(await s.getKeys(OMEMO, { levels: [] })).toEqual([])
        expect(await s.getKeys(OMEMO, { keyIds: [] })).toEqual([])
      })

      it('QXmpp 20: hasKey with and without levels', async () => {
        const s = await seed()
        expect(await s.hasKey(OMEMO, BOB)).toBe(true)
        expect(await s.hasKey(OMEMO, ALICE)).toBe(false)
        expect(await s.hasKey(OMEMO, BOB, ['automatically-trusted'])).toBe(true)
        expect(await s.hasKey(OMEMO, DAVE, ['authenticated', 'manually-trusted'])).toBe(false)
        expect(await s.hasKey(OMEMO, DAVE, ['manually-distrusted'])).toBe(true)
        expect(await s.hasKey(OMEMO, BOB, [])).toBe(false)
        expect(await s.hasKey(OX, BOB)).toBe(false)
      })
    })

    it('QXmpp 20: removeKeys by ids removes only those keys of that owner', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1, B2, B3], manual())
      await s.addKeys(OMEMO, CAROL, [B1], manual())
      await s.removeKeys(OMEMO, BOB, [B1, B3])
      expect(ids(await s.getKeys(OMEMO))).toEqual([`${BOB} ${B2}`, `${CAROL} ${B1}`])
    })

    it('QXmpp 20: removeKeys without ids removes all of the owner’s keys', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1, B2], manual())
      await s.addKeys(OMEMO, CAROL, [K('C')], manual())
      await s.removeKeys(OMEMO, BOB)
      expect(ids(await s.getKeys(OMEMO))).toEqual([`${CAROL} ${K('C')}`])
      expect(await s.hasKey(OMEMO, BOB)).toBe(false)
    })

    it('QXmpp 20: removeKeysById removes the ids whatever their owner', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1, B2], manual())
      await s.addKeys(OMEMO, CAROL, [B1, K('C')], manual())
      await s.removeKeysById(OMEMO, [B1, K('X')])
      expect(ids(await s.getKeys(OMEMO))).toEqual([`${BOB} ${B2}`, `${CAROL} ${K('C')}`])
    })

    it('QXmpp 20: removals leave the other encryption untouched', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1, B2], manual())
      await s.addKeys(OX, BOB, [B1, B2], manual())
      await s.removeKeys(OMEMO, BOB, [B1])
      await s.removeKeysById(OMEMO, [B2])
      expect(await s.getKeys(OMEMO)).toEqual([])
      expect(ids(await s.getKeys(OX))).toEqual([`${BOB} ${B1}`, `${BOB} ${B2}`])
      await s.removeKeys(OX, BOB)
      expect(await s.getKeys(OX)).toEqual([])
    })
  })

  describe('QXmpp 21: trust levels', () => {
    it('QXmpp 21: setTrustLevels changes stored keys and returns the changed records', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1, B2], manual(T0))
      const changed = await s.setTrustLevels(
        OMEMO,
        [{ owner: BOB, keyIds: [B2, B1], level: 'manually-trusted' }],
        manual(T0 + 5),
      )
      expect(changed.map((r) => [r.keyId, r.level, r.changedAt])).toEqual([
        [B1, 'manually-trusted', T0 + 5],
        [B2, 'manually-trusted', T0 + 5],
      ])
      expect(await s.getTrustLevel(OMEMO, BOB, B1)).toBe('manually-trusted')
    })

    it('QXmpp 21: setting the level of an unknown key creates it and returns it', async () => {
      const s = ctx.alice()
      const changed = await s.setTrustLevels(
        OMEMO,
        [{ owner: BOB, keyIds: [B1], level: 'authenticated' }],
        byAtm(A2, T0 + 7),
      )
      const expected = {
        encryption: OMEMO,
        owner: BOB,
        keyId: B1,
        level: 'authenticated',
        provenance: { kind: 'atm', senderJid: ALICE, senderKey: A2 },
        firstSeen: T0 + 7,
        changedAt: T0 + 7,
      }
      expect(changed).toEqual([expected])
      expect(await s.getKey(OMEMO, BOB, B1)).toEqual(expected)
    })

    it('setTrustLevels returns only keys whose level changed, sorted, across owners', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1], manual(), 'authenticated')
      await s.addKeys(OMEMO, CAROL, [K('C')], manual())
      const changed = await s.setTrustLevels(
        OMEMO,
        [
          { owner: CAROL, keyIds: [K('C'), K('D')], level: 'manually-distrusted' },
          { owner: BOB, keyIds: [B1], level: 'authenticated' },
          { owner: BOB, keyIds: [B2], level: 'manually-trusted' },
        ],
        manual(),
      )
      expect(changed.map((r) => [r.owner, r.keyId, r.level])).toEqual([
        [BOB, B2, 'manually-trusted'],
        [CAROL, K('C'), 'manually-distrusted'],
        [CAROL, K('D'), 'manually-distrusted'],
      ])
    })

    it('setTrustLevels: a key listed twice in one call gets the last level, reported once', async () => {
      const s = ctx.alice()
      const changed = await s.setTrustLevels(
        OMEMO,
        [
          { owner: BOB, keyIds: [B1], level: 'authenticated' },
          { owner: BOB, keyIds: [B1], level: 'manually-distrusted' },
        ],
        manual(),
      )
      expect(changed.map((r) => r.level)).toEqual(['manually-distrusted'])
      expect(await s.getTrustLevel(OMEMO, BOB, B1)).toBe('manually-distrusted')
    })

    it('QXmpp 21: changeTrustLevels moves the given owners’ keys from one level to another', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1, B2], manual(T0), 'automatically-trusted')
      await s.addKeys(OMEMO, BOB, [B3], manual(T0), 'authenticated')
      await s.addKeys(OMEMO, CAROL, [K('C')], manual(T0), 'automatically-trusted')
      await s.addKeys(OMEMO, DAVE, [K('D')], manual(T0), 'automatically-trusted')
      await s.addKeys(OX, BOB, [B1], manual(T0), 'automatically-trusted')
      const changed = await s.changeTrustLevels(
        OMEMO,
        [DAVE, BOB],
        'automatically-trusted',
        'automatically-distrusted',
        { provenance: { kind: 'policy', policy: 'toakafa' }, at: T0 + 9 },
      )
      expect(changed.map((r) => [r.owner, r.keyId, r.level, r.changedAt])).toEqual([
        [BOB, B1, 'automatically-distrusted', T0 + 9],
        [BOB, B2, 'automatically-distrusted', T0 + 9],
        [DAVE, K('D'), 'automatically-distrusted', T0 + 9],
      ])
      expect(changed[0]?.provenance).toEqual({ kind: 'policy', policy: 'toakafa' })
      expect(await s.getTrustLevel(OMEMO, BOB, B3)).toBe('authenticated')
      expect(await s.getTrustLevel(OMEMO, CAROL, K('C'))).toBe('automatically-trusted')
      expect(await s.getTrustLevel(OX, BOB, B1)).toBe('automatically-trusted')
    })

    it('changeTrustLevels with from = to changes nothing', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1], manual(T0), 'manually-trusted')
      expect(
        await s.changeTrustLevels(OMEMO, [BOB], 'manually-trusted', 'manually-trusted', manual(T0 + 1)),
      ).toEqual([])
      expect(await s.getKey(OMEMO, BOB, B1)).toMatchObject({ changedAt: T0 })
    })
  })

  describe('provenance and times', () => {
    it.each(PROVENANCES.map((p) => [p.kind, p] as const))(
      'provenance %s is stored as given',
      async (_, p) => {
        const s = ctx.alice()
        await s.addKeys(OMEMO, BOB, [B1], { provenance: p, at: T0 })
        expect((await s.getKey(OMEMO, BOB, B1))?.provenance).toEqual(p)
      },
    )

    it('a level change moves changedAt and provenance; firstSeen stays', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1], manual(T0))
      await s.setTrustLevels(
        OMEMO,
        [{ owner: BOB, keyIds: [B1], level: 'authenticated' }],
        byAtm(S1, T0 + 50),
      )
      expect(await s.getKey(OMEMO, BOB, B1)).toEqual({
        encryption: OMEMO,
        owner: BOB,
        keyId: B1,
        level: 'authenticated',
        provenance: { kind: 'atm', senderJid: ALICE, senderKey: S1 },
        firstSeen: T0,
        changedAt: T0 + 50,
      })
    })

    it('setting the level a key already has changes neither changedAt nor provenance', async () => {
      const s = ctx.alice()
      await s.addKeys(OMEMO, BOB, [B1], manual(T0), 'authenticated')
      const before = await s.getKey(OMEMO, BOB, B1)
      await s.setTrustLevels(
        OMEMO,
        [{ owner: BOB, keyIds: [B1], level: 'authenticated' }],
        byAtm(S1, T0 + 50),
      )
      expect(await s.getKey(OMEMO, BOB, B1)).toEqual(before)
    })
  })

  describe('returned records do not alias store state', () => {
    it('mutating a returned record or list does not change the store', async () => {
      const s = ctx.alice()
      const [added] = await s.addKeys(OMEMO, BOB, [B1], manual(T0))
      const got = await s.getKey(OMEMO, BOB, B1)
      const list = await s.getKeys(OMEMO)
      for (const r of [added, got, list[0]]) {
        try {
          const w = r as { level: string; provenance: { kind: string } }
          w.level = 'authenticated'
          w.provenance.kind = 'uri'
        } catch {
          // frozen records are fine too
        }
      }
      try {
        ;(list as KeyRecord[]).push({ ...(added as KeyRecord), keyId: B2 })
      } catch {
        // frozen arrays are fine too
      }
      expect(await s.getKey(OMEMO, BOB, B1)).toMatchObject({
        level: 'automatically-distrusted',
        provenance: { kind: 'manual' },
      })
      expect(await s.getKeys(OMEMO)).toHaveLength(1)
    })

    it('mutating the arguments after a call does not change the store', async () => {
      const s = ctx.alice()
      const keyIds = [B1]
      const provenance: { kind: string; senderJid?: string; senderKey?: string } = {
        kind: 'atm',
        senderJid: ALICE,
        senderKey: A2,
      }
      await s.addKeys(OMEMO, BOB, keyIds, { provenance: provenance as Provenance, at: T0 })
      keyIds.push(B2)
      provenance.kind = 'manual'
      provenance.senderKey = A3
      expect(await s.getKeys(OMEMO)).toHaveLength(1)
      expect((await s.getKey(OMEMO, BOB, B1))?.provenance).toEqual({
        kind: 'atm',
        senderJid: ALICE,
        senderKey: A2,
      })
    })
  })

  describe('QXmpp 22: reset all', () => {
    it('QXmpp 22: resetAll clears every kind of data of one encryption and leaves the other', async () => {
      const s = ctx.alice()
      await writeEverything(s, OMEMO)
      await writeEverything(s, OX)
      const ox = await snapshot(s, OX)
      await s.resetAll(OMEMO)
      expect({ ...((await snapshot(s, OMEMO)) as object), stateKeys: [], state: undefined }).toEqual(
        EMPTY_SNAPSHOT,
      )
      expect(await snapshot(s, OX)).toEqual(ox)
      expect(await s.getOwnKey(OX)).toBe(A1)
    })

    it('QXmpp 22: resetAll does not touch backend state', async () => {
      const s = ctx.alice()
      await writeEverything(s, OMEMO)
      await s.setState('omemo', 'identity', new Uint8Array([9]))
      await s.resetAll(OMEMO)
      expect(await s.getState('omemo', 'identity')).toEqual(new Uint8Array([9]))
      expect(await s.listState(`ns:${OMEMO}`)).toEqual(['session/1'])
    })
  })
}
