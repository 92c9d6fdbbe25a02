/**
 * `pnpm --filter @vouch/store-postgres bench`: PostgreSQL 15 on loopback (a throwaway cluster with
 * PostgreSQL's durable defaults: fsync, synchronous_commit) next to store-sqlite on a file (WAL,
 * synchronous = FULL), in one run, at 10 and at 10,000 accounts in one database:
 *
 * 1. get-level latency (tinybench, one process, median);
 * 2. decisions/s (read level + set level + record last-applied), 50 per transaction, with 1, 2
 *    and 4 worker processes;
 * 3. ATM trust messages/s through `handleTrustMessages`, 50 per transaction, 1, 2, 4 workers.
 *
 * Each worker runs for `VOUCH_BENCH_SECONDS` (default 3) after a warm-up; throughput is the
 * workers' total over that time; each figure is the median of `VOUCH_BENCH_ROUNDS` (default 3)
 * interleaved rounds. The machine has 2 cores, shared by the workers and the database.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startPostgres } from '@vouch/postgres-tooling'
import { sqliteStore } from '@vouch/store-sqlite'
import type { KeyId, TrustStore } from '@vouch/tm-core/contracts'
import pg from 'pg'
import { Bench } from 'tinybench'
import { migratePostgres, postgresStore } from '../src/index.ts'
import { benchAccount, fillPostgres, fillSqlite, NS, type SqliteLike } from './setup.ts'

// better-sqlite3 (a dev dependency, for filling the SQLite file), typed as much as used here
const betterSqlite = 'better-sqlite3'
const { default: Database } = (await import(betterSqlite)) as {
  default: new (path: string) => SqliteLike & { close(): void }
}

const SECONDS = Number(process.env.VOUCH_BENCH_SECONDS ?? 3)
const ROUNDS = Number(process.env.VOUCH_BENCH_ROUNDS ?? 3)
const SIZES = (process.env.VOUCH_BENCH_ACCOUNTS ?? '10,10000').split(',').map(Number)
const WORKERS = (process.env.VOUCH_BENCH_WORKERS ?? '1,2,4').split(',').map(Number)
const BATCH = 50
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits })
const log = (s: string) => process.stdout.write(`${s}\n`)

const server = await startPostgres({ durable: true })
const url = await server.createDatabase('bench')
const pool = new pg.Pool({ connectionString: url, max: 4 })
const dir = mkdtempSync(join(tmpdir(), 'vouch-pg-bench-'))

interface Target {
  readonly kind: 'postgres' | 'sqlite'
  readonly target: string
  readonly prefix: string
  readonly accounts: number
}

const targets: Target[] = []
for (const accounts of SIZES) {
  const prefix = `b${accounts}_`
  await migratePostgres({ database: pool, tablePrefix: prefix })
  await fillPostgres(pool, prefix, accounts)
  targets.push({ kind: 'postgres', target: url, prefix, accounts })
  const file = join(dir, `bench-${accounts}.db`)
  await (await sqliteStore({ database: file, tablePrefix: prefix })).close()
  const db = new Database(file)
  fillSqlite(db, prefix, accounts)
  db.close()
  targets.push({ kind: 'sqlite', target: file, prefix, accounts })
}
const label = (t: Target) =>
  t.kind === 'postgres' ? 'PostgreSQL 15 (loopback, fsync on)' : 'SQLite file (WAL, synchronous=FULL)'

// 1. get-level latency ------------------------------------------------------------------------
const opened: TrustStore[] = []
const bench = new Bench({ time: 1500, warmupTime: 300 })
for (const t of targets) {
  const store =
    t.kind === 'postgres'
      ? await postgresStore({ database: url, tablePrefix: t.prefix, migrate: false, poolSize: 2 })
      : await sqliteStore({ database: t.target, tablePrefix: t.prefix })
  opened.push(store)
  let n = 0
  bench.add(`${label(t)} | ${t.accounts}`, async () => {
    const a = benchAccount(n++ % t.accounts)
    const level = await store.forAccount(a.jid).getTrustLevel(NS, a.bob, a.bobKeys[n % 8] as KeyId)
    if (level !== 'automatically-trusted' && level !== 'authenticated' && level !== 'manually-distrusted')
      throw new Error(`unexpected level ${level}`)
  })
}
log(
  `load average before: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
)
await bench.run()
for (const s of opened) await s.close()
const latency: Record<string, string>[] = bench.tasks.map((task) => {
  const [store, accounts] = task.name.split(' | ')
  const r = task.result
  if (r.state !== 'completed') return { store: store as string, accounts: accounts as string, state: r.state }
  return {
    store: store as string,
    accounts: fmt(Number(accounts)),
    'get level, median (µs)': fmt(r.latency.p50 * 1000, 1),
    'p99 (µs)': fmt((r.latency.p99 ?? 0) * 1000, 1),
  }
})

// 2. and 3. throughput with 1, 2, 4 worker processes -------------------------------------------
interface Done {
  readonly done: number
  readonly applied: number
  readonly ms: number
  /** CPU time of the worker process, µs */
  readonly clientCpuUs: number
  /** CPU time of its PostgreSQL server process (0 for SQLite), µs */
  readonly serverCpuUs: number
}

function worker(
  t: Target,
  task: 'decisions' | 'atm',
  index: number,
): { child: ChildProcess; ready: Promise<void>; done: Promise<Done> } {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      WORKER,
      JSON.stringify({ ...t, task, seconds: SECONDS, worker: index, batch: BATCH }),
    ],
    { cwd: PACKAGE_DIR, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  let ready = () => {}
  let done = (_: Done) => {}
  const readyP = new Promise<void>((r) => {
    ready = r
  })
  const doneP = new Promise<Done>((resolve, reject) => {
    done = resolve
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`worker exited with ${code}`))))
  })
  child.on('message', (m: { ready?: boolean } & Partial<Done>) => {
    if (m.ready === true) ready()
    if (m.done !== undefined) done(m as Done)
  })
  return { child, ready: readyP, done: doneP }
}

async function throughput(
  t: Target,
  task: 'decisions' | 'atm',
  n: number,
): Promise<{ perSecond: number; applied: number; cpuUsPerItem: number; serverShare: number }> {
  const ws = Array.from({ length: n }, (_, i) => worker(t, task, i))
  await Promise.all(ws.map((w) => w.ready))
  for (const w of ws) w.child.send('go')
  const results = await Promise.all(ws.map((w) => w.done))
  await Promise.all(
    ws.map((w) => new Promise((r) => (w.child.exitCode === null ? w.child.once('exit', r) : r(null)))),
  )
  const total = results.reduce((s, r) => s + r.done, 0)
  const applied = results.reduce((s, r) => s + r.applied, 0)
  const seconds = Math.max(...results.map((r) => r.ms)) / 1000
  const client = results.reduce((s, r) => s + r.clientCpuUs, 0)
  const server = results.reduce((s, r) => s + r.serverCpuUs, 0)
  return {
    perSecond: total / seconds,
    applied: applied / total,
    cpuUsPerItem: (client + server) / total,
    serverShare: server / (client + server),
  }
}

// The machine is shared: its load moves between runs. So the runs are interleaved — each round
// runs every store of one size with 1, 2 and 4 workers, one after the other — and each figure is
// the median over the rounds; ratios compare medians taken side by side.
const median = (xs: readonly number[]): number => {
  const v = [...xs].sort((a, b) => a - b)
  const m = v.length >> 1
  return v.length % 2 === 1 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2
}
const rows: Record<string, string>[] = []
for (const task of ['decisions', 'atm'] as const) {
  for (const accounts of SIZES) {
    const group = targets.filter((t) => t.accounts === accounts)
    const runs = new Map<string, Awaited<ReturnType<typeof throughput>>[]>()
    for (let round = 0; round < ROUNDS; round++)
      for (const t of group)
        for (const n of WORKERS) {
          const key = `${t.kind}:${n}`
          runs.set(key, [...(runs.get(key) ?? []), await throughput(t, task, n)])
        }
    for (const t of group) {
      const row: Record<string, string> = {
        task: task === 'atm' ? `ATM trust messages/s (×${BATCH} per tx)` : `decisions/s (×${BATCH} per tx)`,
        store: label(t),
        accounts: fmt(t.accounts),
      }
      const one = median((runs.get(`${t.kind}:1`) ?? []).map((r) => r.perSecond))
      for (const n of WORKERS) {
        const rs = runs.get(`${t.kind}:${n}`) ?? []
        const perSecond = median(rs.map((r) => r.perSecond))
        if (n === 1) {
          // CPU time per item (worker + its PostgreSQL process): what the run cost, whatever the
          // waits for a CPU on a busy machine; one core's worth of it is 1e6 / that
          const serverShare = median(rs.map((r) => r.serverShare))
          row['CPU µs per item (1 worker)'] =
            `${fmt(median(rs.map((r) => r.cpuUsPerItem)), 1)}${t.kind === 'postgres' ? ` (server ${Math.round(serverShare * 100)} %)` : ''}`
        }
        row[`${n} worker${n === 1 ? '' : 's'}`] =
          n === 1 || one === 0 ? fmt(perSecond) : `${fmt(perSecond)} (×${(perSecond / one).toFixed(2)})`
        const applied = median(rs.map((r) => r.applied))
        if (task === 'atm' && applied < 0.95) row[`applied (${n})`] = `${Math.round(applied * 100)} %`
      }
      row.runs = rs(runs, t, WORKERS)
      rows.push(row)
      log(JSON.stringify(row))
    }
  }
}

/** The single runs behind a row (msg/s per worker count, in round order), for the record. */
function rs(runs: Map<string, { perSecond: number }[]>, t: Target, workers: readonly number[]): string {
  return workers
    .map((n) => `${n}: ${(runs.get(`${t.kind}:${n}`) ?? []).map((r) => fmt(r.perSecond)).join('/')}`)
    .join('; ')
}

log(
  `\nstore-postgres bench (Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ${SECONDS} s per run, medians of ${ROUNDS} interleaved rounds, load average after: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')})`,
)
console.table(latency)
console.table(rows)

await pool.end()
await server.stop()
rmSync(dir, { recursive: true, force: true })
