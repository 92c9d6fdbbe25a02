/**
 * A store view that records every write (its own and inside transactions), so a test can show
 * that bad input "changes no state": the list stays empty.
 */
import type { AccountTrustStore } from '@vouch/tm-core'

const WRITE = /^(set|reset|add|change|remove|delete)/

export function recordingStore(store: AccountTrustStore): { store: AccountTrustStore; writes: string[] } {
  const writes: string[] = []
  const wrap = (s: AccountTrustStore): AccountTrustStore =>
    new Proxy(s, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown
        if (typeof value !== 'function') return value
        const name = String(prop)
        if (name === 'transaction')
          return (run: (tx: AccountTrustStore) => Promise<unknown>, ...rest: unknown[]) =>
            (value as (...a: unknown[]) => unknown).call(
              target,
              (tx: AccountTrustStore) => run(wrap(tx)),
              ...rest,
            )
        return (...args: unknown[]) => {
          if (WRITE.test(name)) writes.push(`${name}(${String(args[0])}, ${String(args[1])})`)
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      },
    })
  return { store: wrap(store), writes }
}
