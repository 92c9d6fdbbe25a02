/**
 * D-8 and the postponed caps (X10): store-sqlite answers exactly like the reference store
 * (`@vouch/store-memory`) for random sequences of `addPostponed` calls over small caps, with
 * overlapping groups (a sender key recorded for two JIDs), ties on times and two encryptions:
 * the same `stored` / `ignored` / `evicted` for every call and the same decisions left.
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, KeyId, PostponedDecision, TrustStoreLimits } from '@vouch/tm-core/contracts'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sqliteStore } from '../src/index.ts'
import { ME } from './helpers.ts'

const ENCRYPTIONS = ['urn:xmpp:omemo:2', 'urn:xmpp:openpgp:0'] as const
const JIDS = ['bob@example.com', 'carol@example.net', 'dave@example.net'] as BareJid[]
const SENDER_KEYS = ['s1', 's2', 's3', 's4'] as KeyId[]
const KEY_IDS = ['k1', 'k2', 'k3', 'k4', 'k5'] as KeyId[]

const decision: fc.Arbitrary<PostponedDecision> = fc.record({
  encryption: fc.constantFrom(...ENCRYPTIONS),
  senderKey: fc.constantFrom(...SENDER_KEYS),
  senderJid: fc.constantFrom(...JIDS),
  owner: fc.constantFrom(...JIDS),
  keyId: fc.constantFrom(...KEY_IDS),
  polarity: fc.constantFrom('trust' as const, 'distrust' as const),
  sceTime: fc.integer({ min: 0, max: 6 }),
  receivedAt: fc.integer({ min: 0, max: 3 }),
})

const limits: fc.Arbitrary<Required<TrustStoreLimits>> = fc.record({
  maxPostponedPerSender: fc.integer({ min: 1, max: 4 }),
  maxPostponedPerSenderJid: fc.integer({ min: 1, max: 6 }),
  maxPostponedPerAccount: fc.integer({ min: 1, max: 10 }),
})

describe('D-8, X10: store-sqlite keeps the postponed caps exactly like the reference store', () => {
  it('the same results and the same decisions left for random calls and caps', async () => {
    await fc.assert(
      fc.asyncProperty(
        limits,
        fc.array(fc.array(decision, { maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        async (caps, calls) => {
          const reference = memoryStore({ limits: caps })
          const sqlite = await sqliteStore({ database: ':memory:', limits: caps })
          try {
            const m = reference.forAccount(ME)
            const q = sqlite.forAccount(ME)
            for (const call of calls) expect(await q.addPostponed(call)).toEqual(await m.addPostponed(call))
            for (const enc of ENCRYPTIONS)
              expect(await q.getPostponed(enc)).toEqual(await m.getPostponed(enc))
          } finally {
            await sqlite.close()
          }
        },
      ),
      { numRuns: 300 },
    )
    // 300 stores opened and migrated: about 4.5 s alone, more on a loaded machine (same before
    // and after the sql-core split, measured side by side)
  }, 30_000)
})
