/**
 * @packageDocumentation
 * `@vouch/simulator` (private): a deterministic multi-endpoint XMPP network for ATM (XEP-0450):
 * endpoints with their own stores, keys and engines, Carbons and MAM, virtual time, seeded
 * adversarial delivery, injected attacker keys and stand-in encryption that records who could
 * read each trust message (TM-21). Also the default spanning-tree scenario and its report.
 */
export type { PostgresStores } from './postgres.ts'
export { isPostgresUrl, postgresStores } from './postgres.ts'
export type { Rng } from './prng.ts'
export { createRng } from './prng.ts'
export type {
  AddEndpointOptions,
  AdversaryOptions,
  DeliveryRecord,
  EndpointSpec,
  ManualAction,
  Network,
  NetworkInit,
  NetworkStats,
  ReadRecord,
  SimEndpoint,
  SimMessage,
  StoreFactory,
  TraceEvent,
  TrustMatrix,
  Via,
} from './network.ts'
export { createNetwork, NO_ADVERSARY } from './network.ts'
export type { FormatOptions } from './report.ts'
export { describeKeys, formatMatrix, formatScenario, formatSteps, formatSummary } from './report.ts'
export type { AccountSpec, ScenarioOptions, ScenarioReport } from './scenario.ts'
export {
  accountLabel,
  endpointLabels,
  parseAccounts,
  runSpanningScenario,
  scenarioJson,
  spanningPairs,
} from './scenario.ts'
