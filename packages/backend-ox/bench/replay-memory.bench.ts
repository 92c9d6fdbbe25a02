/**
 * OX replay memory: bytes per remembered message and the cost of remembering one, at the cap.
 *
 *   pnpm --filter @vouch/backend-ox bench:replay          (ENTRIES=100000 by default)
 *
 * Fills the memory of one account (`bob@example.org`) with ENTRIES messages spread over 30 days,
 * through the same `rememberOnce` that `decrypt` calls (1,000 per transaction while filling, so
 * filling does not take 100,000 fsyncs), then:
 * - bytes as stored: namespace + key + value bytes of the shards and `meta` per message (what
 *   any store holds), and the SQLite file growth per message (pages in use after a WAL checkpoint);
 * - the cost of remembering one more message at the cap, one transaction each, as `decrypt`
 *   does (eviction of the oldest 5% amortised in it), on SQLite (a file, `synchronous=FULL`)
 *   and on the memory store.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryStore } from '@vouch/store-memory'
import { sqliteStore } from '@vouch/store-sqlite'
import type { AccountTrustStore, BareJid, TrustStore } from '@vouch/tm-core'
import Database from 'better-sqlite3'
import { OX_REPLAY_STATE_NAMESPACE } from '../src/constants.ts'
import {
  decodeReplayMeta,
  REPLAY_RECORD_BYTES,
  rememberOnce,
  replayBucketNamespace,
  replayDigests,
} from '../src/replay.ts'

const ENTRIES = Number(process.env.ENTRIES ?? 100_000)
const MORE = Number(process.env.MORE ?? 2_000)
const ACCOUNT = 'bob@example.org' as BareJid
const FPR = 'C0FFEE'.padEnd(40, '0')
const DAY = 24 * 3600 * 1000
const clock = new Date()
const limits = { clock, retentionMs: 37 * DAY + 600_000, maxEntries: ENTRIES }
const span = 30 * DAY

/** message i: a distinct plaintext, signed at a time spread over the last 30 days */
const digestsOf = (i: number): Uint8Array[] => replayDigests(new TextEncoder().encode(`message ${i}`), [FPR])
const timeOf = (i: number, n: number): Date => new Date(clock.getTime() - span + Math.floor((i * span) / n))

async function fill(account: AccountTrustStore, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000)
    await account.transaction(async (tx) => {
      for (let j = i; j < Math.min(n, i + 1000); j++)
        await rememberOnce(tx, timeOf(j, n), digestsOf(j), limits)
    })
}

async function storedBytes(
  account: AccountTrustStore,
): Promise<{ records: number; keys: number; bytes: number; meta: number }> {
  let records = 0
  let keys = 0
  let bytes = 0
  const metaBytes = (await account.getState(OX_REPLAY_STATE_NAMESPACE, 'meta')) ?? new Uint8Array()
  // namespace, key and value bytes of every row: `meta`, then each bucket's shards
  bytes += Buffer.byteLength(OX_REPLAY_STATE_NAMESPACE) + Buffer.byteLength('meta') + metaBytes.length
  for (const bucket of decodeReplayMeta(metaBytes).buckets.keys()) {
    const ns = replayBucketNamespace(bucket)
    for (const key of await account.listState(ns)) {
      const value = (await account.getState(ns, key)) ?? new Uint8Array()
      bytes += Buffer.byteLength(ns) + Buffer.byteLength(key) + value.length
      keys++
      records += value.length / REPLAY_RECORD_BYTES
    }
  }
  return { records, keys, bytes, meta: metaBytes.length }
}

/** ms per remembered message at the cap, each in its own transaction (newer than all). */
async function atTheCap(account: AccountTrustStore): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < MORE; i++)
    await account.transaction((tx) =>
      rememberOnce(tx, new Date(clock.getTime() - 60_000 + i), digestsOf(ENTRIES + i), limits),
    )
  return (performance.now() - t0) / MORE
}

const dir = mkdtempSync(join(tmpdir(), 'vouch-ox-replay-bench-'))
const opened: TrustStore[] = []
try {
  console.log(`OX replay memory, ${ENTRIES} entries (Node ${process.version})`)
  // ---- SQLite file
  const db = new Database(join(dir, 'bob.sqlite'))
  const sqlite = await sqliteStore({ database: db })
  opened.push(sqlite)
  const fileBytes = (): number => {
    db.pragma('wal_checkpoint(TRUNCATE)')
    return (
      ((db.pragma('page_count', { simple: true }) as number) -
        (db.pragma('freelist_count', { simple: true }) as number)) *
      (db.pragma('page_size', { simple: true }) as number)
    )
  }
  const account = sqlite.forAccount(ACCOUNT)
  const empty = fileBytes()
  let t = performance.now()
  await fill(account, ENTRIES)
  const fillMs = performance.now() - t
  const full = fileBytes()
  const stored = await storedBytes(account)
  console.log(
    `stored as backend state: ${stored.records} messages in ${stored.keys} shards + meta (${stored.meta} B): ${stored.bytes} B of namespaces, keys and values, ${(stored.bytes / stored.records).toFixed(1)} B per message`,
  )
  console.log(
    `SQLite file: +${((full - empty) / 1024 / 1024).toFixed(2)} MiB for ${stored.records} messages = ${((full - empty) / stored.records).toFixed(1)} B per message (pages in use, page size ${db.pragma('page_size', { simple: true })}); filled in ${(fillMs / 1000).toFixed(1)} s`,
  )
  t = performance.now()
  const sqliteMs = await atTheCap(account)
  const after = await storedBytes(account)
  console.log(
    `SQLite, at the cap: ${sqliteMs.toFixed(3)} ms per remembered message (one transaction each, synchronous=FULL, eviction amortised; ${after.records} kept in ${after.keys} shards)`,
  )

  // ---- memory store
  const memory = memoryStore()
  opened.push(memory)
  const macc = memory.forAccount(ACCOUNT)
  await fill(macc, ENTRIES)
  const mstored = await storedBytes(macc)
  const memoryMs = await atTheCap(macc)
  console.log(
    `memory store, at the cap: ${memoryMs.toFixed(3)} ms per remembered message (${mstored.records} messages in ${mstored.keys} shards)`,
  )
  // ---- a small memory, for comparison (the bench's 1,000-message case)
  const small = memoryStore()
  opened.push(small)
  const sacc = small.forAccount(ACCOUNT)
  for (let i = 0; i < 1000; i++)
    await sacc.transaction((tx) => rememberOnce(tx, timeOf(i, 1000), digestsOf(i), limits))
  t = performance.now()
  for (let i = 1000; i < 1000 + MORE; i++)
    await sacc.transaction((tx) => rememberOnce(tx, timeOf(i, 1000 + MORE), digestsOf(i), limits))
  console.log(
    `memory store, 1,000–3,000 messages: ${((performance.now() - t) / MORE).toFixed(3)} ms per remembered message`,
  )
} finally {
  for (const s of opened) await s.close()
  rmSync(dir, { recursive: true, force: true })
}
