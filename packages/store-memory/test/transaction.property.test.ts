import type { AccountTrustStore, KeyId, TrustLevel } from '@vouch/tm-core'
import { parseBareJid, parseKeyIdBase64, TRUST_LEVELS } from '@vouch/tm-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../src/index.ts'

const ACCOUNT = parseBareJid('alice@example.org')
const ENCRYPTIONS = ['urn:xmpp:omemo:2', 'urn:xmpp:openpgp:0'] as const
const OWNERS = [parseBareJid('bob@example.com'), parseBareJid('carol@example.net')] as const
const KEYS: readonly KeyId[] = ['A', 'B', 'C'].map((c) => parseKeyIdBase64(`${c.repeat(42)}A=`))

type Command = (s: AccountTrustStore) => Promise<unknown>

const enc = fc.constantFrom(...ENCRYPTIONS)
const owner = fc.constantFrom(...OWNERS)
const key = fc.constantFrom(...KEYS)
const keys = fc.subarray([...KEYS])
const level = fc.constantFrom<TrustLevel>(...TRUST_LEVELS)
const at = fc.integer({ min: 0, max: 100 })
const ctx = at.map((t) => ({ provenance: { kind: 'manual' as const }, at: t }))

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.tuple(enc, owner, keys, ctx, level).map(
    ([e, o, k, c, l]): Command =>
      (s) =>
        s.addKeys(e, o, k, c, l),
  ),
  fc.tuple(enc, owner, keys, ctx, level).map(
    ([e, o, k, c, l]): Command =>
      (s) =>
        s.setTrustLevels(e, [{ owner: o, keyIds: k, level: l }], c),
  ),
  fc.tuple(enc, owner, level, level, ctx).map(
    ([e, o, from, to, c]): Command =>
      (s) =>
        s.changeTrustLevels(e, [o], from, to, c),
  ),
  fc.tuple(enc, owner, keys).map(
    ([e, o, k]): Command =>
      (s) =>
        s.removeKeys(e, o, k),
  ),
  fc.tuple(enc, keys).map(
    ([e, k]): Command =>
      (s) =>
        s.removeKeysById(e, k),
  ),
  fc.tuple(enc, owner).map(
    ([e, o]): Command =>
      (s) =>
        s.resetAuthenticatedOnce(e, o),
  ),
  fc.tuple(enc, key).map(
    ([e, k]): Command =>
      (s) =>
        s.setOwnKey(e, k),
  ),
  enc.map(
    (e): Command =>
      (s) =>
        s.resetAll(e),
  ),
  fc.tuple(enc, key, owner, key, fc.constantFrom('trust' as const, 'distrust' as const), at).map(
    ([e, sender, o, k, polarity, t]): Command =>
      (s) =>
        s.addPostponed([
          {
            encryption: e,
            senderKey: sender,
            senderJid: ACCOUNT,
            owner: o,
            keyId: k,
            polarity,
            sceTime: t,
            receivedAt: t,
          },
        ]),
  ),
  fc.tuple(enc, keys).map(
    ([e, k]): Command =>
      (s) =>
        s.removePostponedBySenders(e, k),
  ),
  fc.tuple(enc, key, owner, key, at).map(
    ([e, sk, o, k, t]): Command =>
      (s) =>
        s.setLastApplied(e, sk, o, k, t),
  ),
  fc.tuple(key, fc.uint8Array({ maxLength: 4 })).map(
    ([k, v]): Command =>
      (s) =>
        s.setState('ns', k, v),
  ),
  key.map(
    (k): Command =>
      (s) =>
        s.deleteState('ns', k),
  ),
)

async function dump(s: AccountTrustStore): Promise<unknown> {
  const out: unknown[] = []
  for (const e of ENCRYPTIONS) {
    out.push(await s.getKeys(e), await s.getOwnKey(e), await s.getPostponed(e))
    for (const o of OWNERS) {
      out.push(await s.wasAuthenticatedOnce(e, o))
      for (const sk of KEYS) for (const k of KEYS) out.push(await s.getLastApplied(e, sk, o, k))
    }
  }
  for (const k of await s.listState('ns')) out.push(k, await s.getState('ns', k))
  return out
}

describe('transactions (property)', () => {
  it('a transaction that commits equals the same writes made as plain calls', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { maxLength: 12 }),
        fc.array(command, { maxLength: 12 }),
        async (setup, cmds) => {
          const viaTx = memoryStore().forAccount(ACCOUNT)
          const plain = memoryStore().forAccount(ACCOUNT)
          for (const c of setup) {
            await c(viaTx)
            await c(plain)
          }
          await viaTx.transaction(async (tx) => {
            for (const c of cmds) await c(tx)
          })
          for (const c of cmds) await c(plain)
          expect(await dump(viaTx)).toEqual(await dump(plain))
        },
      ),
      { numRuns: 100 },
    )
  })

  it('a transaction that throws after any writes leaves the account as it was', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { maxLength: 12 }),
        fc.array(command, { maxLength: 12 }),
        async (setup, cmds) => {
          const s = memoryStore().forAccount(ACCOUNT)
          for (const c of setup) await c(s)
          const before = await dump(s)
          const boom = new Error('boom')
          await expect(
            s.transaction(async (tx) => {
              for (const c of cmds) await c(tx)
              throw boom
            }),
          ).rejects.toBe(boom)
          expect(await dump(s)).toEqual(before)
        },
      ),
      { numRuns: 100 },
    )
  })
})
