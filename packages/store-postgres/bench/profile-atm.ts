/**
 * One process, ATM batches of 50 (`handleTrustMessages`) for `seconds` on fresh data, on
 * PostgreSQL (throwaway cluster, durable defaults) and on a SQLite file: messages/s, CPU µs per
 * message of this process, share applied. For profiling (`node --cpu-prof --import tsx
 * bench/profile-atm.ts postgres 10 3`), not a figure for the README (that is store.bench.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startPostgres } from '@vouch/postgres-tooling'
import { sqliteStore } from '@vouch/store-sqlite'
import type { TrustStore } from '@vouch/tm-core/contracts'
import pg from 'pg'
import { migratePostgres, postgresStore } from '../src/index.ts'
import { atmEngines, atmMessage, benchAccount, fillPostgres, fillSqlite, type SqliteLike } from './setup.ts'

const [kind = 'postgres', accountsArg = '10', secondsArg = '3'] = process.argv.slice(2)
const accounts = Number(accountsArg)
const seconds = Number(secondsArg)
const betterSqlite = 'better-sqlite3'
const { default: Database } = (await import(betterSqlite)) as {
  default: new (path: string) => SqliteLike & { close(): void }
}

let store: TrustStore
let cleanup: () => Promise<void>
if (kind === 'postgres') {
  const server = await startPostgres({ durable: true })
  const url = await server.createDatabase('profile')
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  await migratePostgres({ database: pool, tablePrefix: 'p_' })
  await fillPostgres(pool, 'p_', accounts)
  store = await postgresStore({ database: pool, tablePrefix: 'p_', migrate: false })
  cleanup = async () => {
    await store.close()
    await pool.end()
    await server.stop()
  }
} else {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-profile-'))
  const file = join(dir, 'p.db')
  await (await sqliteStore({ database: file, tablePrefix: 'p_' })).close()
  const db = new Database(file)
  fillSqlite(db, 'p_', accounts)
  db.close()
  store = await sqliteStore({ database: file, tablePrefix: 'p_' })
  cleanup = async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

let counter = 0
const atmOf = atmEngines(store)
async function batch(i: number): Promise<number> {
  const a = benchAccount(i)
  const atm = atmOf(i)
  const inputs = Array.from({ length: 50 }, () => atmMessage(a, counter++, 0))
  return (await atm.handleTrustMessages(inputs)).filter((r) => r.outcome === 'applied').length
}

const warm = performance.now() + 1000
while (performance.now() < warm) await batch(Math.floor(Math.random() * accounts))
const start = performance.now()
const cpu0 = process.cpuUsage()
let done = 0
let applied = 0
while (performance.now() < start + seconds * 1000) {
  applied += await batch(Math.floor(Math.random() * accounts))
  done += 50
}
const cpu = process.cpuUsage(cpu0)
const ms = performance.now() - start
console.log(
  `${kind} ${accounts} accounts: ${Math.round((done / ms) * 1000)} msg/s, ${((cpu.user + cpu.system) / done).toFixed(1)} µs CPU/msg, ${Math.round((applied / done) * 100)} % applied`,
)
await cleanup()
