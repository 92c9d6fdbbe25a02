/**
 * `pnpm --filter @vouch/atm bench`: the XEP-0450 engine's throughput and ATM's convergence.
 *
 * 1. Trust messages processed per second by `handleTrustMessage` (tinybench), each a real
 *    decision (one key flips between authenticated and manually distrusted, newer SCE time each
 *    call), on store-memory and on store-sqlite with a FILE database (WAL; synchronous FULL, the
 *    default, and NORMAL); and the same messages through `handleTrustMessages` in batches of
 *    {@link BATCH} (one transaction, one savepoint per message: an archive catch-up page).
 *    Targets: ≥ 20,000/s memory, ≥ 5,000/s SQLite file.
 * 2. Convergence on the deterministic simulator for n = 2 … 50 endpoints over two accounts: the
 *    n − 1 mutual manual authentications of the default scenario, the trust messages they cause
 *    and the wall-clock time to quiescence, next to the n(n−1)/2 pairwise authentications ATM saves.
 *
 * The simulator is imported by path: `@vouch/simulator` depends on `@vouch/atm`, and a dev
 * dependency back would make a workspace cycle.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryStore } from '@vouch/store-memory'
import { sqliteStore } from '@vouch/store-sqlite'
import type { BareJid, KeyId, TrustStore } from '@vouch/tm-core'
import { keyIdFromBytes, NS_OMEMO_2, parseBareJid, parseFullJid } from '@vouch/tm-core'
import { Bench } from 'tinybench'
import { parseAccounts, runSpanningScenario } from '../../../tooling/simulator/src/index.ts'
import type { Atm, ReceivedTrustMessage } from '../src/index.ts'
import { createAtm, NS_ATM } from '../src/index.ts'

const ALICE: BareJid = parseBareJid('alice@example.org')
const BOB: BareJid = parseBareJid('bob@example.com')
const SENDER_JID = parseFullJid('alice@example.org/phone')
const OMEMO = { namespace: NS_OMEMO_2, capabilities: { oneKeyPerIdentity: false, keyIdLength: 32 } }

let counter = 0
const key = (): KeyId => {
  const b = new Uint8Array(32)
  new DataView(b.buffer).setUint32(0, ++counter)
  b[31] = 0x5a
  return keyIdFromBytes(b)
}

/** messages per `handleTrustMessages` call (an archive catch-up page) */
const BATCH = 50

const OWN = key()
const SENDER = key()
const UNAUTHENTICATED_SENDER = key()
// Bob has 8 devices (a realistic owner; the TOAKAFA demotion after each authentication scans them)
const POOL = Array.from({ length: 8 }, key)

interface Harness {
  readonly atm: Atm
  readonly store: TrustStore
  /** one trust message per call: a real change each time */
  next(): Promise<unknown>
  /** one trust message from a sender whose key is not authenticated (ATM-P1: postponed) */
  nextPostponed(): Promise<unknown>
  /** {@link BATCH} such messages (each a real change) in one `handleTrustMessages` call */
  nextBatch(): Promise<readonly { outcome: string; changes: readonly unknown[] }[]>
  nextPostponedBatch(): Promise<unknown>
}

async function harness(store: TrustStore): Promise<Harness> {
  const account = store.forAccount(ALICE)
  await account.setOwnKey(NS_OMEMO_2, OWN)
  let t = Date.UTC(2024, 0, 1)
  const atm = createAtm({ account: ALICE, store: account, backends: [OMEMO], now: () => t })
  await atm.keysDiscovered(NS_OMEMO_2, ALICE, [SENDER, UNAUTHENTICATED_SENDER])
  await atm.authenticate(NS_OMEMO_2, ALICE, [SENDER])
  await atm.keysDiscovered(NS_OMEMO_2, BOB, POOL)
  let i = 0
  const input = (senderKey: KeyId): ReceivedTrustMessage => {
    const n = i++
    t += 1
    const id = POOL[n % POOL.length] as KeyId
    const trust = Math.floor(n / POOL.length) % 2 === 0
    return {
      message: {
        usage: NS_ATM,
        encryption: NS_OMEMO_2,
        keyOwners: [{ jid: BOB, trust: trust ? [id] : [], distrust: trust ? [] : [id] }],
      },
      senderJid: SENDER_JID,
      senderKey,
      carrier: NS_OMEMO_2,
      encrypted: true,
      sceTime: t,
    }
  }
  const batch = (senderKey: KeyId) =>
    atm.handleTrustMessages(Array.from({ length: BATCH }, () => input(senderKey)))
  return {
    atm,
    store,
    next: () => atm.handleTrustMessage(input(SENDER)),
    nextPostponed: () => atm.handleTrustMessage(input(UNAUTHENTICATED_SENDER)),
    nextBatch: () => batch(SENDER),
    nextPostponedBatch: () => batch(UNAUTHENTICATED_SENDER),
  }
}

const dir = mkdtempSync(join(tmpdir(), 'vouch-atm-bench-'))
const memory = await harness(memoryStore())
const sqliteFull = await harness(await sqliteStore({ database: join(dir, 'full.db') }))
const sqliteNormal = await harness(
  await sqliteStore({ database: join(dir, 'normal.db'), synchronous: 'NORMAL' }),
)
// for reference: the same engine and store without a file (no fsync, no WAL I/O)
const sqliteMemory = await harness(await sqliteStore({ database: ':memory:' }))

// sanity: the measured path really applies a decision each call (the first one also demotes
// Bob's other automatically trusted keys: TOAKAFA)
for (const h of [memory, sqliteFull, sqliteNormal, sqliteMemory]) await h.next()
const check = (await memory.next()) as { outcome: string; changes: readonly unknown[] }
if (check.outcome !== 'applied' || check.changes.length !== 1)
  throw new Error(`bench setup: expected one applied change, got ${check.outcome} (${check.changes.length})`)
for (const h of [memory, sqliteFull, sqliteNormal]) {
  const results = await h.nextBatch()
  if (results.length !== BATCH || results.some((r) => r.outcome !== 'applied' || r.changes.length !== 1))
    throw new Error('bench setup: expected every message of a batch to apply one change')
}

const bench = new Bench({ time: 1500, warmup: true })
const B = `handleTrustMessages ×${BATCH}`
bench
  .add('handleTrustMessage, applied — store-memory', () => memory.next())
  .add(`${B}, applied — store-memory`, () => memory.nextBatch())
  .add('handleTrustMessage, postponed — store-memory', () => memory.nextPostponed())
  .add(`${B}, postponed — store-memory`, () => memory.nextPostponedBatch())
  .add('handleTrustMessage, applied — store-sqlite file (WAL, synchronous FULL)', () => sqliteFull.next())
  .add(`${B}, applied — store-sqlite file (WAL, synchronous FULL)`, () => sqliteFull.nextBatch())
  .add('handleTrustMessage, postponed — store-sqlite file (WAL, FULL)', () => sqliteFull.nextPostponed())
  .add(`${B}, postponed — store-sqlite file (WAL, FULL)`, () => sqliteFull.nextPostponedBatch())
  .add('handleTrustMessage, applied — store-sqlite file (WAL, synchronous NORMAL)', () => sqliteNormal.next())
  .add(`${B}, applied — store-sqlite file (WAL, synchronous NORMAL)`, () => sqliteNormal.nextBatch())
  .add('(reference) handleTrustMessage, applied — store-sqlite :memory:', () => sqliteMemory.next())
  .add(`(reference) ${B}, applied — store-sqlite :memory:`, () => sqliteMemory.nextBatch())
await bench.run()

const TARGETS: Record<string, number> = { memory: 20_000, sqlite: 5_000 }
console.log(
  `\nTrust messages processed per second (one decision each; batched: ${BATCH} messages per call and transaction)`,
)
console.table(
  bench.tasks.map((task) => {
    const r = task.result as
      | { throughput?: { mean: number }; latency?: { mean: number; p99?: number } }
      | undefined
    const perCall = task.name.includes('handleTrustMessages') ? BATCH : 1
    const perSecond = (r?.throughput?.mean ?? 0) * perCall
    const target = task.name.includes('store-memory') ? TARGETS.memory : TARGETS.sqlite
    return {
      task: task.name,
      'messages/s': Math.round(perSecond),
      'mean µs/message':
        r?.latency?.mean === undefined ? '-' : ((r.latency.mean * 1000) / perCall).toFixed(1),
      target: `≥ ${target?.toLocaleString('en')}`,
      met: perSecond >= (target ?? 0) ? 'yes' : 'NO',
    }
  }),
)

for (const h of [memory, sqliteFull, sqliteNormal, sqliteMemory]) await h.store.close()
rmSync(dir, { recursive: true, force: true })

console.log(
  '\nConvergence on the simulator (default scenario, two accounts, store-memory, XEP-0434 codec on)',
)
const rows = []
for (const n of [2, 5, 10, 20, 50]) {
  const a = Math.ceil(n / 2)
  const spec = `alice:${a},bob:${n - a}`
  const t0 = performance.now()
  const r = await runSpanningScenario({ accounts: parseAccounts(spec), seed: n })
  const ms = performance.now() - t0
  rows.push({
    n,
    accounts: spec,
    'manual auth (ATM)': r.manualAuthentications,
    'pairwise n(n−1)/2': r.pairwiseWithoutAtm,
    saved: r.pairwiseWithoutAtm - r.manualAuthentications,
    'trust messages': r.trustMessagesSent,
    deliveries: r.network.stats.deliveries,
    'readable deliveries': r.network.stats.reads,
    'wall ms': Math.round(ms),
    converged: r.converged,
  })
  await r.network.close()
}
console.table(rows)
