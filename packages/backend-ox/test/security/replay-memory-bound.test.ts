/**
 * Attack: exhausting the replay memory. Remembering every message forever would let any sender
 * grow the store without bound, and a memory that silently forgets would let a replay through.
 * So the memory is bounded twice, and fails closed:
 * - by count (`maxReplayEntries`): beyond it the oldest entries by signed time are evicted and the
 *   persisted floor rises to them; anything signed at or before the floor is `REPLAY` (we can no
 *   longer tell), also after a restart;
 * - by time, on the clock (`deps.now`), never on a message's reference time: an entry goes once
 *   its bucket lies wholly before `clock − (maxAge + maxReferenceAge + futureSkew)`, when no
 *   bounded reference time can make it pass `OX-TIME` again;
 * - each accepted message rewrites one small shard, in a namespace of its time bucket, and the
 *   small `meta` record (no blob of every message).
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, Element, TrustStore } from '@vouch/tm-core'
import type * as openpgp from 'openpgp'
import { beforeAll, describe, expect, it } from 'vitest'
import type { OxBackend, OxPolicy } from '../../src/index.ts'
import { generateOxKey, OX_REPLAY_STATE_NAMESPACE, oxBackend } from '../../src/index.ts'
import { ALICE, BOB, body, importKey, rejectionOf, rememberedMessages, stanza } from '../helpers.ts'

const DAY = 24 * 3600 * 1000
const YEAR_AGO = new Date(Date.now() - 365 * DAY)
const REPLAY = { name: 'DecryptionError', rule: 'REPLAY' }
let aliceKey: openpgp.PrivateKey
let bobKey: openpgp.PrivateKey
let alice: OxBackend

beforeAll(async () => {
  aliceKey = await generateOxKey(ALICE, { date: YEAR_AGO })
  bobKey = await generateOxKey(BOB, { date: YEAR_AGO })
  const aliceStore = memoryStore().forAccount(ALICE)
  alice = oxBackend()({ store: aliceStore })
  await alice.importOwnKey(aliceKey)
  await importKey(alice, aliceStore, BOB, bobKey.toPublic().write())
})

/** bob on `store`, with a clock the test moves. */
async function bobOn(
  store: TrustStore,
  clock: { now: Date },
  policy: Partial<OxPolicy> = {},
): Promise<OxBackend> {
  const ox = oxBackend({ policy })({ store: store.forAccount(BOB), now: () => clock.now })
  if ((await ox.ownKeyInfo()) === undefined) {
    await ox.importOwnKey(bobKey)
    await ox.importPublicKey(ALICE as BareJid, aliceKey.toPublic().write())
  }
  return ox
}

/** A message from alice signed at `time` (whole seconds). */
async function signedAt(time: Date, text = `at ${time.toISOString()}`): Promise<Element> {
  return (await alice.encrypt(body(text), [BOB], { now: time })).element
}

const second = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000)

describe('replay memory bound (cap and floor, pruning by the clock)', () => {
  it('beyond maxReplayEntries the oldest (by signed time) are evicted, and the floor rejects them and anything older, after a restart too', async () => {
    const store = memoryStore()
    const clock = { now: second(Date.now()) }
    const bob = await bobOn(store, clock, { maxReplayEntries: 4 })
    const minute = 60 * 1000
    const times = [50, 40, 30, 20, 10].map((m) => new Date(clock.now.getTime() - m * minute))
    const messages = await Promise.all(times.map((t) => signedAt(t)))
    // delivered out of order: eviction goes by signed time, not by arrival
    for (const i of [2, 0, 4, 1, 3]) await bob.decrypt(messages[i] as Element, stanza(ALICE, BOB))
    // the 5th entry went over the cap of 4: the oldest 5% (at least one) below the cap went: 2
    expect(await rememberedMessages(store.forAccount(BOB))).toBe(3)
    for (const m of messages)
      expect(await rejectionOf(bob.decrypt(m, stanza(ALICE, BOB)))).toMatchObject(REPLAY)
    // fail closed: a message never seen, signed at the newest evicted time (the floor), is refused
    const atFloor = await signedAt(times[1] as Date, 'never seen, signed at the floor')
    const e = await rejectionOf(bob.decrypt(atFloor, stanza(ALICE, BOB)))
    expect(e).toMatchObject(REPLAY)
    expect(e.message).toContain('floor')
    // one second later is above the floor: accepted
    const above = await signedAt(new Date((times[1] as Date).getTime() + 1000), 'above the floor')
    await bob.decrypt(above, stanza(ALICE, BOB))
    // the floor is persisted: a new backend instance on the same store still refuses
    const restarted = await bobOn(store, clock, { maxReplayEntries: 4 })
    expect(await rejectionOf(restarted.decrypt(messages[0] as Element, stanza(ALICE, BOB)))).toMatchObject(
      REPLAY,
    )
    expect(await rejectionOf(restarted.decrypt(atFloor, stanza(ALICE, BOB)))).toMatchObject(REPLAY)
    expect(await rememberedMessages(store.forAccount(BOB))).toBeLessThanOrEqual(4)
  })

  it('prunes by the clock, not by the reference time: an old archived message stays remembered while a late reference time passes', async () => {
    const store = memoryStore()
    const c = second(Date.now())
    const clock = { now: c }
    const bob = await bobOn(store, clock)
    // an archived message signed 36 days ago, stamped by our server 30 days ago (the bound)
    const archived = await signedAt(new Date(c.getTime() - 36 * DAY))
    const stamp = new Date(c.getTime() - 30 * DAY)
    await bob.decrypt(archived, stanza(ALICE, BOB), { now: stamp })
    // a caller passing a reference time a month ahead of the clock must not prune it
    const ahead = new Date(c.getTime() + 30 * DAY)
    await bob.decrypt(await signedAt(ahead), stanza(ALICE, BOB), { now: ahead })
    expect(await rememberedMessages(store.forAccount(BOB))).toBe(2)
    expect(await rejectionOf(bob.decrypt(archived, stanza(ALICE, BOB), { now: stamp }))).toMatchObject(REPLAY)
    // nothing was forgotten, so the floor did not rise: an older message, never seen, is accepted
    const older = await signedAt(new Date(c.getTime() - 36 * DAY - 3600 * 1000))
    await bob.decrypt(older, stanza(ALICE, BOB), { now: stamp })
    expect(await rememberedMessages(store.forAccount(BOB))).toBe(3)

    // 45 days on, the first two are past the window on the clock: the next message prunes them
    clock.now = new Date(c.getTime() + 45 * DAY)
    await bob.decrypt(await signedAt(clock.now), stanza(ALICE, BOB))
    expect(await rememberedMessages(store.forAccount(BOB))).toBe(2)
    // a replay of a pruned one: stale for any bounded reference time (OX-TIME) …
    const bounded = new Date(clock.now.getTime() - 30 * DAY)
    expect(await rejectionOf(bob.decrypt(archived, stanza(ALICE, BOB), { now: bounded }))).toMatchObject({
      rule: 'OX-TIME',
    })
    // … and REPLAY (the floor) for a caller that widens the window beyond what is remembered
    expect(
      await rejectionOf(
        bob.decrypt(archived, stanza(ALICE, BOB), { now: bounded, maxAgeSeconds: (90 * DAY) / 1000 }),
      ),
    ).toMatchObject(REPLAY)
  })

  it('remembers each message by rewriting one small shard (in a namespace of its bucket) and the meta record, never a blob of every message', async () => {
    const store = memoryStore()
    const clock = { now: second(Date.now()) }
    const account = store.forAccount(BOB)
    const writes: Array<{ ns: string; key: string; bytes: number }> = []
    const counting = new Proxy(account, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target)
        if (prop === 'transaction')
          return <T>(fn: (tx: AccountTrustStore) => Promise<T>): Promise<T> =>
            target.transaction((tx) =>
              fn(
                new Proxy(tx, {
                  get(t, p) {
                    const v: unknown = Reflect.get(t, p, t)
                    if (p === 'setState' || p === 'deleteState')
                      return async (ns: string, key: string, bytes?: Uint8Array) => {
                        if (ns.startsWith(OX_REPLAY_STATE_NAMESPACE))
                          writes.push({ ns, key, bytes: bytes?.length ?? -1 })
                        return (v as (...a: unknown[]) => Promise<void>).call(t, ns, key, bytes)
                      }
                    return typeof v === 'function' ? v.bind(t) : v
                  },
                }),
              ),
            )
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const bob = oxBackend()({ store: counting, now: () => clock.now })
    await bob.importOwnKey(bobKey)
    await bob.importPublicKey(ALICE, aliceKey.toPublic().write())
    let largest = 0
    for (let i = 0; i < 40; i++) {
      writes.length = 0
      const t = new Date(clock.now.getTime() - (40 - i) * 3600 * 1000)
      await bob.decrypt(await signedAt(t), stanza(ALICE, BOB))
      const [shard, meta, ...more] = writes
      expect(more).toEqual([])
      // the shard in its bucket's namespace (at most 64 keys), then meta beside the buckets
      expect(shard?.ns).toMatch(new RegExp(`^${OX_REPLAY_STATE_NAMESPACE}/[0-9a-f]{6}$`))
      expect(shard?.key).toMatch(/^[0-9a-f]{2}$/)
      expect(meta).toMatchObject({ ns: OX_REPLAY_STATE_NAMESPACE, key: 'meta' })
      // the shard written holds exactly what is stored under its key: its own records, no others
      const stored = await account.getState(shard?.ns as string, shard?.key as string)
      expect(shard?.bytes).toBe(stored?.length)
      expect((shard?.bytes ?? 0) % 38).toBe(0)
      largest = Math.max(largest, shard?.bytes ?? 0)
      expect(meta?.bytes).toBeLessThanOrEqual(9 + 8 * 3) // 40 hours: at most 3 buckets of 18.6 h
    }
    expect(await rememberedMessages(account)).toBe(40)
    // 40 messages spread over 64 shards per bucket: no write carried all of them
    expect(largest).toBeLessThan(40 * 38)
  })
})
