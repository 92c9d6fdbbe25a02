import { defineStoreComplianceSuite } from '@vouch/compliance/store'
import { memoryStore } from '../src/index.ts'

defineStoreComplianceSuite({
  name: 'memory',
  create: async (options) => memoryStore(options),
  destroy: (store) => store.close(),
})
