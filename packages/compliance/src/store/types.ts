import type { TrustStore, TrustStoreLimits } from '@vouch/tm-core'
import type { ComplianceSetup } from '../setup.ts'

/** What the store suite passes to `create` for the tests that need other options. */
export interface StoreCreateOptions {
  /** Must be honoured: the per-sender cap tests create stores with a small cap. */
  readonly limits?: Partial<TrustStoreLimits>
}

/**
 * Optional store features. None yet: every store must pass every test. New flags will be
 * optional (STYLE rule 3).
 */
export type StoreCapabilities = Readonly<Record<string, never>>

/** The setup of {@link defineStoreComplianceSuite}. */
export type StoreComplianceSetup = ComplianceSetup<TrustStore, StoreCapabilities, StoreCreateOptions>
