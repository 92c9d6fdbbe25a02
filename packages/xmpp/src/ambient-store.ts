/**
 * One transaction for "apply a received decision" and "record the stanza as processed".
 *
 * The ATM engine opens its own transaction on the store it was given. Giving it this view
 * instead makes that transaction join the one the binding opened (a nested transaction is a
 * savepoint of the outer one, per the store contract), so the decision and the processed-id
 * record commit together or not at all: a stanza delivered again (live, carbon, archive, stream
 * resumption) is either recognised as processed or applied for the first time, never twice.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { AccountTrustStore } from '@vouch/tm-core'

export interface AmbientStore {
  /** the view to give the engine (and anything that must join the ambient transaction) */
  readonly view: AccountTrustStore
  /** runs `fn` in one transaction; calls on {@link view} inside it join that transaction */
  transaction<T>(fn: (tx: AccountTrustStore) => Promise<T>): Promise<T>
}

export function ambientStore(store: AccountTrustStore): AmbientStore {
  const als = new AsyncLocalStorage<AccountTrustStore>()
  const view = new Proxy(store, {
    get(target, prop) {
      const current = als.getStore() ?? target
      const value: unknown = Reflect.get(current, prop)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value
    },
  })
  return {
    view,
    transaction: (fn) => {
      const outer = als.getStore()
      const run = (tx: AccountTrustStore) => als.run(tx, () => fn(tx))
      return outer === undefined ? store.transaction(run) : outer.transaction(run)
    },
  }
}
