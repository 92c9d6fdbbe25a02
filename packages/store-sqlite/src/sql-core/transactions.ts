import { StoreError, StoreSerializationError } from '@vouch/tm-core/contracts'
import { CompiledQuery, type Transaction, type TransactionBuilder } from 'kysely'
import type { Db, SqlStoreCore } from './context.ts'
import type { TrustDb } from './schema.ts'

/** One running database transaction, shared by the views of its (nested) transaction functions. */
interface TxShared {
  readonly trx: Transaction<TrustDb>
  /** calls on the transaction run one after the other, even if `fn` does not await them */
  queue: Promise<unknown>
  /** counter for savepoint names of nested transactions */
  savepoints: number
  /** control statements held back until the next statement (`SqlDialect.deferSavepoints`) */
  pending: string[]
}

/** The part of a transaction handed to one transaction function: usable until that function settles. */
interface TxState {
  readonly shared: TxShared
  active: boolean
}

/**
 * How the calls of one account view reach the database: a plain call runs on its own (a
 * transaction of its own when it has several statements), a call on a transaction's view is
 * queued on that transaction's connection. Errors of the driver become typed store errors
 * (`dialect.toStoreError`: busy → `StoreBusyError`).
 */
export class TxRunner {
  readonly #core: SqlStoreCore
  readonly #account: string
  readonly #tx: TxState | undefined

  constructor(core: SqlStoreCore, account: string, tx: TxState | undefined) {
    this.#core = core
    this.#account = account
    this.#tx = tx
  }

  #check(operation: string): void {
    if (this.#core.closed) throw new StoreError(`${operation}: the store is closed`)
    if (this.#tx !== undefined && !this.#tx.active) {
      throw new StoreError(`${operation}: the transaction is finished; use the store, not the old tx`)
    }
  }

  /** One statement (or reads): runs on its own, or inside the current transaction. */
  run<T>(operation: string, fn: (db: Db) => Promise<T>): Promise<T> {
    return this.#exec(operation, fn, false)
  }

  /** Several statements that must commit together: a transaction of their own unless in one. */
  atomic<T>(operation: string, fn: (db: Db) => Promise<T>): Promise<T> {
    return this.#exec(operation, fn, true)
  }

  /**
   * One statement that writes: as {@link run}, or as {@link atomic} when the dialect wants plain
   * writes to wait for the account's transactions (`SqlDialect.plainWritesInTransaction`).
   */
  write<T>(operation: string, fn: (db: Db) => Promise<T>): Promise<T> {
    return this.#exec(operation, fn, this.#core.dialect.plainWritesInTransaction === true)
  }

  async #exec<T>(operation: string, fn: (db: Db) => Promise<T>, atomic: boolean): Promise<T> {
    this.#check(operation)
    const tx = this.#tx
    if (tx !== undefined) return this.#enqueue(tx.shared, operation, fn)
    const core = this.#core
    if (!atomic) {
      try {
        return await fn(core.db)
      } catch (e) {
        throw core.dialect.toStoreError(e, operation)
      }
    }
    return this.#retrying(async () => {
      try {
        return await this.#begin().execute(this.#locked(fn))
      } catch (e) {
        throw core.dialect.toStoreError(e, operation)
      }
    })
  }

  /** A transaction of the store's database, at the dialect's isolation level. */
  #begin(): TransactionBuilder<TrustDb> {
    const level = this.#core.dialect.isolationLevel
    const builder = this.#core.db.transaction()
    return level === undefined ? builder : builder.setIsolationLevel(level)
  }

  /**
   * Runs `attempt` again while it fails with a `StoreSerializationError` (the database aborted it
   * as not serialisable: nothing of it was applied), up to `core.retry.maxAttempts` runs.
   */
  async #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    const retry = this.#core.retry
    for (let n = 1; ; n++) {
      try {
        return await attempt()
      } catch (e) {
        if (retry === undefined || !(e instanceof Error) || e.name !== 'StoreSerializationError') throw e
        if (n >= retry.maxAttempts || this.#core.closed) {
          if (n === 1) throw e
          throw new StoreSerializationError(`${e.message} (gave up after ${n} attempts)`, n, {
            cause: e.cause ?? e,
          })
        }
        await new Promise((resolve) => setTimeout(resolve, retry.delayMs(n)))
      }
    }
  }

  /** `fn`, after the dialect's account lock if opening a transaction does not take one already. */
  #locked<D extends Db, T>(fn: (db: D) => Promise<T>): (db: D) => Promise<T> {
    const lock = this.#core.dialect.lockAccount(this.#account)
    if (lock === undefined) return fn
    return async (trx) => {
      await trx.executeQuery(lock)
      return fn(trx)
    }
  }

  /**
   * Runs `fn` on the transaction's connection after every call queued before it (and after the
   * control statements held back for it, sent first in one query).
   */
  #enqueue<T>(shared: TxShared, operation: string, fn: (db: Db) => Promise<T>): Promise<T> {
    const next = shared.queue.then(async () => {
      this.#check(operation)
      try {
        if (shared.pending.length > 0) {
          const control = shared.pending.join('; ')
          shared.pending = []
          await shared.trx.executeQuery(CompiledQuery.raw(control))
        }
        return await fn(shared.trx)
      } catch (e) {
        throw this.#core.dialect.toStoreError(e, operation)
      }
    })
    shared.queue = next.catch(() => {})
    return next
  }

  /** Runs `op` in the transaction's queue, in call order, without sending what is held back. */
  #enqueueLocal(shared: TxShared, op: () => Promise<void> | void): Promise<void> {
    const next = shared.queue.then(async () => {
      try {
        await op()
      } catch (e) {
        throw this.#core.dialect.toStoreError(e, 'transaction')
      }
    })
    shared.queue = next.catch(() => {})
    return next
  }

  /**
   * Drops `savepoint name` and what was held back after it, if it was never sent (no statement ran
   * since it was made: nothing to keep or undo); false when it was sent.
   */
  static #dropUnsent(shared: TxShared, name: string): boolean {
    const i = shared.pending.indexOf(`savepoint ${name}`)
    if (i < 0) return false
    shared.pending.splice(i)
    return true
  }

  /**
   * The contract's `transaction`: `fn` gets a runner for the transaction. What `fn` throws is
   * passed on as is; BEGIN/COMMIT failures become typed store errors. A top-level transaction that
   * the database aborts as not serialisable runs `fn` again (see `SqlStoreCore.retry`).
   */
  async transaction<T>(fn: (tx: TxRunner) => Promise<T>): Promise<T> {
    this.#check('transaction')
    const outer = this.#tx
    if (outer !== undefined) return this.#nested(outer.shared, fn)
    return this.#retrying(() => this.#transactionOnce(fn))
  }

  async #transactionOnce<T>(fn: (tx: TxRunner) => Promise<T>): Promise<T> {
    let thrown: { readonly error: unknown } | undefined
    try {
      return await this.#begin().execute(
        this.#locked(async (trx) => {
          const state: TxState = {
            shared: { trx, queue: Promise.resolve(), savepoints: 0, pending: [] },
            active: true,
          }
          try {
            const result = await fn(new TxRunner(this.#core, this.#account, state))
            await state.shared.queue
            return result
          } catch (error) {
            thrown = { error }
            throw error
          } finally {
            state.active = false
          }
        }),
      )
    } catch (e) {
      if (thrown !== undefined && thrown.error === e) throw e
      throw this.#core.dialect.toStoreError(e, 'transaction')
    }
  }

  /**
   * A nested transaction joins the outer one and commits with it; if its function throws, a
   * savepoint undoes its own writes only (as the reference store does), and the error goes on.
   */
  async #nested<T>(shared: TxShared, fn: (tx: TxRunner) => Promise<T>): Promise<T> {
    const name = `vouch_sp_${++shared.savepoints}`
    const defer = this.#core.dialect.deferSavepoints === true
    if (defer) await this.#enqueueLocal(shared, () => void shared.pending.push(`savepoint ${name}`))
    else
      await this.#enqueue(shared, 'transaction', (db) =>
        db.executeQuery(CompiledQuery.raw(`savepoint ${name}`)),
      )
    const state: TxState = { shared, active: true }
    try {
      const result = await fn(new TxRunner(this.#core, this.#account, state))
      await shared.queue
      state.active = false
      if (defer)
        await this.#enqueueLocal(shared, () => {
          // sent with the next statement (a COMMIT releases it anyway)
          if (!TxRunner.#dropUnsent(shared, name)) shared.pending.push(`release ${name}`)
        })
      else
        await this.#enqueue(shared, 'transaction', (db) =>
          db.executeQuery(CompiledQuery.raw(`release ${name}`)),
        )
      return result
    } catch (error) {
      state.active = false
      await shared.queue
      if (defer)
        await this.#enqueueLocal(shared, async () => {
          if (TxRunner.#dropUnsent(shared, name)) return
          const control = [...shared.pending, `rollback to ${name}`].join('; ')
          shared.pending = [`release ${name}`]
          await shared.trx.executeQuery(CompiledQuery.raw(control))
        })
      else
        await this.#enqueue(shared, 'transaction', async (db) => {
          await db.executeQuery(CompiledQuery.raw(`rollback to ${name}`))
          await db.executeQuery(CompiledQuery.raw(`release ${name}`))
        })
      throw error
    }
  }
}
