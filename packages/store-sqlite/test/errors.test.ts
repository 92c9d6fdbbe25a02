import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore } from '../src/index.ts'
import { BOB, ctx, kid, ME, NS, tempDir } from './helpers.ts'

describe('sqliteStore: driver errors become typed store errors', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  it('maps SQLITE_BUSY after the busy timeout to a retryable StoreBusyError with the driver error as cause', async () => {
    const path = tmp.file('busy.db')
    const store = await sqliteStore({ database: path, busyTimeoutMs: 50 })
    const other = new Database(path)
    other.exec('begin immediate') // another connection holds the write lock
    const started = Date.now()
    const error = (await store
      .forAccount(ME)
      .addKeys(NS, BOB, [kid('k')], ctx(1))
      .catch((e: unknown) => e)) as Error & { retryable?: boolean; cause?: { code?: string } }
    expect(error.name).toBe('StoreBusyError')
    expect(error.retryable).toBe(true)
    expect(error.cause?.code).toMatch(/^SQLITE_BUSY/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(40) // it waited for the busy timeout
    other.exec('rollback')
    // and the store works again once the lock is gone
    expect(await store.forAccount(ME).addKeys(NS, BOB, [kid('k')], ctx(1))).toHaveLength(1)
    other.close()
    await store.close()
  })

  it('maps a busy database in transaction() (BEGIN IMMEDIATE) to StoreBusyError', async () => {
    const path = tmp.file('busy-tx.db')
    const store = await sqliteStore({ database: path, busyTimeoutMs: 20 })
    const other = new Database(path)
    other.exec('begin immediate')
    let ran = false
    const error = (await store
      .forAccount(ME)
      .transaction(async () => {
        ran = true
      })
      .catch((e: unknown) => e)) as Error & { retryable?: boolean }
    expect(error.name).toBe('StoreBusyError')
    expect(error.retryable).toBe(true)
    expect(ran).toBe(false)
    other.exec('rollback')
    other.close()
    await store.close()
  })

  it('maps any other driver error to a non-retryable StoreError with the driver error as cause', async () => {
    const db = new Database(':memory:')
    const store = await sqliteStore({ database: db })
    db.exec('drop table vouch_own_keys') // the schema is broken behind the store's back
    const error = (await store
      .forAccount(ME)
      .getOwnKey(NS)
      .catch((e: unknown) => e)) as Error & { retryable?: boolean; cause?: Error }
    expect(error.name).toBe('StoreError')
    expect(error.retryable).toBe(false)
    expect(error.cause?.message).toMatch(/no such table/)
    await store.close()
    db.close()
  })

  it('passes on what the transaction function throws, unchanged', async () => {
    const store = await sqliteStore({ database: ':memory:' })
    const mine = new RangeError('mine')
    const error = await store
      .forAccount(ME)
      .transaction(async () => {
        throw mine
      })
      .catch((e: unknown) => e)
    expect(error).toBe(mine)
    await store.close()
  })

  it('rejects calls after close() with a StoreError, and close() twice is fine', async () => {
    const store = await sqliteStore({ database: ':memory:' })
    const account = store.forAccount(ME)
    await store.close()
    await store.close()
    const error = (await account.getKeys(NS).catch((e: unknown) => e)) as Error
    expect(error.name).toBe('StoreError')
    expect(error.message).toMatch(/closed/)
  })

  it('fails to open a path in a missing directory with a StoreError', async () => {
    const error = (await sqliteStore({ database: tmp.file('no/such/dir/x.db') }).catch(
      (e: unknown) => e,
    )) as Error
    expect(error.name).toBe('StoreError')
  })
})
