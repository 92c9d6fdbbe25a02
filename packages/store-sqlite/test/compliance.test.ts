import { defineStoreComplianceSuite } from '@vouch/compliance/store'
import { afterAll } from 'vitest'
import { sqliteStore } from '../src/index.ts'
import { tempDir } from './helpers.ts'

defineStoreComplianceSuite({
  name: 'sqlite :memory:',
  create: async (options) => sqliteStore({ database: ':memory:', ...options }),
  destroy: (store) => store.close(),
})

const tmp = tempDir()
let n = 0
afterAll(() => tmp.cleanup())
defineStoreComplianceSuite({
  name: 'sqlite file (WAL)',
  create: async (options) => sqliteStore({ database: tmp.file(`store-${++n}.db`), ...options }),
  destroy: (store) => store.close(),
})
