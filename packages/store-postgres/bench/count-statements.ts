/**
 * Counts the statements (round trips) of one ATM batch of 50 trust messages on PostgreSQL, by kind.
 * `node --import tsx bench/count-statements.ts`
 */
import { createAtm } from '@vouch/atm'
import { startPostgres } from '@vouch/postgres-tooling'
import { Kysely, type LogEvent, PostgresDialect } from 'kysely'
import pg from 'pg'
import { atmMessage, benchAccount, fillPostgres, NS } from './setup.ts'
import { migratePostgres, postgresStore, type TrustDb } from '../src/index.ts'

const server = await startPostgres()
const url = await server.createDatabase()
const pool = new pg.Pool({ connectionString: url })
await migratePostgres({ database: pool, tablePrefix: 'c_' })
await fillPostgres(pool, 'c_', 10)
const kinds = new Map<string, number>()
let counting = false
const db = new Kysely<TrustDb>({
  dialect: new PostgresDialect({ pool }),
  log: (e: LogEvent) => {
    if (!counting || e.level !== 'query') return
    const k = e.query.sql
      .replace(/vouch_sp_\d+/, 'sp')
      .replace(/"[^"]*"/g, 'T')
      .slice(0, 60)
    kinds.set(k, (kinds.get(k) ?? 0) + 1)
    if (process.env.VOUCH_SHOW_SEQUENCE) console.log(k)
  },
})
const store = await postgresStore({ database: db, tablePrefix: 'c_', migrate: false })
const a = benchAccount(3)
const atm = createAtm({
  account: a.jid,
  store: store.forAccount(a.jid),
  backends: [{ namespace: NS, capabilities: { oneKeyPerIdentity: false, keyIdLength: 32 } }],
  now: () => Date.now(),
})
let n = 0
const batch = () => Array.from({ length: 50 }, () => atmMessage(a, n++, 0))
await atm.handleTrustMessages(batch())
counting = true
const results = await atm.handleTrustMessages(batch())
counting = false
console.log(
  'outcomes',
  results
    .map((r) => r.outcome)
    .join(',')
    .slice(0, 80),
)
console.log([...kinds.entries()].sort((x, y) => y[1] - x[1]))
console.log(
  'total',
  [...kinds.values()].reduce((s, x) => s + x, 0),
  'per message',
  [...kinds.values()].reduce((s, x) => s + x, 0) / 50,
)
await store.close()
await pool.end()
await server.stop()
