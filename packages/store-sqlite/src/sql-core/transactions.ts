import { type BareJid, StoreError, StoreSerializationError } from '@vouch/tm-core/contracts'
import type { Transaction, TransactionBuilder } from 'kysely'
import type { Db, SqlStoreCore } from './context.ts'
import type { TrustDb } from './schema.ts'
import { ALL_OVERLAYS, type Overlay, UnitOfWork } from './unit-of-work.ts'

/**
 * Reads that touch none of the tables whose writes the unit of work holds back (keys, D-9 times,
 * D-11 flags): they run without sending what is held back.
 */
const READS_OTHER_TABLES = new Set([
  'getSecurityPolicy',
  'getOwnKey',
  'getPostponed',
  'getState',
  'listState',
])

/**
 * What a write the unit of work does not model may change of what it knows (default: all of it);
 * the write runs after everything held back was sent.
 */
const WRITE_CHANGES: Readonly<Record<string, readonly Overlay[]>> = {
  addKeys: ['keys', 'authenticatedOnce'],
  removeKeys: ['keys'],
  removeKeysById: ['keys'],
  resetAuthenticatedOnce: ['authenticatedOnce'],
  setSecurityPolicy: ['settings'],
  resetSecurityPolicy: ['settings'],
  setOwnKey: ['settings'],
  resetOwnKey: ['settings'],
  addPostponed: ['postponed'],
  removePostponed: [],
  removePostponedBySenders: [],
  setState: [],
  deleteState: [],
}

/** One running database transaction, shared by the views of its (nested) transaction functions. */
interface TxShared {
  readonly trx: Transaction<TrustDb>
  /** calls on the transaction run one after the other, even if `fn` does not await them */
  queue: Promise<unknown>
  /** counter for savepoint names of nested transactions */
  savepoints: number
  /** what the transaction read and wrote, its writes and savepoints held back (unit-of-work.ts) */
  readonly uow: UnitOfWork
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

  /** True on the view of a transaction. */
  get inTransaction(): boolean {
    return this.#tx !== undefined
  }

  /** One statement (or reads): runs on its own, or inside the current transaction. */
  run<T>(operation: string, fn: (db: Db) => Promise<T>): Promise<T> {
    return this.#exec(operation, fn, false)
  }

  /**
   * A call the transaction's unit of work serves (in memory where it can, its writes held back):
   * in the transaction's queue; outside a transaction, in a transaction of its own.
   */
  async unit<T>(operation: string, fn: (uow: UnitOfWork, db: Db) => Promise<T>): Promise<T> {
    this.#check(operation)
    const tx = this.#tx
    if (tx === undefined) return this.transaction((runner) => runner.unit(operation, fn))
    const shared = tx.shared
    return this.#enqueue(shared, operation, (db) => fn(shared.uow, db), 'unit')
  }

  /**
   * A call about postponed decisions: `none` when the transaction knows the account has none (read
   * once per transaction), else as {@link run} (`kind` 'read'), {@link write} or {@link atomic}.
   */
  async ifPostponed<T>(
    operation: string,
    none: T,
    fn: (db: Db) => Promise<T>,
    kind: 'read' | 'write' | 'atomic',
  ): Promise<T> {
    this.#check(operation)
    const tx = this.#tx
    if (tx === undefined)
      return this.#exec(
        operation,
        fn,
        kind === 'read' ? false : kind === 'atomic' || this.#core.dialect.plainWritesInTransaction === true,
      )
    const shared = tx.shared
    const step = kind === 'read' ? 'read' : 'write'
    return this.#enqueue(
      shared,
      operation,
      async (db) => ((await shared.uow.noPostponed(db)) ? none : this.#step(shared, operation, fn, step)),
      'unit',
    )
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
    if (tx !== undefined) return this.#enqueue(tx.shared, operation, fn, atomic ? 'write' : 'read')
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
   * Runs `fn` on the transaction's connection after every call queued before it. A `read` of the
   * unit of work's tables first sends its held-back writes; a `write` first sends everything held
   * back (so it lands in the right savepoint) and then makes the unit of work forget what it may
   * have changed; a `unit` call is served by the unit of work itself.
   */
  #enqueue<T>(
    shared: TxShared,
    operation: string,
    fn: (db: Db) => Promise<T>,
    kind: 'read' | 'write' | 'unit',
  ): Promise<T> {
    const next = shared.queue.then(async () => {
      this.#check(operation)
      try {
        return await (kind === 'unit' ? fn(shared.trx) : this.#step(shared, operation, fn, kind))
      } catch (e) {
        throw this.#core.dialect.toStoreError(e, operation)
      }
    })
    shared.queue = next.catch(() => {})
    return next
  }

  /** One statement the unit of work does not serve, sending first what it needs sent. */
  async #step<T>(
    shared: TxShared,
    operation: string,
    fn: (db: Db) => Promise<T>,
    kind: 'read' | 'write',
  ): Promise<T> {
    const { uow, trx } = shared
    if (kind === 'read') {
      if (!READS_OTHER_TABLES.has(operation) && uow.hasWrites()) await uow.flush(trx)
      return fn(trx)
    }
    if (uow.hasQueued()) await uow.flush(trx)
    const result = await fn(trx)
    uow.invalidate(WRITE_CHANGES[operation] ?? ALL_OVERLAYS)
    return result
  }

  /** Runs `op` on the unit of work in the transaction's queue, in call order. */
  #enqueueLocal<T>(shared: TxShared, op: (uow: UnitOfWork) => Promise<T> | T): Promise<T> {
    const next = shared.queue.then(async () => {
      try {
        return await op(shared.uow)
      } catch (e) {
        throw this.#core.dialect.toStoreError(e, 'transaction')
      }
    })
    shared.queue = next.catch(() => {})
    return next
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
          const uow = new UnitOfWork({ core: this.#core, account: this.#account as BareJid })
          const state: TxState = {
            shared: { trx, queue: Promise.resolve(), savepoints: 0, uow },
            active: true,
          }
          try {
            const result = await fn(new TxRunner(this.#core, this.#account, state))
            await state.shared.queue
            await uow.flush(trx) // what is held back, before the COMMIT
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
    // held back like the writes: sent only when a statement after it must reach the database
    const mark = await this.#enqueueLocal(shared, (uow) => {
      uow.control(`savepoint ${name}`)
      return uow.mark()
    })
    const state: TxState = { shared, active: true }
    try {
      const result = await fn(new TxRunner(this.#core, this.#account, state))
      await shared.queue
      state.active = false
      await this.#enqueueLocal(shared, (uow) => uow.release(name))
      return result
    } catch (error) {
      state.active = false
      await shared.queue
      await this.#enqueueLocal(shared, (uow) => uow.rollback(shared.trx, name, mark))
      throw error
    }
  }
}
