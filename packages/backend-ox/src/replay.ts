/**
 * OX replay memory: a signed message is accepted once per account. OX has no ratchet, so a
 * server could deliver any old message again under a new stanza id; this memory rejects the
 * second delivery (`REPLAY`) for as long as the time check (`OX-TIME`) could still accept it.
 *
 * What is "the same message": SHA-256 over a domain tag, the fingerprint of the key that made the
 * signature and the signed plaintext (the literal data the signature covers). Not
 * the ciphertext (a co-recipient can re-encrypt the signed message to us under a new session key;
 * a `<sign/>` message can be re-framed), nor the signature packet (its unhashed subpackets and
 * framing change without breaking it): what the sender signed is what counts. The signer is part
 * of it, so nobody can pre-empt alice's message by signing the same plaintext with another key.
 * The plaintext holds the signed `<time/>`, so a replay also has the same time.
 *
 * Layout, in backend-state namespaces of the account:
 * - `meta` in {@link OX_REPLAY_STATE_NAMESPACE}: the floor and the number of records per bucket
 *   (9 + 8 × buckets bytes);
 * - one namespace per time bucket, `ox-replay/<B>` (`B` the bucket of the signed `<time/>`,
 *   2^26 ms ≈ 18.6 h, as 6 hex digits), holding its 64 shards `<S>` (the digest's first 6 bits, 2
 *   hex digits). A shard holds 38-byte records, the 32-byte digest then the 48-bit signed time in
 *   milliseconds, sorted by digest (a binary search finds one).
 * Checking a message is two point reads (meta, its shard); remembering it rewrites that shard
 * and meta. A shard holds on average `count / (64 × buckets)` records: with the default cap and
 * window (100,000 over ≈ 50 buckets) ≈ 31 records, 1.2 KiB; at most `cap / 64` ≈ 1,560 records,
 * 58 KiB, when every remembered message was signed within one bucket (a flood).
 * Why a namespace per bucket: a store may copy or scan a whole namespace when a transaction first
 * writes to it (the memory store copies its key map, copy-on-write per namespace). With every
 * shard in one namespace, remembering a message at the default cap cost that copy of ≈ 2,500
 * keys (0.36–0.59 ms on the memory store); per bucket it is at most 64 keys plus `meta`. One key
 * per message would cost such stores O(messages) per message.
 *
 * Bounds:
 * - by time: a bucket lying wholly before `clock − retention` is deleted (retention = maxAge +
 *   maxReferenceAge + futureSkew: no bounded reference time can make such a message pass
 *   `OX-TIME` again);
 * - by count: beyond `maxEntries`, the oldest records (by signed time) are evicted, 5% at a time;
 * - every deletion raises the persisted floor to the newest signed time it may have deleted: a
 *   message signed at or before the floor is rejected as `REPLAY`, since it can no longer be told
 *   apart (fail closed; this also covers callers that widen the window per call beyond the
 *   retention).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { hex as base16 } from '@scure/base'
import type { AccountTrustStore } from '@vouch/tm-core'
import { DecryptionError, StoreError } from '@vouch/tm-core'
import { OX_REPLAY_STATE_NAMESPACE } from './constants.ts'

const NS = OX_REPLAY_STATE_NAMESPACE
const META = 'meta'
/** 2: shards in a namespace per bucket (1, a development version, kept them all beside `meta`) */
const META_VERSION = 2
const TAG = new TextEncoder().encode('vouch/ox/replay/v1\0')
/** signed times a record can hold: 48 bits of milliseconds (until the year 10889) */
const MAX_TIME = 2 ** 48 - 1
/** bucket span in ms (≈ 18.6 hours) */
export const REPLAY_BUCKET_MS = 2 ** 26
const DIGEST = 32
/** one record: digest, then the signed time as a 48-bit big-endian integer */
export const REPLAY_RECORD_BYTES = DIGEST + 6

/** The limits of the replay memory for one call. */
export interface ReplayLimits {
  /** the clock (`deps.now`), never the message's reference time */
  readonly clock: Date
  /** records signed before `clock − retentionMs` may be pruned */
  readonly retentionMs: number
  /** at most this many records are kept */
  readonly maxEntries: number
}

/** The decoded `meta` record. */
export interface ReplayMeta {
  /** messages signed at or before this time (ms) are rejected; −Infinity when none was deleted */
  floor: number
  /** bucket → number of records */
  readonly buckets: Map<number, number>
}

/**
 * The identities of a signed message: one per key that signed it (a message signed by two keys of
 * the sender is remembered under both, so stripping one signature does not make it new).
 */
export function replayDigests(plaintext: Uint8Array, signerFingerprints: readonly string[]): Uint8Array[] {
  return signerFingerprints.map((fpr) => {
    const h = sha256.create().update(TAG)
    return h.update(base16.decode(fpr.toLowerCase())).update(plaintext).digest()
  })
}

const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, '0')
/** The state namespace of the shards of `bucket` (namespaces sort by time). */
export const replayBucketNamespace = (bucket: number): string => `${NS}/${hex(bucket, 6)}`

/** Where the shard that holds `digest` signed at `time` (ms) is stored. */
export function replayShard(time: number, digest: Uint8Array): { namespace: string; key: string } {
  return {
    namespace: replayBucketNamespace(Math.floor(time / REPLAY_BUCKET_MS)),
    key: hex((digest[0] ?? 0) >> 2, 2),
  }
}

/** Index of `digest` in a shard, or `-(insertion point) - 1`. */
function search(shard: Uint8Array, digest: Uint8Array): number {
  let lo = 0
  let hi = shard.length / REPLAY_RECORD_BYTES - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const at = mid * REPLAY_RECORD_BYTES
    const c = compareRecord(shard, at, digest)
    if (c === 0) return mid
    if (c < 0) lo = mid + 1
    else hi = mid - 1
  }
  return -lo - 1
}

/** The digest of the record at `at` against `digest`, bytewise: negative, zero or positive. */
function compareRecord(shard: Uint8Array, at: number, digest: Uint8Array): number {
  for (let i = 0; i < DIGEST; i++) {
    const d = (shard[at + i] as number) - (digest[i] as number)
    if (d !== 0) return d
  }
  return 0
}

function recordTime(shard: Uint8Array, index: number): number {
  const at = index * REPLAY_RECORD_BYTES + DIGEST
  let t = 0
  for (let i = 0; i < 6; i++) t = t * 256 + (shard[at + i] as number)
  return t
}

function writeRecord(out: Uint8Array, at: number, digest: Uint8Array, time: number): void {
  out.set(digest, at)
  for (let i = 5, t = time; i >= 0; i--, t = Math.floor(t / 256)) out[at + DIGEST + i] = t % 256
}

export function encodeReplayMeta(meta: ReplayMeta): Uint8Array {
  const buckets = [...meta.buckets].filter(([, n]) => n > 0).sort(([a], [b]) => a - b)
  const out = new Uint8Array(9 + 8 * buckets.length)
  const view = new DataView(out.buffer)
  out[0] = META_VERSION
  view.setFloat64(1, meta.floor)
  for (const [i, [bucket, count]] of buckets.entries()) {
    view.setUint32(9 + 8 * i, bucket)
    view.setUint32(13 + 8 * i, count)
  }
  return out
}

const unreadable = (what: string, why: string): StoreError =>
  new StoreError(`the OX replay memory's ${what} is unreadable (${why}): refusing to guess`)

/** @throws StoreError  a record this code did not write (the memory cannot be trusted) */
export function decodeReplayMeta(bytes: Uint8Array | undefined, version = META_VERSION): ReplayMeta {
  if (bytes === undefined) return { floor: Number.NEGATIVE_INFINITY, buckets: new Map() }
  if (bytes.length < 9 || (bytes.length - 9) % 8 !== 0) throw unreadable(META, `${bytes.length} bytes`)
  if (bytes[0] !== version) throw unreadable(META, `version ${bytes[0]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const floor = view.getFloat64(1)
  if (Number.isNaN(floor)) throw unreadable(META, 'floor is NaN')
  const buckets = new Map<number, number>()
  let previous = -1
  for (let at = 9; at < bytes.length; at += 8) {
    const bucket = view.getUint32(at)
    const count = view.getUint32(at + 4)
    if (bucket <= previous || count === 0) throw unreadable(META, 'buckets out of order or empty')
    buckets.set(bucket, count)
    previous = bucket
  }
  return { floor, buckets }
}

/**
 * Moves a memory of version 1 (every shard `<B>:<S>` beside `meta`) to version 2 (shard `<S>` in
 * the namespace of bucket `B`), records and floor unchanged; returns the new `meta`.
 * @throws StoreError  a record this code did not write
 */
async function upgradeFromVersion1(tx: AccountTrustStore, bytes: Uint8Array): Promise<Uint8Array> {
  const meta = decodeReplayMeta(bytes, 1)
  for (const bucket of meta.buckets.keys()) {
    const prefix = `${hex(bucket, 6)}:`
    for (const old of await tx.listState(NS, prefix)) {
      const shard = checkedShard(old, await tx.getState(NS, old))
      await tx.setState(replayBucketNamespace(bucket), old.slice(prefix.length), shard)
      await tx.deleteState(NS, old)
    }
  }
  const upgraded = encodeReplayMeta(meta)
  await tx.setState(NS, META, upgraded)
  return upgraded
}

function checkedShard(key: string, bytes: Uint8Array | undefined): Uint8Array {
  const shard = bytes ?? new Uint8Array(0)
  if (shard.length % REPLAY_RECORD_BYTES !== 0) throw unreadable(`shard ${key}`, `${shard.length} bytes`)
  return shard
}

async function readShard(tx: AccountTrustStore, namespace: string, key: string): Promise<Uint8Array> {
  return checkedShard(`${namespace} ${key}`, await tx.getState(namespace, key))
}

/** Number of remembered records. */
export function replayCount(meta: ReplayMeta): number {
  let n = 0
  for (const c of meta.buckets.values()) n += c
  return n
}

/**
 * Rejects a message already remembered (or signed at or before the floor), else remembers it,
 * then prunes and evicts: all in one transaction on `store` (a nested one, i.e. a savepoint, when
 * `store` is the caller's transaction), so the memory commits or rolls back with the message.
 * Writes nothing when it rejects.
 * @throws DecryptionError  REPLAY; OX-TIME (a signed time outside what the memory can hold)
 * @throws StoreError  the store failed, or holds records this code did not write
 */
export async function rememberOnce(
  store: AccountTrustStore,
  signedTime: Date,
  digests: readonly Uint8Array[],
  limits: ReplayLimits,
): Promise<void> {
  const time = signedTime.getTime()
  if (!(time >= 0 && time <= MAX_TIME))
    throw new DecryptionError('OX-TIME', `signed time ${time} ms is outside what the replay memory can hold`)
  const shardNs = replayBucketNamespace(Math.floor(time / REPLAY_BUCKET_MS))
  const keys = digests.map((d) => replayShard(time, d).key)
  const horizon = limits.clock.getTime() - limits.retentionMs
  await store.transaction(async (tx) => {
    // one round of reads: meta and the shard(s) of this message
    let [metaBytes, ...read] = await Promise.all([
      tx.getState(NS, META),
      ...keys.map((k) => tx.getState(shardNs, k)),
    ])
    if (metaBytes?.[0] === 1) {
      // once, for a store written by a development version
      metaBytes = await upgradeFromVersion1(tx, metaBytes)
      read = await Promise.all(keys.map((k) => tx.getState(shardNs, k)))
    }
    const meta = decodeReplayMeta(metaBytes)
    if (time <= meta.floor)
      throw new DecryptionError(
        'REPLAY',
        `signed at ${signedTime.toISOString()}, at or before the replay memory's floor ${new Date(meta.floor).toISOString()}: older messages can no longer be told apart from replays`,
      )
    const shards = new Map<string, Uint8Array>()
    for (const [j, digest] of digests.entries()) {
      const key = keys[j] as string
      const shard = shards.get(key) ?? checkedShard(`${shardNs} ${key}`, read[j])
      const at = search(shard, digest)
      if (at >= 0)
        throw new DecryptionError(
          'REPLAY',
          `this signed message (signed at ${signedTime.toISOString()}) was already received`,
        )
      const i = (-at - 1) * REPLAY_RECORD_BYTES
      const grown = new Uint8Array(shard.length + REPLAY_RECORD_BYTES)
      grown.set(shard.subarray(0, i))
      writeRecord(grown, i, digest, time)
      grown.set(shard.subarray(i), i + REPLAY_RECORD_BYTES)
      shards.set(key, grown)
    }
    const bucket = Math.floor(time / REPLAY_BUCKET_MS)
    meta.buckets.set(bucket, (meta.buckets.get(bucket) ?? 0) + digests.length)
    const writes = [...shards].map(([key, shard]) => tx.setState(shardNs, key, shard))
    if (oldestEnd(meta) <= horizon || replayCount(meta) > limits.maxEntries) {
      // rare: whole buckets expired, or over the cap (both read shards: write this one first)
      await Promise.all(writes)
      await prune(tx, meta, horizon)
      await evict(tx, meta, limits.maxEntries)
      writes.length = 0
    }
    await Promise.all([...writes, tx.setState(NS, META, encodeReplayMeta(meta))])
  })
}

/** The end (exclusive, ms) of the oldest bucket; +Infinity when there is none. */
function oldestEnd(meta: ReplayMeta): number {
  let oldest = Number.POSITIVE_INFINITY
  for (const bucket of meta.buckets.keys()) oldest = Math.min(oldest, bucket)
  return (oldest + 1) * REPLAY_BUCKET_MS
}

/** Deletes every bucket lying wholly before `horizon` (ms), raising the floor to its end. */
async function prune(tx: AccountTrustStore, meta: ReplayMeta, horizon: number): Promise<void> {
  for (const bucket of [...meta.buckets.keys()].sort((a, b) => a - b)) {
    const end = (bucket + 1) * REPLAY_BUCKET_MS
    if (end > horizon) break
    const ns = replayBucketNamespace(bucket)
    for (const key of await tx.listState(ns)) await tx.deleteState(ns, key)
    meta.floor = Math.max(meta.floor, end - 1)
    meta.buckets.delete(bucket)
  }
}

/** Beyond `maxEntries`, deletes the oldest records down to 95% of it, raising the floor. */
async function evict(tx: AccountTrustStore, meta: ReplayMeta, maxEntries: number): Promise<void> {
  let count = replayCount(meta)
  if (count <= maxEntries) return
  const target = maxEntries - Math.max(1, Math.ceil(maxEntries / 20))
  for (const bucket of [...meta.buckets.keys()].sort((a, b) => a - b)) {
    if (count <= target) break
    const shards = new Map<string, Uint8Array>()
    const records: Array<{ key: string; index: number; time: number }> = []
    const ns = replayBucketNamespace(bucket)
    for (const key of await tx.listState(ns)) {
      const shard = await readShard(tx, ns, key)
      shards.set(key, shard)
      for (let index = 0; index < shard.length / REPLAY_RECORD_BYTES; index++)
        records.push({ key, index, time: recordTime(shard, index) })
    }
    records.sort((a, b) => a.time - b.time)
    const n = Math.min(records.length, count - target)
    const gone = new Map<string, Set<number>>()
    for (const r of records.slice(0, n)) {
      const set = gone.get(r.key) ?? new Set<number>()
      gone.set(r.key, set)
      set.add(r.index)
      meta.floor = Math.max(meta.floor, r.time)
    }
    for (const [key, indexes] of gone) {
      const shard = shards.get(key) as Uint8Array
      const kept = new Uint8Array(shard.length - indexes.size * REPLAY_RECORD_BYTES)
      let w = 0
      for (let index = 0; index < shard.length / REPLAY_RECORD_BYTES; index++) {
        if (indexes.has(index)) continue
        kept.set(shard.subarray(index * REPLAY_RECORD_BYTES, (index + 1) * REPLAY_RECORD_BYTES), w)
        w += REPLAY_RECORD_BYTES
      }
      if (kept.length === 0) await tx.deleteState(ns, key)
      else await tx.setState(ns, key, kept)
    }
    count -= n
    const left = records.length - n
    if (left > 0) meta.buckets.set(bucket, left)
    else meta.buckets.delete(bucket)
  }
}
