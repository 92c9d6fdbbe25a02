import type { AccountTrustStore } from '@vouch/tm-core'
import { ALICE } from '../helpers.ts'

/** A store that records every method called on it (and fails them): proves "nothing stored". */
export function untouchedStore(): { store: AccountTrustStore; calls: string[] } {
  const calls: string[] = []
  const store = new Proxy({} as AccountTrustStore, {
    get(_target, prop) {
      if (prop === 'account') return ALICE
      if (prop === 'then') return undefined
      return () => {
        calls.push(String(prop))
        return Promise.reject(new Error(`store.${String(prop)} must not be called`))
      }
    },
  })
  return { store, calls }
}
