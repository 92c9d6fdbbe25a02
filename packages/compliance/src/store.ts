/**
 * `@vouch/compliance/store`: the {@link TrustStore} compliance suite. Every store (ours and
 * third-party ones) runs it from one test file:
 *
 * ```ts
 * import { defineStoreComplianceSuite } from '@vouch/compliance/store'
 * defineStoreComplianceSuite({ name: 'memory', create: async (o) => memoryStore(o) })
 * ```
 */
import type { AccountTrustStore, TrustStore } from '@vouch/tm-core'
import { afterEach, beforeEach, describe } from 'vitest'
import { ALICE, type SuiteContext } from './store/fixtures.ts'
import { isolationTests } from './store/isolation.ts'
import { keyTests } from './store/keys.ts'
import { postponedTests } from './store/postponed.ts'
import { settingsTests } from './store/settings.ts'
import { stateTests } from './store/state.ts'
import { transactionTests } from './store/transactions.ts'
import type { StoreComplianceSetup, StoreCreateOptions } from './store/types.ts'

export type { StoreCapabilities, StoreComplianceSetup, StoreCreateOptions } from './store/types.ts'

/**
 * Defines the store suite (one `describe`, a fresh store per test from `setup.create()`, every
 * store given to `setup.destroy` after its test). Call it at the top level of a test file.
 */
export function defineStoreComplianceSuite(setup: StoreComplianceSetup): void {
  describe(`TrustStore compliance (${setup.name})`, () => {
    let current: TrustStore | undefined
    const extra: TrustStore[] = []

    beforeEach(async () => {
      current = await setup.create()
    })
    afterEach(async () => {
      const all = [...(current === undefined ? [] : [current]), ...extra.splice(0)]
      current = undefined
      for (const s of all) await setup.destroy?.(s)
    })

    const ctx: SuiteContext = {
      store(): TrustStore {
        if (current === undefined) throw new Error('no store: setup.create() failed')
        return current
      },
      alice(): AccountTrustStore {
        return ctx.store().forAccount(ALICE)
      },
      async createStore(options: StoreCreateOptions): Promise<TrustStore> {
        const s = await setup.create(options)
        extra.push(s)
        return s
      },
    }

    settingsTests(ctx)
    keyTests(ctx)
    postponedTests(ctx)
    stateTests(ctx)
    transactionTests(ctx)
    isolationTests(ctx)
  })
}
