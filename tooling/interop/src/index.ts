/**
 * @packageDocumentation
 * `@vouch/interop` (private): the typed registry of encryption backends and trust stores that
 * `test/matrix.test.ts` crosses into the interop matrix (STYLE rule 5), narrowed by the
 * `TM_BACKENDS` and `TM_STORES` environment variables.
 */
export type {
  BackendEntry,
  BackendId,
  BackendKit,
  Endpoint,
  EndpointSpec,
  Opened,
  OpenedStore,
  PerBackend,
  PerStore,
  StoreEntry,
  StoreId,
  StoreOpener,
} from './registry.ts'
export { BACKENDS, kitFrom, openEndpoints, pick, STORES, WORLD_ACCOUNTS } from './registry.ts'
