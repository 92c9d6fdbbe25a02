/**
 * One worker process of the benchmark: opens the store (PostgreSQL or a SQLite file), waits for
 * "go", then for `seconds` runs batches of {@link Args.batch} in one transaction each, each batch
 * for a random account, and reports how many it did:
 * - `decisions`: read a level, set a level, record the D-9 time (as store-sqlite's bench);
 * - `atm`: ATM trust messages through `handleTrustMessages` (one decision each, flipping one of
 *   bob's keys, from this worker's own authenticated endpoint: applied).
 */
import { readFileSync } from 'node:fs'
import { sqliteStore } from '@vouch/store-sqlite'
import type { KeyId, TrustStore } from '@vouch/tm-core/contracts'
import pg from 'pg'
import { postgresStore } from '../src/index.ts'
import { atmEngines, atmMessage, benchAccount, NS } from './setup.ts'

interface Args {
  readonly kind: 'postgres' | 'sqlite'
  readonly target: string
  readonly prefix: string
  readonly task: 'decisions' | 'atm'
  readonly accounts: number
  readonly seconds: number
  readonly worker: number
  readonly batch: number
}

const args = JSON.parse(process.argv[2] as string) as Args

// PostgreSQL: one connection (a batch is one transaction on one connection anyway), so that the
// CPU time of its server process can be read from /proc and reported next to ours.
const pool = args.kind === 'postgres' ? new pg.Pool({ connectionString: args.target, max: 1 }) : undefined
pool?.on('error', () => {})
const backendPid: number | undefined =
  pool === undefined ? undefined : (await pool.query('select pg_backend_pid() as pid')).rows[0].pid
const store: TrustStore =
  pool !== undefined
    ? await postgresStore({ database: pool, tablePrefix: args.prefix, migrate: false })
    : await sqliteStore({ database: args.target, tablePrefix: args.prefix, busyTimeoutMs: 30_000 })

/** CPU time (µs) of the PostgreSQL server process serving us, from /proc (utime + stime). */
function serverCpuUs(): number {
  if (backendPid === undefined) return 0
  try {
    const fields = readFileSync(`/proc/${backendPid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6 // clock ticks of 10 ms
  } catch {
    return Number.NaN
  }
}

let counter = 0
const atmOf = atmEngines(store)

async function decisions(i: number): Promise<number> {
  const a = benchAccount(i)
  const sender = a.senders[args.worker] as KeyId
  await store.forAccount(a.jid).transaction(async (tx) => {
    for (let j = 0; j < args.batch; j++) {
      const n = counter++
      const keyId = a.bobKeys[n % a.bobKeys.length] as KeyId
      const level = await tx.getTrustLevel(NS, a.bob, keyId)
      await tx.setTrustLevels(
        NS,
        [
          {
            owner: a.bob,
            keyIds: [keyId],
            level: level === 'authenticated' ? 'manually-distrusted' : 'authenticated',
          },
        ],
        { provenance: { kind: 'atm', senderJid: a.jid, senderKey: sender }, at: n },
      )
      await tx.setLastApplied(NS, sender, a.bob, keyId, 1_000_000 + n)
    }
  })
  return args.batch
}

/**
 * SCE times: now, strictly increasing per worker (D-9 per sender key), so that a later run on the
 * same accounts is not a replay of an earlier one, and a trust is not older than another worker's
 * distrust (D-9 across senders): the messages apply.
 */
let clock = 0
const sceClock = (): number => {
  clock = Math.max(Date.now(), clock + 1)
  return clock
}

async function atmBatch(i: number): Promise<number> {
  const a = benchAccount(i)
  const inputs = Array.from({ length: args.batch }, () => atmMessage(a, counter++, args.worker, sceClock()))
  const results = await atmOf(i).handleTrustMessages(inputs)
  return results.filter((r) => r.outcome === 'applied').length
}

const run = args.task === 'atm' ? atmBatch : decisions
// warm-up (1.5 s): compile statements, fill caches, let the JIT settle
const warm = performance.now() + 1500
while (performance.now() < warm) await run(Math.floor(Math.random() * args.accounts))
await new Promise<void>((resolve) => {
  process.once('message', () => resolve())
  process.send?.({ ready: true })
})
const start = performance.now()
const cpu0 = process.cpuUsage()
const server0 = serverCpuUs()
const deadline = start + args.seconds * 1000
let done = 0
let applied = 0
while (performance.now() < deadline) {
  applied += await run(Math.floor(Math.random() * args.accounts))
  done += args.batch
}
const cpu = process.cpuUsage(cpu0)
process.send?.({
  done,
  applied,
  ms: performance.now() - start,
  clientCpuUs: cpu.user + cpu.system,
  serverCpuUs: serverCpuUs() - server0,
})
await store.close()
await pool?.end()
process.disconnect?.()
