/**
 * OX replay memory: a signed message is accepted once per account. OX has no ratchet, so a
 * server could deliver any old message again under a new stanza id; this memory rejects the
 * second delivery (`REPLAY`) for as long as the time check (`OX-TIME`) could still accept it.
 *
 * What is "the same message": SHA-256 over a domain tag, the fingerprint of the key that made the
 * signature and the signed plaintext (the literal data the signature covers). Not the ciphertext
 * (a co-recipient re-encrypts the signed message to us under a new session key; a `<sign/>`
 * message can be re-framed), nor the signature packet (its unhashed subpackets and framing can
 * be changed without breaking it): what the sender signed is what counts. The signer is part of
 * it, so nobody can pre-empt alice's message by signing the same plaintext with another key.
 *
 * Layout, in the backend-state namespace {@link OX_REPLAY_STATE_NAMESPACE} of the account:
 * - one key per remembered message, `<T>:<D>` with an empty value: `T` the signed `<time/>` in
 *   milliseconds as 12 lower-case hex digits (so keys sort by time), `D` the digest in Base64url
 *   (43 characters). A check is one point read, remembering one write;
 * - `meta`: the floor and the number of entries per time bucket (the first 5 hex digits of `T`,
 *   2^28 ms ≈ 3.1 days; about 14 buckets in the default window), rewritten with every message
 *   (9 + 8 × buckets bytes). Buckets let whole expired buckets be listed and deleted without
 *   scanning the others, and the counts give the total for the cap without a scan.
 *
 * Bounds:
 * - by time: entries whose bucket lies wholly before `clock − retention` are deleted (retention =
 *   maxAge + maxReferenceAge + futureSkew: no bounded reference time can make such a message pass
 *   `OX-TIME` again);
 * - by count: beyond `maxEntries`, the oldest entries (by signed time) are evicted, 5% at a time;
 * - every deletion raises the persisted floor to the newest signed time deleted: a message signed
 *   at or before the floor is rejected as `REPLAY`, since it can no longer be told apart (fail
 *   closed; this also covers callers that widen the window per call beyond the retention).
 */
import { createHash } from 'node:crypto'
import type { AccountTrustStore } from '@vouch/tm-core'
import { DecryptionError, StoreError } from '@vouch/tm-core'
import { OX_REPLAY_STATE_NAMESPACE } from './constants.ts'

const NS = OX_REPLAY_STATE_NAMESPACE
const META = 'meta'
const META_VERSION = 1
const TAG = new TextEncoder().encode('vouch/ox/replay/v1\0')
/** signed times the key format can hold: 12 hex digits of milliseconds (until the year 10889) */
const MAX_TIME = 2 ** 48 - 1
/** bucket = the first 5 of the 12 hex digits */
const BUCKET_SHIFT = 2 ** 28
const BUCKET_DIGITS = 5

/** Digest length in Base64url characters (32 bytes). */
export const REPLAY_DIGEST_CHARS = 43

/** The limits of the replay memory for one call. */
export interface ReplayLimits {
  /** the clock (`deps.now`), never the message's reference time */
  readonly clock: Date
  /** entries signed before `clock − retentionMs` may be pruned */
  readonly retentionMs: number
  /** at most this many entries are kept */
  readonly maxEntries: number
}

/** The decoded `meta` record. */
export interface ReplayMeta {
  /** messages signed at or before this time (ms) are rejected; −Infinity when none was deleted */
  floor: number
  /** bucket → number of entries, ascending by bucket */
  readonly buckets: Map<number, number>
}

/**
 * The identities of a signed message: one per key that signed it (a message signed by two keys of
 * the sender is remembered under both, so stripping one signature does not make it new).
 */
export function replayDigests(plaintext: Uint8Array, signerFingerprints: readonly string[]): string[] {
  const content = createHash('sha256').update(plaintext).digest()
  return signerFingerprints.map((fpr) =>
    createHash('sha256').update(TAG).update(Buffer.from(fpr, 'hex')).update(content).digest('base64url'),
  )
}

/** The state key of one remembered message. */
export function replayEntryKey(time: number, digest: string): string {
  return `${time.toString(16).padStart(12, '0')}:${digest}`
}

function entryTime(key: string): number {
  return Number.parseInt(key.slice(0, 12), 16)
}

function bucketOf(time: number): number {
  return Math.floor(time / BUCKET_SHIFT)
}

function bucketPrefix(bucket: number): string {
  return bucket.toString(16).padStart(BUCKET_DIGITS, '0')
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

/** @throws StoreError  a record this code did not write (the memory cannot be trusted) */
export function decodeReplayMeta(bytes: Uint8Array | undefined): ReplayMeta {
  if (bytes === undefined) return { floor: Number.NEGATIVE_INFINITY, buckets: new Map() }
  const bad = (why: string): StoreError =>
    new StoreError(`the OX replay memory's ${META} record is unreadable (${why}): refusing to guess`)
  if (bytes.length < 9 || (bytes.length - 9) % 8 !== 0) throw bad(`${bytes.length} bytes`)
  if (bytes[0] !== META_VERSION) throw bad(`version ${bytes[0]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const floor = view.getFloat64(1)
  if (Number.isNaN(floor)) throw bad('floor is NaN')
  const buckets = new Map<number, number>()
  let previous = -1
  for (let at = 9; at < bytes.length; at += 8) {
    const bucket = view.getUint32(at)
    const count = view.getUint32(at + 4)
    if (bucket <= previous || count === 0) throw bad('buckets out of order or empty')
    buckets.set(bucket, count)
    previous = bucket
  }
  return { floor, buckets }
}

/** Number of remembered entries. */
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
 */
export async function rememberOnce(
  store: AccountTrustStore,
  signedTime: Date,
  digests: readonly string[],
  limits: ReplayLimits,
): Promise<void> {
  const time = signedTime.getTime()
  if (!(time >= 0 && time <= MAX_TIME))
    throw new DecryptionError('OX-TIME', `signed time ${time} ms is outside what the replay memory can hold`)
  const keys = digests.map((d) => replayEntryKey(time, d))
  await store.transaction(async (tx) => {
    const meta = decodeReplayMeta(await tx.getState(NS, META))
    if (time <= meta.floor)
      throw new DecryptionError(
        'REPLAY',
        `signed at ${signedTime.toISOString()}, at or before the replay memory's floor ${new Date(meta.floor).toISOString()}: older messages can no longer be told apart from replays`,
      )
    for (const key of keys)
      if ((await tx.getState(NS, key)) !== undefined)
        throw new DecryptionError(
          'REPLAY',
          `this signed message (signed at ${signedTime.toISOString()}) was already received`,
        )
    const empty = new Uint8Array(0)
    for (const key of keys) await tx.setState(NS, key, empty)
    const bucket = bucketOf(time)
    meta.buckets.set(bucket, (meta.buckets.get(bucket) ?? 0) + keys.length)
    await prune(tx, meta, limits.clock.getTime() - limits.retentionMs)
    await evict(tx, meta, limits.maxEntries)
    await tx.setState(NS, META, encodeReplayMeta(meta))
  })
}

/** Deletes every bucket wholly before `horizon` (ms), raising the floor. */
async function prune(tx: AccountTrustStore, meta: ReplayMeta, horizon: number): Promise<void> {
  for (const bucket of [...meta.buckets.keys()].sort((a, b) => a - b)) {
    if ((bucket + 1) * BUCKET_SHIFT > horizon) break
    const keys = await tx.listState(NS, bucketPrefix(bucket))
    for (const key of keys) await tx.deleteState(NS, key)
    const last = keys.at(-1)
    if (last !== undefined) meta.floor = Math.max(meta.floor, entryTime(last))
    meta.buckets.delete(bucket)
  }
}

/** Beyond `maxEntries`, deletes the oldest entries down to 95% of it, raising the floor. */
async function evict(tx: AccountTrustStore, meta: ReplayMeta, maxEntries: number): Promise<void> {
  let count = replayCount(meta)
  if (count <= maxEntries) return
  const target = maxEntries - Math.max(1, Math.ceil(maxEntries / 20))
  for (const bucket of [...meta.buckets.keys()].sort((a, b) => a - b)) {
    if (count <= target) break
    const keys = await tx.listState(NS, bucketPrefix(bucket))
    const n = Math.min(keys.length, count - target)
    for (const key of keys.slice(0, n)) await tx.deleteState(NS, key)
    const last = keys[n - 1]
    if (last !== undefined) meta.floor = Math.max(meta.floor, entryTime(last))
    count -= n
    const left = keys.length - n
    if (left > 0) meta.buckets.set(bucket, left)
    else meta.buckets.delete(bucket)
  }
}
