/**
 * @packageDocumentation
 * `@vouch/atm`: the XEP-0450 (Automatic Trust Management, v0.4.0) engine. Pure decision logic
 * over the `AccountTrustStore` contract of `@vouch/tm-core`: it applies or postpones received
 * trust messages, makes manual and URI decisions, and returns the trust messages to send with
 * the only keys they may be encrypted for.
 */
export { createAtm } from './engine.ts'
export type { CarrierState, LocalChange, PlanKey, PlannedTrustMessage, PlanState } from './plan.ts'
export { allowedKeys, keysAfter, linkedChanges, planDecision, planMessages } from './plan.ts'
export { levelForNewKey, resolveSecurityPolicy } from './policy.ts'
export type {
  ApplyUriOptions,
  Atm,
  AtmBackend,
  AtmEventName,
  AtmEvents,
  AtmInit,
  AtmLimits,
  AtmPolicy,
  DecisionInput,
  DecisionOrigin,
  DecisionResult,
  IgnoreReason,
  KeysDiscoveredResult,
  OutgoingTrustMessage,
  PendingAutomaticDecision,
  ReceivedTrustMessage,
  ReceiveResult,
  ResolvedAtmPolicy,
  SkippedDecision,
  SkipReason,
  TransactionOptions,
  TrustUri,
  UriDecisionSummary,
} from './types.ts'
export { DEFAULT_ATM_POLICY, NS_ATM } from './types.ts'
