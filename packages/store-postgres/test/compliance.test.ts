import { defineStoreComplianceSuite } from '@vouch/compliance/store'
import { describe } from 'vitest'
import { freshStore, NO_PG, SKIP } from './helpers.ts'

describe.skipIf(NO_PG)(`PostgreSQL ${SKIP}`, () => {
  defineStoreComplianceSuite({
    name: 'postgres (account-lock)',
    create: async (options) => freshStore({ ...options }),
    destroy: (store) => store.close(),
  })
  defineStoreComplianceSuite({
    name: 'postgres (serializable)',
    create: async (options) => freshStore({ ...options, concurrency: 'serializable' }),
    destroy: (store) => store.close(),
  })
})
