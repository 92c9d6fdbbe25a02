/**
 * @packageDocumentation
 * `@vouch/store-indexeddb`: a persistent {@link TrustStore} for the browser on IndexedDB (through
 * `idb`). The store contract's rules run in the reference engine of `@vouch/store-memory`, which
 * keeps each account's committed state in memory; every commit (a plain write, or a whole
 * transaction with all its nested ones) is written as its changed rows in **one** IndexedDB
 * transaction, before it becomes visible.
 *
 * Why not one IndexedDB transaction per store transaction: IndexedDB commits a transaction by
 * itself as soon as its callback awaits anything that is not an IndexedDB request (WebCrypto, a
 * network reply, a timer), so a store transaction that spans such awaits could not be rolled back.
 * Staging the writes in memory and applying them at the end keeps the contract's all or nothing:
 * if the page is closed before the end nothing was written, and if it is closed during the final
 * IndexedDB transaction that one is rolled back by IndexedDB.
 *
 * Several tabs (or store instances) may open one database. Each account has a version number
 * stored with its rows; a commit checks in its IndexedDB transaction that the version is still
 * the one its state was loaded at, else it writes nothing and rejects with `StoreBusyError`
 * (retryable): the engine runs a plain write again on the reloaded account, a transaction rejects. Commits are announced on a
 * `BroadcastChannel`, so other instances reload before their next call.
 */
import type { MemoryPersistence, RowChanges, RowKey } from '@vouch/store-memory'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, TrustStore, TrustStoreLimits } from '@vouch/tm-core'
import { StoreBusyError, StoreError } from '@vouch/tm-core'
import { type DBSchema, type IDBPDatabase, openDB } from 'idb'

/** Options of {@link indexedDbStore}. */
export interface IndexedDbStoreInit {
  /** The IndexedDB database name (one per local endpoint). */
  readonly name: string
  /** Overrides of `DEFAULT_TRUST_STORE_LIMITS`. */
  readonly limits?: Partial<TrustStoreLimits>
  /** The IndexedDB factory; default `globalThis.indexedDB`. */
  readonly indexedDB?: IDBFactory
}

/** The database layout, version 1. */
interface VouchDb extends DBSchema {
  /** every row of every account: key `[account, ...rowKey]` (store-memory rows.ts) */
  rows: { key: [string, ...string[]]; value: unknown }
  /** per account: the version of its rows (incremented by every commit) */
  meta: { key: string; value: { readonly version: number } }
}

const DB_VERSION = 1

/** The range of every row of `account`: an array key sorts after every string. */
function accountRange(account: string): IDBKeyRange {
  return IDBKeyRange.bound([account], [account, []])
}

/**
 * Opens (and creates or upgrades) the database `init.name` and returns a store on it.
 *
 * @throws StoreError when IndexedDB is missing or refuses to open the database
 * @throws RangeError when a member of `limits` is not a positive integer
 */
export async function indexedDbStore(init: IndexedDbStoreInit): Promise<TrustStore> {
  const factory = init.indexedDB ?? globalThis.indexedDB
  if (factory === undefined) throw new StoreError('IndexedDB is not available in this runtime')
  let db: IDBPDatabase<VouchDb>
  try {
    db = await openDB<VouchDb>(init.name, DB_VERSION, {
      upgrade(database) {
        database.createObjectStore('rows')
        database.createObjectStore('meta')
      },
      blocking(_current, _next, event) {
        // a newer version wants to upgrade: let it (our calls then fail with StoreError)
        ;(event.target as IDBDatabase).close()
      },
    })
  } catch (e) {
    throw new StoreError(`cannot open IndexedDB database ${JSON.stringify(init.name)}`, { cause: e })
  }
  return memoryStore({
    ...(init.limits === undefined ? {} : { limits: init.limits }),
    persistence: new IdbPersistence(db, init.name),
  })
}

/** Rows of one database, with the version each account's state was loaded at. */
class IdbPersistence implements MemoryPersistence {
  readonly #db: IDBPDatabase<VouchDb>
  /** account → the version its in-memory state is at; absent until loaded, or after a conflict */
  readonly #loaded = new Map<string, number>()
  readonly #channel: BroadcastChannel | undefined

  constructor(db: IDBPDatabase<VouchDb>, name: string) {
    this.#db = db
    this.#channel =
      typeof BroadcastChannel === 'function'
        ? new BroadcastChannel(`vouch-store-indexeddb:${name}`)
        : undefined
    if (this.#channel !== undefined)
      this.#channel.onmessage = (e: MessageEvent<{ account: string; version: number }>) => {
        // another instance committed: reload before the next call (unless we are already there)
        if (this.#loaded.get(e.data.account) !== e.data.version) this.#loaded.delete(e.data.account)
      }
  }

  async load(account: BareJid): Promise<Iterable<readonly [RowKey, unknown]> | undefined> {
    if (this.#loaded.has(account)) return undefined
    try {
      const tx = this.#db.transaction(['rows', 'meta'], 'readonly')
      const range = accountRange(account)
      const [keys, values, meta] = await Promise.all([
        tx.objectStore('rows').getAllKeys(range),
        tx.objectStore('rows').getAll(range),
        tx.objectStore('meta').get(account),
        tx.done,
      ])
      this.#loaded.set(account, meta?.version ?? 0)
      return keys.map((k, i) => [k.slice(1), values[i]] as const)
    } catch (e) {
      throw new StoreError(`IndexedDB read failed for ${account}`, { cause: e })
    }
  }

  async commit(account: BareJid, changes: RowChanges): Promise<void> {
    if (changes.put.length === 0 && changes.delete.length === 0) return
    const expected = this.#loaded.get(account)
    let version: number
    try {
      const tx = this.#db.transaction(['rows', 'meta'], 'readwrite')
      const meta = tx.objectStore('meta')
      const current = (await meta.get(account))?.version ?? 0
      if (current !== expected) {
        tx.abort()
        await tx.done.catch(() => undefined)
        this.#loaded.delete(account)
        throw new StoreBusyError(
          `another writer committed to ${account} in IndexedDB since this state was loaded; nothing was written, retry`,
        )
      }
      version = current + 1
      const rows = tx.objectStore('rows')
      // no await between the requests: IndexedDB queues them in order in this transaction
      const requests: Promise<unknown>[] = []
      for (const k of changes.delete) requests.push(rows.delete([account, ...k]))
      for (const [k, v] of changes.put) requests.push(rows.put(v, [account, ...k]))
      requests.push(meta.put({ version }, account), tx.done)
      await Promise.all(requests)
    } catch (e) {
      this.#loaded.delete(account) // the next call reloads what IndexedDB really holds
      if (e instanceof StoreError) throw e
      throw new StoreError(`IndexedDB commit failed for ${account}; nothing was written`, { cause: e })
    }
    this.#loaded.set(account, version)
    this.#channel?.postMessage({ account, version })
  }

  async close(): Promise<void> {
    this.#channel?.close()
    this.#db.close()
  }
}
