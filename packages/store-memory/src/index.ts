/**
 * @packageDocumentation
 * `@vouch/store-memory`: an in-memory {@link TrustStore}, the reference implementation of the
 * Vouch store contract (`@vouch/tm-core/contracts`, `store.ts`). Every account and every
 * encryption namespace is isolated; transactions are atomic and serialised per account.
 */
export type { MemoryPersistence, MemoryStoreInit } from './memory-store.ts'
export { memoryStore } from './memory-store.ts'
export type { RowChanges, RowKey } from './rows.ts'
