import type { BareJid, KeyId, KeyRecord, PostponedDecision, TrustStoreLimits } from '@vouch/tm-core/contracts'
import type { Compilable, Kysely, Selectable } from 'kysely'
import { bind, type Templates } from './compiled.ts'
import type { SqlDialect } from './dialect.ts'
import type { KeysTable, PostponedTable, TableNames, TrustDb } from './schema.ts'

export type Db = Kysely<TrustDb>

/**
 * Retries of a transaction the database aborted as not serialisable (a `StoreSerializationError`
 * from `dialect.toStoreError`: PostgreSQL 40001, 40P01): the transaction function runs again, up
 * to `maxAttempts` runs in all, after `delayMs(attempt)` ms.
 */
export interface TransactionRetry {
  /** runs in all, ≥ 1 (1: no retry) */
  readonly maxAttempts: number
  /** pause before run `attempt + 1` */
  delayMs(attempt: number): number
}

/** Shared by every account view and transaction of one store. */
export interface SqlStoreCore {
  readonly db: Db
  readonly t: TableNames
  readonly dialect: SqlDialect
  readonly limits: Required<TrustStoreLimits>
  /** fixed-shape statements compiled once (see compiled.ts) */
  readonly templates: Templates
  /** retries of serialisation failures in `transaction()` and multi-statement calls; none when undefined */
  readonly retry?: TransactionRetry | undefined
  /** closes what we opened; undefined when the caller owns the Kysely instance */
  readonly destroy: (() => Promise<void>) | undefined
  closed: boolean
}

/** What a query function needs: the store and the account it works for. */
export interface Scope {
  readonly core: SqlStoreCore
  readonly account: BareJid
}

/**
 * Runs the fixed-shape statement `key` with `values` on `db` (the store or the transaction); the
 * first call builds it with placeholders (`arg(i)` is `values[i]`) and compiles it for the store.
 */
export async function q<R>(
  s: Scope,
  db: Db,
  key: string,
  build: (db: Db) => Compilable<R>,
  values: readonly unknown[],
): Promise<R[]> {
  const core = s.core
  const template = core.templates.get(key, () => build(core.db))
  return (await db.executeQuery(bind(template, values))).rows
}

/**
 * Rows per multi-row INSERT: 1,000 rows × ≤ 9 columns stays far below the parameter limits
 * (SQLite 32,766; PostgreSQL 65,535).
 */
export const CHUNK = 1000

/** Multi-row INSERTs of up to this many rows use a compiled template (one per row count). */
export const TEMPLATE_ROWS = 16

export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)]
}

/** The list parameter of `dialect.inList`, or undefined for a list not given. */
export const listParam = (s: Scope, values: readonly string[] | undefined): unknown =>
  values === undefined ? undefined : s.core.dialect.list(values)

export function toKeyRecord(row: Selectable<KeysTable>): KeyRecord {
  return {
    encryption: row.encryption,
    owner: row.owner as BareJid,
    keyId: row.key_id as KeyId,
    level: row.level,
    provenance: JSON.parse(row.provenance),
    // Number(): a 64-bit integer column may come back as a string (PostgreSQL bigint through pg)
    firstSeen: Number(row.first_seen),
    changedAt: Number(row.changed_at),
  }
}

export function toPostponed(row: Selectable<PostponedTable>): PostponedDecision {
  return {
    encryption: row.encryption,
    senderKey: row.sender_key as KeyId,
    senderJid: row.sender_jid as BareJid,
    owner: row.owner as BareJid,
    keyId: row.key_id as KeyId,
    polarity: row.polarity,
    sceTime: Number(row.sce_time),
    receivedAt: Number(row.received_at),
  }
}
