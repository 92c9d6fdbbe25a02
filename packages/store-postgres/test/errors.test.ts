/**
 * Typed errors of the PostgreSQL store, each caused for real on the test cluster: a refused and a
 * lost connection (StoreConnectionError), a lock held past `lock_timeout` (StoreBusyError), a
 * serialisation failure (StoreSerializationError, retried by `transaction()` up to
 * `retry.maxAttempts`), a schema newer than the code (StoreSchemaTooNewError). Bad input and
 * failed transactions change nothing.
 */
import type { AccountTrustStore, TrustStore } from '@vouch/tm-core/contracts'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import {
  dropTrustTables,
  migratePostgres,
  postgresStore,
  SCHEMA_VERSION,
  toStoreError,
} from '../src/index.ts'
import { freshPrefix, freshStore, kid, ME, NO_PG, NS, PG_URL, SKIP, testPool } from './helpers.ts'

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Reads the account's counter (backend state 'n'), adds one, writes it back: a read-modify-write. */
async function increment(a: AccountTrustStore): Promise<void> {
  await a.transaction(async (tx) => {
    const before = await tx.getState('counter', 'n')
    const n = before === undefined ? 0 : Number(dec.decode(before))
    // give the other transactions time to read the same value
    await new Promise((r) => setTimeout(r, 2))
    await tx.setState('counter', 'n', enc.encode(String(n + 1)))
  })
}

async function counter(a: AccountTrustStore): Promise<number> {
  const v = await a.getState('counter', 'n')
  return v === undefined ? 0 : Number(dec.decode(v))
}

const withApp = (url: string, app: string): string =>
  `${url}${url.includes('?') ? '&' : '?'}application_name=${app}`

describe('toStoreError maps SQLSTATEs and socket errors to one class each', () => {
  const err = (code: string, message = 'x') => Object.assign(new Error(message), { code })
  const cases: [unknown, string, boolean][] = [
    [err('40001'), 'StoreSerializationError', true],
    [err('40P01'), 'StoreSerializationError', true],
    [err('55P03'), 'StoreBusyError', true],
    [err('57014'), 'StoreBusyError', true],
    [err('08006'), 'StoreConnectionError', true],
    [err('57P01'), 'StoreConnectionError', true],
    [err('53300'), 'StoreConnectionError', true],
    [err('ECONNREFUSED'), 'StoreConnectionError', true],
    [new Error('Connection terminated unexpectedly'), 'StoreConnectionError', true],
    [err('23505'), 'StoreError', false],
    [err('42P01'), 'StoreError', false],
  ]
  for (const [input, name, retryable] of cases) {
    it(`${(input as { code?: string }).code ?? (input as Error).message} → ${name}`, () => {
      const e = toStoreError(input, 'op') as Error & { retryable: boolean; cause: unknown }
      expect(e.name).toBe(name)
      expect(e.retryable).toBe(retryable)
      expect(e.cause).toBe(input)
    })
  }
})

describe.skipIf(NO_PG)(`typed errors on a real server ${SKIP}`, () => {
  const url = PG_URL as string
  const opened: TrustStore[] = []
  afterAll(async () => {
    for (const s of opened) await s.close()
  })

  it('a refused connection is a StoreConnectionError (retryable)', async () => {
    const e = (await postgresStore({ database: 'postgres://postgres@127.0.0.1:1/none' }).catch(
      (x: unknown) => x,
    )) as Error & { retryable: boolean }
    expect(e.name).toBe('StoreConnectionError')
    expect(e.retryable).toBe(true)
  })

  it('a connection lost mid-transaction is a StoreConnectionError; nothing of the transaction is stored, the store goes on', async () => {
    const prefix = freshPrefix()
    const store = await postgresStore({
      database: withApp(url, `victim_${process.pid}`),
      tablePrefix: prefix,
    })
    const a = store.forAccount(ME)
    const killer = testPool()
    const error = await a
      .transaction(async (tx) => {
        await tx.setOwnKey(NS, kid('half'))
        await killer.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
          [`victim_${process.pid}`],
        )
        await tx.getOwnKey(NS)
      })
      .catch((x: unknown) => x)
    expect((error as Error).name).toBe('StoreConnectionError')
    expect((error as { retryable: boolean }).retryable).toBe(true)
    expect(await a.getOwnKey(NS)).toBeUndefined()
    await a.setOwnKey(NS, kid('after'))
    expect(await a.getOwnKey(NS)).toBe('after')
    await store.close()
    await dropTrustTables({ database: killer, tablePrefix: prefix })
  })

  it("a transaction waiting for the account's lock past lock_timeout is a StoreBusyError (your pool: set per transaction)", async () => {
    const holder = await freshStore()
    opened.push(holder)
    const own = new pg.Pool({ connectionString: url, max: 2 })
    const waiter = await postgresStore({ database: own, tablePrefix: holder.prefix, lockTimeoutMs: 100 })
    let release = () => {}
    const held = new Promise<void>((r) => {
      release = r
    })
    let locked = () => {}
    const isLocked = new Promise<void>((r) => {
      locked = r
    })
    const holding = holder.forAccount(ME).transaction(async (tx) => {
      await tx.setOwnKey(NS, kid('holder'))
      locked()
      await held
    })
    await isLocked
    const started = Date.now()
    const error = (await waiter
      .forAccount(ME)
      .transaction(async (tx) => tx.setOwnKey(NS, kid('waiter')))
      .catch((x: unknown) => x)) as Error & { retryable: boolean }
    expect(error.name).toBe('StoreBusyError')
    expect(error.retryable).toBe(true)
    expect(Date.now() - started).toBeLessThan(5000)
    // a plain write waits for the account's transaction as well (and times out the same way)
    expect(
      (
        (await waiter
          .forAccount(ME)
          .setOwnKey(NS, kid('plain'))
          .catch((x: unknown) => x)) as Error
      ).name,
    ).toBe('StoreBusyError')
    release()
    await holding
    expect(await holder.forAccount(ME).getOwnKey(NS)).toBe('holder')
    await waiter.close()
    await own.end()
  })

  it('a store made from a URL sets lock_timeout on its connections', async () => {
    const holder = await freshStore()
    opened.push(holder)
    const waiter = await postgresStore({ database: url, tablePrefix: holder.prefix, lockTimeoutMs: 100 })
    let release = () => {}
    const held = new Promise<void>((r) => {
      release = r
    })
    let locked = () => {}
    const isLocked = new Promise<void>((r) => {
      locked = r
    })
    const holding = holder.forAccount(ME).transaction(async (tx) => {
      await tx.setOwnKey(NS, kid('holder'))
      locked()
      await held
    })
    await isLocked
    const error = (await waiter
      .forAccount(ME)
      .transaction(async (tx) => tx.setOwnKey(NS, kid('waiter')))
      .catch((x: unknown) => x)) as Error
    expect(error.name).toBe('StoreBusyError')
    release()
    await holding
    await waiter.close()
  })

  it('account locks: a plain write waits for the running transaction of its account, another account does not', async () => {
    const store = await freshStore()
    opened.push(store)
    const other = await postgresStore({ database: testPool(), tablePrefix: store.prefix })
    opened.push(other)
    const order: string[] = []
    let release = () => {}
    const held = new Promise<void>((r) => {
      release = r
    })
    let locked = () => {}
    const isLocked = new Promise<void>((r) => {
      locked = r
    })
    const holding = store.forAccount(ME).transaction(async (tx) => {
      await tx.setOwnKey(NS, kid('tx'))
      locked()
      await held
      order.push('tx commits')
    })
    await isLocked
    const plain = other
      .forAccount(ME)
      .setOwnKey(NS, kid('plain'))
      .then(() => order.push('plain write'))
    await other.forAccount('you@example.org' as never).setOwnKey(NS, kid('other account'))
    order.push('other account')
    await new Promise((r) => setTimeout(r, 100))
    release()
    await holding
    await plain
    expect(order).toEqual(['other account', 'tx commits', 'plain write'])
    expect(await store.forAccount(ME).getOwnKey(NS)).toBe('plain')
  })

  it('account-lock: 20 concurrent read-modify-write transactions from two pools lose no update', async () => {
    const a = await freshStore()
    opened.push(a)
    const own = new pg.Pool({ connectionString: url, max: 10 })
    const b = await postgresStore({ database: own, tablePrefix: a.prefix })
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment((i % 2 === 0 ? a : b).forAccount(ME))))
    expect(await counter(a.forAccount(ME))).toBe(20)
    await b.close()
    await own.end()
  })

  it('serializable: conflicting transactions fail with 40001 and transaction() runs them again — no update lost', async () => {
    const a = await freshStore({ concurrency: 'serializable', retry: { maxAttempts: 50, baseDelayMs: 1 } })
    opened.push(a)
    await Promise.all(Array.from({ length: 10 }, () => increment(a.forAccount(ME))))
    expect(await counter(a.forAccount(ME))).toBe(10)
  })

  it('serializable without retries: the loser gets a StoreSerializationError (retryable) and its writes are gone', async () => {
    const a = await freshStore({ concurrency: 'serializable', retry: { maxAttempts: 1 } })
    opened.push(a)
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => increment(a.forAccount(ME))))
    const failed = results
      .filter((r) => r.status === 'rejected')
      .map((r) => r.reason as Error & { retryable: boolean })
    expect(failed.length).toBeGreaterThan(0)
    for (const e of failed) {
      expect(e.name).toBe('StoreSerializationError')
      expect(e.retryable).toBe(true)
    }
    expect(await counter(a.forAccount(ME))).toBe(results.length - failed.length)
  })

  it('retries are bounded: maxAttempts runs, then StoreSerializationError with attempts', async () => {
    const a = await freshStore({ concurrency: 'serializable', retry: { maxAttempts: 3, baseDelayMs: 0 } })
    opened.push(a)
    let runs = 0
    const e = (await a
      .forAccount(ME)
      .transaction(async () => {
        runs++
        throw Object.assign(new Error('could not serialize access'), { code: '40001' })
      })
      .catch((x: unknown) => x)) as Error & { attempts?: number }
    // what fn throws passes through unchanged (it is not a store error)
    expect(e.name).toBe('Error')
    expect(runs).toBe(1)
    let runs2 = 0
    const e2 = (await a
      .forAccount(ME)
      .transaction(async () => {
        runs2++
        throw toStoreError(Object.assign(new Error('could not serialize access'), { code: '40001' }), 'x')
      })
      .catch((x: unknown) => x)) as Error & { attempts?: number }
    expect(e2.name).toBe('StoreSerializationError')
    expect(runs2).toBe(3)
    expect(e2.attempts).toBe(3)
  })
})

describe.skipIf(NO_PG)(`schema versions and deploy-time migrations ${SKIP}`, () => {
  it('migratePostgres migrates once (0 → 2, then 2 → 2); migrate: false opens a migrated database', async () => {
    const database = testPool()
    const tablePrefix = freshPrefix()
    expect(await migratePostgres({ database, tablePrefix })).toEqual({ from: 0, to: SCHEMA_VERSION })
    expect(await migratePostgres({ database, tablePrefix })).toEqual({
      from: SCHEMA_VERSION,
      to: SCHEMA_VERSION,
    })
    const store = await postgresStore({ database, tablePrefix, migrate: false })
    await store.forAccount(ME).setOwnKey(NS, kid('k'))
    await store.close()
    await dropTrustTables({ database, tablePrefix })
  })

  it('migrate: false refuses a database that was not migrated (StoreError, nothing created)', async () => {
    const database = testPool()
    const tablePrefix = freshPrefix()
    const e = (await postgresStore({ database, tablePrefix, migrate: false }).catch(
      (x: unknown) => x,
    )) as Error
    expect(e.name).toBe('StoreError')
    expect(e.message).toMatch(/schema version 0.*migratePostgres/)
    const { rows } = await database.query(
      'select count(*)::int as n from pg_tables where tablename like $1',
      [`${tablePrefix}%`],
    )
    expect(rows[0].n).toBe(0)
  })

  it('several processes opening at once migrate exactly once (kysely migration lock)', async () => {
    const tablePrefix = freshPrefix()
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: PG_URL as string, max: 2 }))
    const stores = await Promise.all(pools.map((database) => postgresStore({ database, tablePrefix })))
    const { rows } = await testPool().query(`select count(*)::int as n from ${tablePrefix}schema_migration`)
    expect(rows[0].n).toBe(SCHEMA_VERSION)
    for (const s of stores) await s.close()
    for (const p of pools) await p.end()
    await dropTrustTables({ database: testPool(), tablePrefix })
  })

  it('a schema newer than the code: StoreSchemaTooNewError (not retryable), the database untouched', async () => {
    const database = testPool()
    const tablePrefix = freshPrefix()
    await migratePostgres({ database, tablePrefix })
    await database.query(
      `insert into ${tablePrefix}schema_migration (name, timestamp) values ('0003-from-the-future', 'x')`,
    )
    for (const open of [
      () => postgresStore({ database, tablePrefix }),
      () => postgresStore({ database, tablePrefix, migrate: false }),
      () => migratePostgres({ database, tablePrefix }),
    ]) {
      const e = (await open().catch((x: unknown) => x)) as Error & {
        schemaVersion: number
        supportedVersion: number
        retryable: boolean
      }
      expect(e.name).toBe('StoreSchemaTooNewError')
      expect([e.schemaVersion, e.supportedVersion, e.retryable]).toEqual([3, SCHEMA_VERSION, false])
    }
    const { rows } = await database.query(`select count(*)::int as n from ${tablePrefix}schema_migration`)
    expect(rows[0].n).toBe(SCHEMA_VERSION + 1)
    await dropTrustTables({ database, tablePrefix })
  })

  it('bad options are rejected before anything is opened', async () => {
    const database = testPool()
    await expect(postgresStore({ database, tablePrefix: 'bad-prefix' })).rejects.toThrow(TypeError)
    await expect(postgresStore({ database, concurrency: 'optimistic' as never })).rejects.toThrow(TypeError)
    await expect(postgresStore({ database, retry: { maxAttempts: 0 } })).rejects.toThrow(RangeError)
    await expect(postgresStore({ database, lockTimeoutMs: -1 })).rejects.toThrow(RangeError)
    await expect(postgresStore({ database: 42 as never })).rejects.toThrow(TypeError)
  })
})
