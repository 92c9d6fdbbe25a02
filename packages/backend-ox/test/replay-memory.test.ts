/**
 * The replay memory's record format (src/replay.ts): the `meta` record round-trips, a record it
 * did not write is a `StoreError` (the memory fails closed: the message is refused and nothing is
 * written), and entry keys sort by signed time.
 */
import { describe, expect, it } from 'vitest'
import { OX_REPLAY_STATE_NAMESPACE } from '../src/index.ts'
import { decodeReplayMeta, encodeReplayMeta, replayDigests, replayEntryKey } from '../src/replay.ts'
import { ALICE, BOB, body, introduce, party, rejectionOf, stanza } from './helpers.ts'

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

  it('a corrupt meta record refuses the message and writes nothing (fail closed)', async () => {
    const [alice, bob] = await Promise.all([party(ALICE), party(BOB)])
    await introduce(alice, bob)
    await bob.store.setState(OX_REPLAY_STATE_NAMESPACE, 'meta', Uint8Array.from([9]))
    const sent = await alice.ox.encrypt(body('hi'), [BOB])
    expect(await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject({
      name: 'StoreError',
    })
    expect(await bob.store.listState(OX_REPLAY_STATE_NAMESPACE)).toEqual(['meta'])
  })

  it('entry keys sort by signed time; digests depend on the signer and on the plaintext', () => {
    const fpr = 'A'.repeat(40)
    const [d] = replayDigests(new Uint8Array([1]), [fpr])
    expect(d).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(replayDigests(new Uint8Array([1]), ['B'.repeat(40)])[0]).not.toBe(d)
    expect(replayDigests(new Uint8Array([2]), [fpr])[0]).not.toBe(d)
    const keys = [9_999_999_999_999, 1_000, 1_700_000_000_000].map((t) => replayEntryKey(t, d as string))
    expect([...keys].sort()).toEqual([keys[1], keys[2], keys[0]])
  })
})
