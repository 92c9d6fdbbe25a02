/**
 * The replay memory's record format (src/replay.ts): the `meta` record round-trips, a record it
 * did not write is a `StoreError` (the memory fails closed: the message is refused and nothing is
 * written), and shard keys sort by signed time.
 */
import { describe, expect, it } from 'vitest'
import { memoryStore } from '@vouch/store-memory'
import { OX_REPLAY_STATE_NAMESPACE, oxBackend } from '../src/index.ts'
import { decodeReplayMeta, encodeReplayMeta, replayDigests, replayShardKey } from '../src/replay.ts'
import { ALICE, BOB, body, introduce, ownPrivate, party, rejectionOf, stanza } from './helpers.ts'

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
    ['unknown version', Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['truncated bucket', Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3])],
    ['NaN floor', Uint8Array.from([1, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])],
    ['empty bucket', Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])],
  ]
  for (const [what, bytes] of corrupt)
    it(`invalid meta (${what}) is a StoreError`, () => {
      expect(() => decodeReplayMeta(bytes)).toThrowError(expect.objectContaining({ name: 'StoreError' }))
    })

  for (const [what, key, bytes] of [
    ['meta record', 'meta', Uint8Array.from([9])],
    ['shard (not whole records)', 'shard', new Uint8Array(37)],
  ] as const)
    it(`a corrupt ${what} refuses the message and writes nothing (fail closed)`, async () => {
      const [alice, bob] = await Promise.all([party(ALICE), party(BOB)])
      await introduce(alice, bob)
      const sent = await alice.ox.encrypt(body('hi'), [BOB])
      // the shard this very message falls into: learnt from a receiver that accepted it
      const probeStore = memoryStore().forAccount(BOB)
      const probe = oxBackend()({ store: probeStore })
      await probe.importOwnKey(await ownPrivate(bob))
      await probe.importPublicKey(ALICE, await alice.ox.exportPublicKey())
      await probe.decrypt(sent.element, stanza(ALICE, BOB))
      const shard = (await probeStore.listState(OX_REPLAY_STATE_NAMESPACE)).find((k) => k !== 'meta')
      const target = key === 'meta' ? 'meta' : (shard as string)
      await bob.store.setState(OX_REPLAY_STATE_NAMESPACE, target, bytes)
      expect(await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject({
        name: 'StoreError',
      })
      expect(await bob.store.listState(OX_REPLAY_STATE_NAMESPACE)).toEqual([target])
      expect(await bob.store.getState(OX_REPLAY_STATE_NAMESPACE, target)).toEqual(bytes)
    })

  it('shard keys sort by signed time; digests depend on the signer and on the plaintext', () => {
    const fpr = 'A'.repeat(40)
    const [d] = replayDigests(new Uint8Array([1]), [fpr]) as [Uint8Array]
    expect(d.length).toBe(32)
    expect(replayDigests(new Uint8Array([1]), ['B'.repeat(40)])[0]).not.toEqual(d)
    expect(replayDigests(new Uint8Array([2]), [fpr])[0]).not.toEqual(d)
    const keys = [9_999_999_999_999, 1_000, 1_700_000_000_000].map((t) => replayShardKey(t, d))
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{6}:[0-9a-f]{2}$/)
    expect([...keys].sort()).toEqual([keys[1], keys[2], keys[0]])
  })
})
