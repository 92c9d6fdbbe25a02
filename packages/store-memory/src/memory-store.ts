import type {
  AccountTrustStore,
  AddPostponedResult,
  BareJid,
  ChangeContext,
  EncryptionNamespace,
  KeyId,
  KeyQuery,
  KeyRecord,
  LevelChange,
  PostponedDecision,
  PostponedQuery,
  SecurityPolicy,
  TrustLevel,
  TrustStore,
  TrustStoreLimits,
} from '@vouch/tm-core'
import { resolveTrustStoreLimits, StoreError } from '@vouch/tm-core'
import type { AccountData } from './data.ts'
import * as op from './data.ts'
import { accountFromRows, diffAccounts, type RowChanges, type RowKey } from './rows.ts'

/** Options of {@link memoryStore}. */
export interface MemoryStoreInit {
  /** Overrides of {@link DEFAULT_TRUST_STORE_LIMITS}. */
  readonly limits?: Partial<TrustStoreLimits>
  /**
   * Where a persistent store built on this engine keeps the state (`@vouch/store-indexeddb`);
   * none for the plain memory store.
   */
  readonly persistence?: MemoryPersistence
}

/**
 * The persistence of a store built on this engine: the engine keeps each account's committed state
 * in memory and hands every commit's changed rows (rows.ts) to {@link commit} before it makes
 * them visible.
 */
export interface MemoryPersistence {
  /**
   * Called under the account's lock before every call and transaction on it: the account's rows
   * when its committed state must be (re)loaded (its first use, or another writer committed since),
   * else `undefined`.
   */
  load(account: BareJid): Promise<Iterable<readonly [RowKey, unknown]> | undefined>
  /**
   * Called under the lock when a plain write or an outermost transaction commits, with the rows it
   * changed. The new state becomes the committed one only once this resolves; if it rejects, the
   * call (or transaction) rejects with that error and the committed state stays as it was. A
   * plain write whose commit rejects with a `retryable: true` error runs again (up to three times
   * in all) on the state `load` then returns; a transaction is never run again (its function may
   * have done other things).
   */
  commit(account: BareJid, changes: RowChanges): Promise<void>
  /** Called once by the store's `close()`. */
  close?(): Promise<void>
}

/**
 * A {@link TrustStore} that keeps everything in memory: the reference implementation of the
 * store contract. Nothing survives the process.
 *
 * Concurrency rule: every call on one account is serialised in call order on a per-account
 * mutex (a promise chain). A plain call is a one-call transaction; a {@link
 * AccountTrustStore.transaction} holds the mutex until its function settles, so plain calls made
 * meanwhile wait and never see its uncommitted writes. Do not await a call on the outer store
 * inside a transaction's function: it waits for the transaction, which waits for it.
 *
 * @throws RangeError when a member of `limits` is not a positive integer
 */
export function memoryStore(init: MemoryStoreInit = {}): TrustStore {
  return new MemoryTrustStore(resolveTrustStoreLimits(init.limits), init.persistence)
}

class MemoryTrustStore implements TrustStore {
  readonly limits: Required<TrustStoreLimits>
  readonly #accounts = new Map<BareJid, AccountSlot>()
  readonly #persistence: MemoryPersistence | undefined
  #closed = false

  constructor(limits: Required<TrustStoreLimits>, persistence: MemoryPersistence | undefined) {
    this.limits = limits
    this.#persistence = persistence
  }

  forAccount(account: BareJid): AccountTrustStore {
    let slot = this.#accounts.get(account)
    if (slot === undefined) {
      slot = new AccountSlot(account, this.#persistence)
      this.#accounts.set(account, slot)
    }
    return new AccountView(this, account, slot, undefined)
  }

  get closed(): boolean {
    return this.#closed
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#persistence?.close?.()
  }
}

/** How often a plain write runs when its commit fails with a retryable error (with a persistence). */
const MAX_WRITE_ATTEMPTS = 3

/** The committed state of one account and its mutex. */
class AccountSlot {
  data: AccountData = op.emptyAccount()
  #tail: Promise<unknown> = Promise.resolve()
  readonly #account: BareJid
  readonly #persistence: MemoryPersistence | undefined

  constructor(account: BareJid, persistence: MemoryPersistence | undefined) {
    this.#account = account
    this.#persistence = persistence
  }

  /**
   * Runs `fn` after every call queued before it has settled (with a persistence: on the committed
   * state it loads first, if it changed).
   */
  lock<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#persistence
    const run = this.#tail.then(
      p === undefined
        ? fn
        : async () => {
            const rows = await p.load(this.#account)
            if (rows !== undefined) this.data = accountFromRows(rows)
            return fn()
          },
    )
    this.#tail = run.catch(() => undefined)
    return run
  }

  /** Reloads the committed state from the persistence, if it has a newer one; under the lock. */
  async reload(): Promise<void> {
    const rows = await this.#persistence?.load(this.#account)
    if (rows !== undefined) this.data = accountFromRows(rows)
  }

  /**
   * Makes `next` (a changed copy of the committed state) the committed state; under the lock.
   * Synchronous (returns `undefined`) without a persistence, so the memory store pays no await.
   */
  commit(next: AccountData): Promise<void> | undefined {
    const p = this.#persistence
    if (p === undefined) {
      this.data = next
      return undefined
    }
    return p.commit(this.#account, diffAccounts(this.data, next)).then(() => {
      this.data = next
    })
  }
}

/** The working copy of a running transaction. */
interface Draft {
  data: AccountData
  active: boolean
}

class AccountView implements AccountTrustStore {
  readonly account: BareJid
  readonly #store: MemoryTrustStore
  readonly #slot: AccountSlot
  /** undefined for the plain view; the draft for a view handed to a transaction function */
  readonly #draft: Draft | undefined

  constructor(store: MemoryTrustStore, account: BareJid, slot: AccountSlot, draft: Draft | undefined) {
    this.#store = store
    this.account = account
    this.#slot = slot
    this.#draft = draft
  }

  #check(): void {
    if (this.#store.closed) throw new StoreError('the memory store is closed')
    if (this.#draft?.active === false)
      throw new StoreError('transaction already finished: use the store, not its `tx`, after it settles')
  }

  /** Runs a read on the state this view sees. */
  #read<T>(fn: (data: AccountData) => T): Promise<T> {
    const draft = this.#draft
    if (draft !== undefined)
      return new Promise((resolve) => {
        this.#check()
        resolve(fn(draft.data))
      })
    return this.#slot.lock(async () => {
      this.#check()
      return fn(this.#slot.data)
    })
  }

  /**
   * Runs a write: in the draft, or on a copy that replaces the committed state if `fn` returns
   * (copy-on-write: only the tables `fn` writes to are copied, see data.ts).
   */
  #write<T>(fn: (data: AccountData) => T): Promise<T> {
    if (this.#draft !== undefined) return this.#read(fn) // in a transaction, the draft is written in place
    return this.#slot.lock(async () => {
      for (let attempt = 1; ; attempt++) {
        this.#check()
        const copy = op.cloneAccount(this.#slot.data)
        const result = fn(copy)
        const pending = this.#slot.commit(copy)
        if (pending === undefined) return result
        try {
          await pending
          return result
        } catch (e) {
          // a retryable commit failure (another writer committed first): a plain write is one
          // pure operation, so it runs again on the state reloaded from the persistence
          if (attempt >= MAX_WRITE_ATTEMPTS || (e as { retryable?: unknown }).retryable !== true) throw e
          await this.#slot.reload()
        }
      }
    })
  }

  transaction<T>(fn: (tx: AccountTrustStore) => Promise<T>): Promise<T> {
    const outer = this.#draft
    if (outer !== undefined) {
      // Nested: joins the outer draft; a throw undoes the nested writes only (a savepoint).
      return (async () => {
        this.#check()
        const savepoint = op.snapshotAccount(outer.data)
        const inner: Draft = { data: outer.data, active: true }
        const tx = new AccountView(this.#store, this.account, this.#slot, inner)
        try {
          const result = await fn(tx)
          outer.data = inner.data
          return result
        } catch (e) {
          outer.data = savepoint
          throw e
        } finally {
          inner.active = false
        }
      })()
    }
    return this.#slot.lock(async () => {
      this.#check()
      const draft: Draft = { data: op.cloneAccount(this.#slot.data), active: true }
      try {
        const result = await fn(new AccountView(this.#store, this.account, this.#slot, draft))
        const pending = this.#slot.commit(draft.data)
        if (pending !== undefined) await pending
        return result
      } finally {
        draft.active = false
      }
    })
  }

  // ---- security policy and D-11 ----

  getSecurityPolicy(encryption: EncryptionNamespace): Promise<SecurityPolicy | undefined> {
    return this.#read((d) => op.getSecurityPolicy(d, encryption))
  }
  setSecurityPolicy(encryption: EncryptionNamespace, policy: SecurityPolicy): Promise<void> {
    return this.#write((d) => op.setSecurityPolicy(d, encryption, policy))
  }
  resetSecurityPolicy(encryption: EncryptionNamespace): Promise<void> {
    return this.#write((d) => op.setSecurityPolicy(d, encryption, undefined))
  }
  wasAuthenticatedOnce(encryption: EncryptionNamespace, owner: BareJid): Promise<boolean> {
    return this.#read((d) => op.wasAuthenticatedOnce(d, encryption, owner))
  }
  resetAuthenticatedOnce(encryption: EncryptionNamespace, owner: BareJid): Promise<void> {
    return this.#write((d) => op.resetAuthenticatedOnce(d, encryption, owner))
  }

  // ---- own key ----

  getOwnKey(encryption: EncryptionNamespace): Promise<KeyId | undefined> {
    return this.#read((d) => op.getOwnKey(d, encryption))
  }
  setOwnKey(encryption: EncryptionNamespace, keyId: KeyId): Promise<void> {
    return this.#write((d) => op.setOwnKey(d, encryption, keyId))
  }
  resetOwnKey(encryption: EncryptionNamespace): Promise<void> {
    return this.#write((d) => op.setOwnKey(d, encryption, undefined))
  }

  // ---- keys ----

  addKeys(
    encryption: EncryptionNamespace,
    owner: BareJid,
    keyIds: readonly KeyId[],
    ctx: ChangeContext,
    level: TrustLevel = 'automatically-distrusted',
  ): Promise<readonly KeyRecord[]> {
    return this.#write((d) => op.addKeys(d, encryption, owner, keyIds, ctx, level))
  }
  getKey(encryption: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<KeyRecord | undefined> {
    return this.#read((d) => op.getKey(d, encryption, owner, keyId))
  }
  getTrustLevel(encryption: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<TrustLevel> {
    return this.#read((d) => op.getKey(d, encryption, owner, keyId)?.level ?? 'undecided')
  }
  getKeys(encryption: EncryptionNamespace, query?: KeyQuery): Promise<readonly KeyRecord[]> {
    return this.#read((d) => op.getKeys(d, encryption, query))
  }
  hasKey(encryption: EncryptionNamespace, owner: BareJid, levels?: readonly TrustLevel[]): Promise<boolean> {
    return this.#read((d) => op.hasKey(d, encryption, owner, levels))
  }
  setTrustLevels(
    encryption: EncryptionNamespace,
    changes: readonly LevelChange[],
    ctx: ChangeContext,
  ): Promise<readonly KeyRecord[]> {
    return this.#write((d) => op.setTrustLevels(d, encryption, changes, ctx))
  }
  changeTrustLevels(
    encryption: EncryptionNamespace,
    owners: readonly BareJid[],
    from: TrustLevel,
    to: TrustLevel,
    ctx: ChangeContext,
  ): Promise<readonly KeyRecord[]> {
    return this.#write((d) => op.changeTrustLevels(d, encryption, owners, from, to, ctx))
  }
  removeKeys(encryption: EncryptionNamespace, owner: BareJid, keyIds?: readonly KeyId[]): Promise<void> {
    return this.#write((d) => op.removeKeys(d, encryption, owner, keyIds))
  }
  removeKeysById(encryption: EncryptionNamespace, keyIds: readonly KeyId[]): Promise<void> {
    return this.#write((d) => op.removeKeysById(d, encryption, keyIds))
  }
  resetAll(encryption: EncryptionNamespace): Promise<void> {
    return this.#write((d) => op.resetAll(d, encryption))
  }

  // ---- postponed decisions ----

  addPostponed(decisions: readonly PostponedDecision[]): Promise<AddPostponedResult> {
    return this.#write((d) => op.addPostponed(d, decisions, this.#store.limits))
  }
  getPostponed(
    encryption: EncryptionNamespace,
    query?: PostponedQuery,
  ): Promise<readonly PostponedDecision[]> {
    return this.#read((d) => op.getPostponed(d, encryption, query))
  }
  removePostponed(
    encryption: EncryptionNamespace,
    keyIds: { readonly trust?: readonly KeyId[]; readonly distrust?: readonly KeyId[] },
  ): Promise<void> {
    return this.#write((d) => op.removePostponed(d, encryption, keyIds))
  }
  removePostponedBySenders(encryption: EncryptionNamespace, senderKeys?: readonly KeyId[]): Promise<void> {
    return this.#write((d) => op.removePostponedBySenders(d, encryption, senderKeys))
  }

  // ---- D-9 ----

  getLastApplied(
    encryption: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
  ): Promise<number | undefined> {
    return this.#read((d) => op.getLastApplied(d, encryption, senderKey, owner, keyId))
  }
  setLastApplied(
    encryption: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
    sceTime: number,
  ): Promise<void> {
    return this.#write((d) => op.setLastApplied(d, encryption, senderKey, owner, keyId, sceTime))
  }

  // ---- backend state ----

  getState(namespace: string, key: string): Promise<Uint8Array | undefined> {
    return this.#read((d) => op.getState(d, namespace, key))
  }
  setState(namespace: string, key: string, value: Uint8Array): Promise<void> {
    return this.#write((d) => op.setState(d, namespace, key, value))
  }
  deleteState(namespace: string, key: string): Promise<void> {
    return this.#write((d) => op.deleteState(d, namespace, key))
  }
  listState(namespace: string, prefix?: string): Promise<readonly string[]> {
    return this.#read((d) => op.listState(d, namespace, prefix))
  }
}
