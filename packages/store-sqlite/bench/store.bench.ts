/**
 * `pnpm --filter @vouch/store-sqlite bench`: the store operations the ATM engine makes, on
 * store-memory and on store-sqlite with a **file** database (WAL) in a temp dir, in one run; then
 * "processed trust decisions per second" with decisions batched in transactions.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryStore } from '@vouch/store-memory'
import type {
  AccountTrustStore,
  BareJid,
  KeyId,
  PostponedDecision,
  TrustLevel,
  TrustStore,
} from '@vouch/tm-core/contracts'
import { Bench } from 'tinybench'
import { type SqliteSynchronous, sqliteStore } from '../src/index.ts'

const NS = 'urn:xmpp:omemo:2'
const ME = 'me@example.org' as BareJid
const BOB = 'bob@example.org' as BareJid
const SENDER = 'c2VuZGVyLWtleQ==' as KeyId
const manual = (at: number) => ({ provenance: { kind: 'manual' as const }, at })
const kid = (i: number) => `key-${String(i).padStart(6, '0')}` as KeyId

const dir = mkdtempSync(join(tmpdir(), 'vouch-store-bench-'))
let files = 0
const fileStore = (synchronous: SqliteSynchronous = 'FULL') =>
  sqliteStore({ database: join(dir, `bench-${++files}.db`), synchronous })

async function populate(a: AccountTrustStore): Promise<void> {
  // 1,000 keys of 10 owners, so lookups hit a table that is not trivially small.
  for (let o = 0; o < 10; o++) {
    const owner = `owner${o}@example.org` as BareJid
    await a.addKeys(
      NS,
      owner,
      Array.from({ length: 100 }, (_, i) => kid(o * 100 + i)),
      manual(1),
      'automatically-trusted',
    )
  }
}

function tasks(bench: Bench, label: string, a: AccountTrustStore): void {
  let n = 0
  bench.add(`get level | ${label}`, async () => {
    await a.getTrustLevel(NS, 'owner3@example.org' as BareJid, kid(300 + (n++ % 100)))
  })
  const hundred = Array.from({ length: 100 }, (_, i) => kid(10_000 + i))
  let flip = false
  bench.add(`set levels for 100 keys | ${label}`, async () => {
    flip = !flip
    const level: TrustLevel = flip ? 'manually-trusted' : 'manually-distrusted'
    const changed = await a.setTrustLevels(NS, [{ owner: BOB, keyIds: hundred, level }], manual(n++))
    if (changed.length !== 100) throw new Error('expected 100 changes')
  })
  let t = 0
  bench.add(`add a postponed decision | ${label}`, async () => {
    t++
    await a.addPostponed([
      {
        encryption: NS,
        senderKey: SENDER,
        senderJid: BOB,
        owner: BOB,
        keyId: kid(t % 500),
        polarity: t % 3 === 0 ? 'distrust' : 'trust',
        sceTime: t,
        receivedAt: t,
      },
    ])
  })
  const other = 'b3RoZXItc2VuZGVy' as KeyId
  let round = 0
  bench.add(
    `resolve a sender's 20 postponed decisions (1 tx) | ${label}`,
    async () => {
      await a.transaction(async (tx) => {
        const pending = await tx.getPostponed(NS, { senderKeys: [other] })
        if (pending.length !== 20) throw new Error(`expected 20 postponed, got ${pending.length}`)
        await tx.setTrustLevels(
          NS,
          pending.map((d) => ({
            owner: d.owner,
            keyIds: [d.keyId],
            level: d.polarity === 'trust' ? 'authenticated' : 'manually-distrusted',
          })),
          { provenance: { kind: 'atm', senderJid: BOB, senderKey: other }, at: round },
        )
        await tx.removePostponedBySenders(NS, [other])
      })
    },
    {
      beforeEach: async () => {
        round++
        const decisions: PostponedDecision[] = Array.from({ length: 20 }, (_, i) => ({
          encryption: NS,
          senderKey: other,
          senderJid: BOB,
          owner: `carol${i % 4}@example.org` as BareJid,
          keyId: kid(20_000 + ((round * 20 + i) % 2000)),
          polarity: i % 5 === 0 ? 'distrust' : 'trust',
          sceTime: round,
          receivedAt: round,
        }))
        await a.addPostponed(decisions)
      },
    },
  )
}

const memory = memoryStore()
const sqlite = await fileStore('FULL')
for (const s of [memory, sqlite]) await populate(s.forAccount(ME))

const bench = new Bench({ time: 1000, warmupTime: 200 })
tasks(bench, 'memory', memory.forAccount(ME))
tasks(bench, 'sqlite file (WAL, synchronous=FULL)', sqlite.forAccount(ME))
await bench.run()

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits })
console.log(`\nstore operations (Node ${process.version}, ${new Date().toISOString().slice(0, 10)})`)
console.table(
  bench.tasks.map((task) => {
    const [name, store] = task.name.split(' | ')
    const r = task.result
    if (r.state !== 'completed') return { task: name, store, state: r.state }
    return {
      task: name,
      store,
      'ops/s': fmt(r.throughput.mean),
      'median (µs)': fmt(r.latency.p50 * 1000, 1),
      samples: r.latency.samplesCount,
    }
  }),
)

/** Decisions per second: each = read level + set level + record last-applied; `batch` per transaction. */
async function decisionsPerSecond(store: TrustStore, batch: number, total: number): Promise<number> {
  const a = store.forAccount(ME)
  let i = 0
  const run = async (count: number) => {
    for (let done = 0; done < count; done += batch) {
      await a.transaction(async (tx) => {
        for (let j = 0; j < batch; j++, i++) {
          const keyId = kid(100_000 + (i % 5000))
          const owner = `dave${i % 7}@example.org` as BareJid
          const level = await tx.getTrustLevel(NS, owner, keyId)
          await tx.setTrustLevels(
            NS,
            [
              {
                owner,
                keyIds: [keyId],
                level: level === 'authenticated' ? 'manually-distrusted' : 'authenticated',
              },
            ],
            { provenance: { kind: 'atm', senderJid: BOB, senderKey: SENDER }, at: i },
          )
          await tx.setLastApplied(NS, SENDER, owner, keyId, i)
        }
      })
    }
  }
  await run(Math.min(total, 2000)) // warm-up
  const start = performance.now()
  await run(total)
  return (total / (performance.now() - start)) * 1000
}

const rows: Record<string, string>[] = []
const TOTAL = 20_000
for (const [label, make] of [
  ['memory', async () => memoryStore()],
  ['sqlite file, synchronous=FULL', () => fileStore('FULL')],
  ['sqlite file, synchronous=NORMAL', () => fileStore('NORMAL')],
] as const) {
  for (const batch of [1, 50]) {
    const store = await make()
    const perSecond = await decisionsPerSecond(store, batch, batch === 1 ? TOTAL / 10 : TOTAL)
    await store.close()
    rows.push({ store: label, 'decisions per transaction': String(batch), 'decisions/s': fmt(perSecond) })
  }
}
console.log('\nprocessed trust decisions per second (read level + set level + record last-applied)')
console.table(rows)

await memory.close()
await sqlite.close()
rmSync(dir, { recursive: true, force: true })
