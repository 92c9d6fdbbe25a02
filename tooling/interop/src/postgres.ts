/**
 * The `postgres` store of the registry: `postgresStore` on one throwaway loopback PostgreSQL per
 * test process (`@vouch/postgres-tooling`, started on first use, stopped when the process ends),
 * or on the database `VOUCH_POSTGRES_URL` names. Every opened store gets tables of its own (a
 * fresh table prefix), dropped again when it is disposed of.
 */
import { POSTGRES_INSTALL_HINT, postgresInstalled, startPostgres } from '@vouch/postgres-tooling'
import type { StoreCreateOptions } from '@vouch/compliance'
import { dropTrustTables, postgresStore } from '@vouch/store-postgres'
import pg from 'pg'

/** Why the `postgres` store cannot run here, or undefined when it can. */
export function postgresUnavailable(): string | undefined {
  if ((process.env.VOUCH_POSTGRES_URL ?? '') !== '') return undefined
  if (postgresInstalled()) return undefined
  // CI installs PostgreSQL (tooling/debian-packages.txt): there a missing server must fail, not skip.
  if ((process.env.CI ?? '') !== '') return undefined
  return POSTGRES_INSTALL_HINT
}

let shared: Promise<pg.Pool> | undefined

function sharedPool(): Promise<pg.Pool> {
  shared ??= (async () => {
    let url = process.env.VOUCH_POSTGRES_URL ?? ''
    if (url === '') {
      const server = await startPostgres()
      url = await server.createDatabase()
    }
    const pool = new pg.Pool({ connectionString: url, max: 8 })
    pool.on('error', () => {})
    return pool
  })()
  return shared
}

let opened = 0

export async function openPostgresStore(options?: StoreCreateOptions) {
  const pool = await sharedPool()
  const tablePrefix = `interop_${process.pid}_${++opened}_`
  const store = await postgresStore({ database: pool, tablePrefix, ...options })
  let disposed = false
  return {
    store,
    dispose: async (): Promise<void> => {
      if (disposed) return
      disposed = true
      await store.close()
      await dropTrustTables({ database: pool, tablePrefix })
    },
  }
}
