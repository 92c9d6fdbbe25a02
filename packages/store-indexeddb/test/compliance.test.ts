/** The store compliance suite in Chromium, each store on a fresh IndexedDB database. */
import { defineStoreComplianceSuite } from '@vouch/compliance/store'
import { deleteDB } from 'idb'
import { indexedDbStore } from '../src/index.ts'

let n = 0
const names = new WeakMap<object, string>()

defineStoreComplianceSuite({
  name: 'indexeddb',
  create: async (options) => {
    const name = `compliance-${Date.now()}-${n++}`
    const store = await indexedDbStore({ name, ...options })
    names.set(store, name)
    return store
  },
  destroy: async (store) => {
    await store.close()
    const name = names.get(store)
    if (name !== undefined) await deleteDB(name)
  },
})
