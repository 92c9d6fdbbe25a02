import type { Polarity, SecurityPolicy, TrustLevel } from '@vouch/tm-core/contracts'
import { type RawBuilder, sql } from 'kysely'

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

// ---- the schema, once for every SQL database -------------------------------------------------

/**
 * What a column holds; each database maps it to its own type ({@link SchemaTypes}):
 * - `name`: JIDs, namespaces, key ids, levels — text compared byte-wise on UTF-8 (the core's
 *   prefix ranges and ORDER BY rely on it);
 * - `json`: JSON text (a key's provenance), never compared;
 * - `time`: milliseconds since the Unix epoch, a 64-bit integer;
 * - `blob`: bytes (backend state).
 */
export type ColumnKind = 'name' | 'json' | 'time' | 'blob'

export interface ColumnSpec<C extends string = string> {
  readonly name: C
  readonly kind: ColumnKind
  /** a CHECK constraint on the column */
  readonly check?: RawBuilder<unknown>
}

export interface TableSpec<T extends TableName = TableName> {
  readonly table: T
  readonly columns: readonly ColumnSpec<keyof TrustDb[T] & string>[]
  /** the primary key (named `<prefix><table>_pk`) */
  readonly primaryKey: readonly (keyof TrustDb[T] & string)[]
  /**
   * Small, looked up by primary key only: stored clustered on it where the database can
   * (SQLite `WITHOUT ROWID`). Not for tables with secondary indexes (SQLite's planner ignores
   * them on a `WITHOUT ROWID` table for these queries) or with blobs.
   */
  readonly clustered: boolean
}

export interface IndexSpec<T extends TableName = TableName> {
  /** the index is named `<prefix><name>` */
  readonly name: string
  readonly table: T
  readonly columns: readonly (keyof TrustDb[T] & string)[]
}

/** One schema version: what its migration creates. */
export interface SchemaVersionSpec {
  /** the migration's name; its number is the schema version (`0002-…` → 2) */
  readonly migration: string
  readonly tables: readonly TableSpec[]
  readonly indexes: readonly IndexSpec[]
}

const table = <T extends TableName>(spec: TableSpec<T>): TableSpec => spec as unknown as TableSpec
const index = <T extends TableName>(spec: IndexSpec<T>): IndexSpec => spec as unknown as IndexSpec
const col = <C extends string>(name: C, kind: ColumnKind = 'name'): ColumnSpec<C> => ({ name, kind })

/**
 * The tables, columns, keys and indexes of every schema version, in order; both SQL stores
 * create them from this (`migrations.ts`), each in its own types, so version n is the same schema
 * in SQLite and in PostgreSQL. Every primary key and index starts with `account`, so one
 * account's rows are one index range whatever the number of accounts, and with (account,
 * encryption) (or (account, namespace)) where there is one, so lookups by owner and by sender key
 * use it directly. Never edit a released version: add one.
 */
export const SCHEMA: readonly SchemaVersionSpec[] = [
  {
    migration: '0001-init',
    tables: [
      table({
        table: 'keys',
        columns: [
          col('account'),
          col('encryption'),
          col('owner'),
          col('key_id'),
          col('level'),
          col('provenance', 'json'),
          col('first_seen', 'time'),
          col('changed_at', 'time'),
        ],
        primaryKey: ['account', 'encryption', 'owner', 'key_id'],
        clustered: false,
      }),
      table({
        table: 'own_keys',
        columns: [col('account'), col('encryption'), col('key_id')],
        primaryKey: ['account', 'encryption'],
        clustered: true,
      }),
      table({
        table: 'security_policies',
        columns: [col('account'), col('encryption'), col('policy')],
        primaryKey: ['account', 'encryption'],
        clustered: true,
      }),
      table({
        table: 'authenticated_once',
        columns: [col('account'), col('encryption'), col('owner')],
        primaryKey: ['account', 'encryption', 'owner'],
        clustered: true,
      }),
      table({
        table: 'postponed',
        columns: [
          col('account'),
          col('encryption'),
          col('sender_key'),
          col('owner'),
          col('key_id'),
          col('sender_jid'),
          { ...col('polarity'), check: sql`polarity in ('trust', 'distrust')` },
          col('sce_time', 'time'),
          col('received_at', 'time'),
        ],
        primaryKey: ['account', 'encryption', 'sender_key', 'owner', 'key_id'],
        clustered: false,
      }),
      table({
        table: 'last_applied',
        columns: [
          col('account'),
          col('encryption'),
          col('sender_key'),
          col('owner'),
          col('key_id'),
          col('sce_time', 'time'),
        ],
        primaryKey: ['account', 'encryption', 'sender_key', 'owner', 'key_id'],
        clustered: true,
      }),
      table({
        table: 'backend_state',
        columns: [col('account'), col('namespace'), col('key'), col('value', 'blob')],
        primaryKey: ['account', 'namespace', 'key'],
        clustered: false,
      }),
    ],
    indexes: [
      // getKeys({ levels }) / hasKey(owner, levels) and the ATM engine's "all authenticated keys"
      index({ name: 'keys_by_level', table: 'keys', columns: ['account', 'encryption', 'level', 'owner'] }),
      // removeKeysById / getKeys({ keyIds }): key ids without the owner
      index({ name: 'keys_by_key_id', table: 'keys', columns: ['account', 'encryption', 'key_id'] }),
      // removePostponed({ trust, distrust }) and getPostponed({ keyIds }): by key id (and polarity)
      index({
        name: 'postponed_by_key_id',
        table: 'postponed',
        columns: ['account', 'encryption', 'key_id', 'polarity'],
      }),
      // per-sender cap: count and evict the oldest of one sender key
      index({
        name: 'postponed_by_sender_time',
        table: 'postponed',
        columns: ['account', 'encryption', 'sender_key', 'sce_time', 'received_at'],
      }),
    ],
  },
  {
    // the per-sender-JID and per-account caps on postponed decisions
    // (`TrustStoreLimits.maxPostponedPerSenderJid`, `maxPostponedPerAccount`): each counts a group
    // and finds its oldest decisions without reading the rest of the table
    migration: '0002-postponed-caps',
    tables: [],
    indexes: [
      index({
        name: 'postponed_by_sender_jid_time',
        table: 'postponed',
        columns: ['account', 'encryption', 'sender_jid', 'sce_time', 'received_at'],
      }),
      index({
        name: 'postponed_by_time',
        table: 'postponed',
        columns: ['account', 'sce_time', 'received_at'],
      }),
    ],
  },
]
