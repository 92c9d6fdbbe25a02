/**
 * The replay memory's record format (src/replay.ts): the `meta` record round-trips, a record it
 * did not write is a `StoreError` (the memory fails closed: the message is refused and nothing is
 * written), bucket namespaces sort by signed time, and a memory of the development layout
 * (version 1) is moved to the current one with every record and the floor.
 */
import { describe, expect, it } from 'vitest'
import { memoryStore } from '@vouch/store-memory'
import type { Element } from '@vouch/tm-core'
import { OX_REPLAY_STATE_NAMESPACE, oxBackend } from '../src/index.ts'
import {
  decodeReplayMeta,
  encodeReplayMeta,
  replayBucketNamespace,
  replayDigests,
  replayShard,
} from '../src/replay.ts'
import {
  ALICE,
  BOB,
  body,
  introducedParties,
  ownPrivate,
  type Party,
  rejectionOf,
  replayMemory,
  stanza,
} from './helpers.ts'

const NS = OX_REPLAY_STATE_NAMESPACE

/** Where bob's memory keeps `sent` once he accepted it: learnt from another receiver that did. */
async function shardOf(alice: Party, bob: Party, sent: Element): Promise<{ namespace: string; key: string }> {
  const probeStore = memoryStore().forAccount(BOB)
  const probe = oxBackend()({ store: probeStore })
  await probe.importOwnKey(await ownPrivate(bob))
  await probe.importPublicKey(ALICE, await alice.ox.exportPublicKey())
  await probe.decrypt(sent, stanza(ALICE, BOB))
  const [bucket] = decodeReplayMeta(await probeStore.getState(NS, 'meta')).buckets.keys()
  const namespace = replayBucketNamespace(bucket as number)
  const [key] = await probeStore.listState(namespace)
  return { namespace, key: key as string }
}

describe('replay memory records', () => {
  it('meta round-trips (floor and per-bucket counts, ascending)', () => {
    const meta = {
      floor: 1_700_000_000_123,
      buckets: new Map([
        [6335, 2],
        [6333, 7],
      ]),
    }
    const bytes = encodeReplayMeta(meta)
    expect(bytes.length).toBe(9 + 8 * 2)
    const back = decodeReplayMeta(bytes)
    expect(back.floor).toBe(meta.floor)
    expect([...back.buckets]).toEqual([
      [6333, 7],
      [6335, 2],
    ])
    expect(decodeReplayMeta(undefined).floor).toBe(Number.NEGATIVE_INFINITY)
  })

  const corrupt: ReadonlyArray<readonly [string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['unknown version', Uint8Array.from([3, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['truncated bucket', Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3])],
    ['NaN floor', Uint8Array.from([1, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])],
    ['empty bucket', Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])],
  ]
  for (const [what, bytes] of corrupt)
    it(`invalid meta (${what}) is a StoreError`, () => {
      expect(() => decodeReplayMeta(bytes)).toThrowError(expect.objectContaining({ name: 'StoreError' }))
    })

  for (const what of ['meta record', 'shard (not whole records)'] as const)
    it(`a corrupt ${what} refuses the message and writes nothing (fail closed)`, async () => {
      const [alice, bob] = await introducedParties(ALICE, BOB)
      const sent = await alice.ox.encrypt(body('hi'), [BOB])
      // the shard this very message falls into
      const shard = await shardOf(alice, bob, sent.element)
      const [ns, key, bytes] =
        what === 'meta record'
          ? [NS, 'meta', Uint8Array.from([9])]
          : [shard.namespace, shard.key, new Uint8Array(37)]
      if (what !== 'meta record')
        await bob.store.setState(
          NS,
          'meta',
          encodeReplayMeta({ floor: 0, buckets: new Map([[Number(`0x${shard.namespace.slice(-6)}`), 1]]) }),
        )
      const before = await replayMemory(bob.store)
      await bob.store.setState(ns, key, bytes)
      expect(await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject({
        name: 'StoreError',
      })
      expect(await bob.store.getState(ns, key)).toEqual(bytes)
      if (what !== 'meta record')
        expect(await replayMemory(bob.store)).toEqual({ ...before, [`${ns} ${key}`]: '00'.repeat(37) })
      else expect(await bob.store.listState(NS)).toEqual(['meta'])
    })

  it('bucket namespaces sort by signed time; digests depend on the signer and on the plaintext', () => {
    const fpr = 'A'.repeat(40)
    const [d] = replayDigests(new Uint8Array([1]), [fpr]) as [Uint8Array]
    expect(d.length).toBe(32)
    expect(replayDigests(new Uint8Array([1]), ['B'.repeat(40)])[0]).not.toEqual(d)
    expect(replayDigests(new Uint8Array([2]), [fpr])[0]).not.toEqual(d)
    const shards = [9_999_999_999_999, 1_000, 1_700_000_000_000].map((t) => replayShard(t, d))
    for (const s of shards) {
      expect(s.namespace).toMatch(new RegExp(`^${NS}/[0-9a-f]{6}$`))
      expect(s.key).toBe(shards[0]?.key) // the shard within a bucket is the digest's
    }
    const namespaces = shards.map((s) => s.namespace)
    expect([...namespaces].sort()).toEqual([namespaces[1], namespaces[2], namespaces[0]])
  })

  it('a memory of the development layout (version 1, shards beside meta) is moved, records and floor kept', async () => {
    const [alice, bob] = await introducedParties(ALICE, BOB)
    const seen = await alice.ox.encrypt(body('seen before the upgrade'), [BOB])
    await bob.ox.decrypt(seen.element, stanza(ALICE, BOB))
    // rewrite bob's memory as version 1 wrote it: `<bucket>:<shard>` keys in the namespace of meta
    const current = await bob.store.getState(NS, 'meta')
    const meta = decodeReplayMeta(current)
    for (const bucket of meta.buckets.keys()) {
      const ns = replayBucketNamespace(bucket)
      for (const k of await bob.store.listState(ns)) {
        await bob.store.setState(NS, `${ns.slice(-6)}:${k}`, (await bob.store.getState(ns, k)) as Uint8Array)
        await bob.store.deleteState(ns, k)
      }
    }
    const v1 = Uint8Array.from(encodeReplayMeta({ ...meta, floor: Date.now() - 3_600_000 }))
    v1[0] = 1
    await bob.store.setState(NS, 'meta', v1)

    // the message remembered in version 1 is still a replay; the floor came along
    expect(await rejectionOf(bob.ox.decrypt(seen.element, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'REPLAY',
    })
    const old = await alice.ox.encrypt(body('older than the floor'), [BOB], {
      now: new Date(Date.now() - 7_200_000),
    })
    expect(await rejectionOf(bob.ox.decrypt(old.element, stanza(ALICE, BOB)))).toMatchObject({
      rule: 'REPLAY',
    })
    // a refusal rolls back with its transaction; the first accepted message keeps the upgrade
    expect((await bob.store.getState(NS, 'meta'))?.[0]).toBe(1)
    await bob.ox.decrypt((await alice.ox.encrypt(body('new'), [BOB])).element, stanza(ALICE, BOB))
    expect(await bob.store.listState(NS)).toEqual(['meta'])
    expect((await bob.store.getState(NS, 'meta'))?.[0]).toBe(2)
    const records = Object.keys(await replayMemory(bob.store)).filter((k) => k !== 'meta')
    expect(records.length).toBeGreaterThanOrEqual(1)
    expect(await rejectionOf(bob.ox.decrypt(seen.element, stanza(ALICE, BOB)))).toMatchObject({
      rule: 'REPLAY',
    })
  })
})
