import type { Polarity, SecurityPolicy, TrustLevel } from '@vouch/tm-core/contracts'

/**
 * The database schema as kysely sees it (schema version {@link SCHEMA_VERSION}). Table names are
 * given without the `tablePrefix`; every table starts with the local account's bare JID, so one
 * database can serve several accounts. Times are milliseconds since the Unix epoch.
 */
export interface TrustDb {
  keys: KeysTable
  own_keys: OwnKeysTable
  security_policies: SecurityPoliciesTable
  authenticated_once: AuthenticatedOnceTable
  postponed: PostponedTable
  last_applied: LastAppliedTable
  backend_state: BackendStateTable
}

/** One key. PK (account, encryption, owner, key_id). */
export interface KeysTable {
  account: string
  encryption: string
  owner: string
  key_id: string
  level: TrustLevel
  /** JSON of the `Provenance` of the last change */
  provenance: string
  first_seen: number
  changed_at: number
}

/** PK (account, encryption). */
export interface OwnKeysTable {
  account: string
  encryption: string
  key_id: string
}

/** PK (account, encryption). */
export interface SecurityPoliciesTable {
  account: string
  encryption: string
  policy: SecurityPolicy
}

/** D-11 sticky flag: a row exists once a key of `owner` was authenticated. PK (account, encryption, owner). */
export interface AuthenticatedOnceTable {
  account: string
  encryption: string
  owner: string
}

/** Postponed decisions, PK (account, encryption, sender_key, owner, key_id) (D-8). */
export interface PostponedTable {
  account: string
  encryption: string
  sender_key: string
  owner: string
  key_id: string
  sender_jid: string
  polarity: Polarity
  sce_time: number
  received_at: number
}

/** D-9: SCE time of the last applied decision, PK (account, encryption, sender_key, owner, key_id). */
export interface LastAppliedTable {
  account: string
  encryption: string
  sender_key: string
  owner: string
  key_id: string
  sce_time: number
}

/** Opaque backend state, PK (account, namespace, key). */
export interface BackendStateTable {
  account: string
  namespace: string
  key: string
  value: Uint8Array
}

export type TableName = keyof TrustDb

/** Runtime table names (prefixed), typed as the unprefixed names kysely knows. */
export type TableNames = { readonly [T in TableName]: T }

const TABLES: readonly TableName[] = [
  'keys',
  'own_keys',
  'security_policies',
  'authenticated_once',
  'postponed',
  'last_applied',
  'backend_state',
]

const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,31}$|^$/

/** Default `tablePrefix`, so that the tables do not clash with an application's own tables. */
export const DEFAULT_TABLE_PREFIX = 'vouch_'

export function tableNames(prefix: string): TableNames {
  if (!PREFIX.test(prefix)) {
    throw new TypeError(`tablePrefix must match ${PREFIX}, got ${JSON.stringify(prefix)}`)
  }
  // The prefixed names are cast to the names the TrustDb type declares: kysely only uses them as
  // strings at run time, and every query here names one table, never `table.column`.
  return Object.freeze(Object.fromEntries(TABLES.map((t) => [t, `${prefix}${t}`]))) as unknown as TableNames
}
