import type { BareJid, ChangeContext, KeyId, TrustStore } from '@vouch/tm-core/contracts'
import pg from 'pg'
import { afterAll, inject } from 'vitest'
import { dropTrustTables, type PostgresStoreInit, postgresStore } from '../src/index.ts'

export const NS = 'urn:xmpp:omemo:2'
export const ME = 'me@example.org' as BareJid
export const BOB = 'bob@example.org' as BareJid
export const ctx = (at: number): ChangeContext => ({ provenance: { kind: 'manual' }, at })
export const kid = (s: string): KeyId => s as KeyId
export const jid = (s: string): BareJid => s as BareJid

const provided = inject('postgres')

/** The test database's URL, or undefined when PostgreSQL is missing (then `SKIP` says why). */
export const PG_URL: string | undefined = 'url' in provided ? provided.url : undefined
export const SKIP: string = 'skip' in provided ? provided.skip : ''
/** For `describe.skipIf(NO_PG)`: the describe title carries {@link SKIP} too. */
export const NO_PG = PG_URL === undefined

let pool: pg.Pool | undefined
/** One pool per test file, ended after it. */
export function testPool(): pg.Pool {
  if (PG_URL === undefined) throw new Error(SKIP)
  if (pool === undefined) {
    const p = new pg.Pool({ connectionString: PG_URL, max: 8 })
    p.on('error', () => {})
    pool = p
    afterAll(async () => {
      await p.end()
    })
  }
  return pool
}

let stores = 0
/** A unique table prefix for this file's process (stores never see each other's tables). */
export const freshPrefix = (): string => `t${process.pid}_${++stores}_`

/** Opens a store on fresh tables of the test database; `close` closes it and drops its tables. */
export async function freshStore(
  init: Omit<PostgresStoreInit, 'database'> = {},
): Promise<TrustStore & { readonly prefix: string }> {
  const prefix = init.tablePrefix ?? freshPrefix()
  const database = testPool()
  const store = await postgresStore({ database, ...init, tablePrefix: prefix })
  return Object.assign(Object.create(store) as TrustStore, {
    prefix,
    forAccount: (account: BareJid) => store.forAccount(account),
    close: async () => {
      await store.close()
      await dropTrustTables({ database, tablePrefix: prefix })
    },
  })
}
