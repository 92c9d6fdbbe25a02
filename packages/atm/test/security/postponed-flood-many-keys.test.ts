/**
 * Attack (hardening item 6, X10): one unauthenticated contact with many devices floods the
 * postponed store. Every device (sender key) sends four full trust messages of 256 decisions
 * about the contact's own keys: each key stays within the per-sender-key cap (1,024), so before
 * the per-JID cap the store kept 40 × 1,024 = 40,960 rows, linear in the number of keys. The
 * store now keeps at most `maxPostponedPerSenderJid` per (encryption, sender JID) and
 * `maxPostponedPerAccount` in all; the newest survive, and every eviction is reported by the
 * engine (result `evicted` and `postponed-evicted` events), exactly once.
 */
import type { BareJid, FullJid, KeyId, PostponedDecision, TrustStoreLimits } from '@vouch/tm-core'
import { DEFAULT_TRUST_STORE_LIMITS, NS_OMEMO_2, parseBareJid, parseFullJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import type { AtmLimits, ReceiveResult } from '../../src/index.ts'
import { A1, omemoKey, trustMessage } from '../helpers.ts'
import { endpoint, STORES, type StoreEntry } from '../stores.ts'

const NS = NS_OMEMO_2
const d8 = (d: PostponedDecision): string => `${d.encryption} ${d.senderKey} ${d.owner} ${d.keyId}`

interface Flood {
  /** contacts flooding, each with `keys` devices */
  readonly jids: number
  readonly keys: number
  readonly messagesPerKey: number
  readonly idsPerMessage: number
}

interface Outcome {
  readonly left: readonly PostponedDecision[]
  readonly sent: readonly PostponedDecision[]
  readonly evicted: readonly PostponedDecision[]
  readonly events: readonly PostponedDecision[]
  readonly results: readonly ReceiveResult[]
}

/** Runs the flood through `handleTrustMessage`, one message at a time, newest last. */
async function flood(
  store: StoreEntry,
  f: Flood,
  storeLimits?: Partial<TrustStoreLimits>,
  limits?: Partial<AtmLimits>,
): Promise<Outcome> {
  const ep = await endpoint({
    store,
    ownKeys: { [NS]: A1 },
    ...(storeLimits === undefined ? {} : { storeLimits }),
    ...(limits === undefined ? {} : { limits }),
  })
  const events: PostponedDecision[] = []
  ep.atm.on('postponed-evicted', (e) => events.push(e.decision))
  const ids: KeyId[] = Array.from({ length: f.messagesPerKey * f.idsPerMessage }, (_, i) =>
    omemoKey(`id${i}`),
  )
  const results: ReceiveResult[] = []
  const sent: PostponedDecision[] = []
  let sceTime = 1_000
  for (let j = 0; j < f.jids; j++) {
    const contact: BareJid = parseBareJid(`contact${j}@example.net`)
    const device: FullJid = parseFullJid(`${contact}/phone`)
    for (let k = 0; k < f.keys; k++) {
      const senderKey = omemoKey(`${contact} device ${k}`)
      for (let m = 0; m < f.messagesPerKey; m++) {
        const trust = ids.slice(m * f.idsPerMessage, (m + 1) * f.idsPerMessage)
        const r = await ep.atm.handleTrustMessage({
          message: trustMessage(NS, [{ jid: contact, trust }]),
          senderJid: device,
          senderKey,
          carrier: NS,
          encrypted: true,
          sceTime: ++sceTime,
        })
        expect(r.outcome).toBe('postponed')
        results.push(r)
        sent.push(...r.postponed)
      }
    }
  }
  const left = await ep.store.getPostponed(NS)
  await ep.close()
  return { left, sent, evicted: results.flatMap((r) => r.evicted), events, results }
}

/**
 * The flood is bounded: `kept` (the newest decisions of each group, as the test works them out)
 * are left and nothing else, and every other decision was reported evicted exactly once.
 */
function expectBounded(o: Outcome, kept: readonly PostponedDecision[], total: number): void {
  expect(o.sent).toHaveLength(total) // every decision was stored when it arrived
  expect(o.left.map(d8)).toEqual(kept.map(d8))
  // every eviction reported exactly once, in the results and as events
  expect(new Set(o.evicted.map(d8)).size).toBe(o.evicted.length)
  expect(o.events.map(d8)).toEqual(o.evicted.map(d8))
  expect(new Set([...o.left, ...o.evicted].map(d8))).toEqual(new Set(o.sent.map(d8)))
}

/** The last `n` of `list` (decisions are sent in the contract's order: newer SCE time each message). */
const newest = (list: readonly PostponedDecision[], n: number): PostponedDecision[] => list.slice(-n)

describe.each(STORES)('X10 attack: postponed flood from one contact with many keys ($name)', (store) => {
  it('X10, D-8: 40 keys × 4 messages × 256 decisions stay within the per sender JID cap (default limits)', async () => {
    const f: Flood = { jids: 1, keys: 40, messagesPerKey: 4, idsPerMessage: 256 }
    const o = await flood(store, f)
    // before the per-JID cap: 40,960 rows (each key exactly at its own cap of 1,024)
    const bound = DEFAULT_TRUST_STORE_LIMITS.maxPostponedPerSenderJid
    expect(o.left).toHaveLength(bound)
    expectBounded(o, newest(o.sent, bound), 40 * 4 * 256)
  }, 30_000)

  it('X10, D-8: the same flood scaled down: bounded by the per sender JID cap, not by the number of keys', async () => {
    const f: Flood = { jids: 1, keys: 40, messagesPerKey: 4, idsPerMessage: 4 }
    const o = await flood(
      store,
      f,
      { maxPostponedPerSender: 16, maxPostponedPerSenderJid: 24 },
      { maxKeyIdsPerOwner: 4 },
    )
    expect(o.left).toHaveLength(24)
    expectBounded(o, newest(o.sent, 24), 40 * 4 * 4)
  })

  it('X10: many contacts with many keys each stay within the per account cap', async () => {
    const f: Flood = { jids: 6, keys: 10, messagesPerKey: 4, idsPerMessage: 4 }
    const o = await flood(
      store,
      f,
      { maxPostponedPerSender: 16, maxPostponedPerSenderJid: 40, maxPostponedPerAccount: 100 },
      { maxKeyIdsPerOwner: 4 },
    )
    // 6 × 160 decisions; each contact is cut to its newest 40, then the account to its newest 100
    const jids = [...new Set(o.sent.map((d) => d.senderJid))]
    const perJid = jids.flatMap((j) =>
      newest(
        o.sent.filter((d) => d.senderJid === j),
        40,
      ),
    )
    expect(o.left).toHaveLength(100)
    expectBounded(o, newest(perJid, 100), 6 * 10 * 4 * 4)
  })
})
