/**
 * @packageDocumentation
 * `@vouch/compliance`: the compliance suites every Vouch implementation runs (vitest is a peer
 * dependency). One subpath per contract: `@vouch/compliance/store` for trust stores (the
 * backend suite will be `@vouch/compliance/backend`). The root re-exports every suite.
 */
export type { ComplianceSetup } from './setup.ts'
export type { StoreCapabilities, StoreComplianceSetup, StoreCreateOptions } from './store.ts'
export { defineStoreComplianceSuite } from './store.ts'
export type { BackendComplianceSetup, BackendParty, BackendWorld } from './backend.ts'
export { defineBackendComplianceSuite } from './backend.ts'
