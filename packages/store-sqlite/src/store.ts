import type {
  AccountTrustStore,
  AddPostponedResult,
  BareJid,
  ChangeContext,
  EncryptionNamespace,
  KeyId,
  KeyQuery,
  KeyRecord,
  LevelChange,
  Polarity,
  PostponedDecision,
  PostponedQuery,
  SecurityPolicy,
  TrustLevel,
  TrustStore,
  TrustStoreLimits,
} from '@vouch/tm-core/contracts'
import { compareCodePoints, compareKeys, comparePostponed } from '@vouch/tm-core'
import { StoreError } from '@vouch/tm-core/contracts'
import {
  type Compilable,
  CompiledQuery,
  type Expression,
  type Kysely,
  type Selectable,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely'
import { arg, bind, type Templates } from './compiled.ts'
import { toStoreError } from './errors.ts'
import type { KeysTable, PostponedTable, TableNames, TrustDb } from './schema.ts'

/** Shared by every account view and transaction of one store. */
export interface StoreCore {
  readonly db: Kysely<TrustDb>
  readonly t: TableNames
  readonly limits: Required<TrustStoreLimits>
  /** fixed-shape statements compiled once (see compiled.ts) */
  readonly templates: Templates
  /** closes what we opened; undefined when the caller owns the Kysely instance */
  readonly destroy: (() => Promise<void>) | undefined
  closed: boolean
}

/** One running database transaction, shared by the views of its (nested) transaction functions. */
interface TxShared {
  readonly trx: Transaction<TrustDb>
  /** calls on the transaction run one after the other, even if `fn` does not await them */
  queue: Promise<unknown>
  /** counter for savepoint names of nested transactions */
  savepoints: number
}

/** The view handed to one transaction function: usable until that function settles. */
interface TxState {
  readonly shared: TxShared
  active: boolean
}

type Db = Kysely<TrustDb>

/** Rows per multi-row INSERT: 1,000 rows × ≤ 9 columns stays far below SQLite's 32,766 parameters. */
const CHUNK = 1000

/** Multi-row INSERTs of up to this many rows use a compiled template (one per row count). */
const TEMPLATE_ROWS = 16

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)]
}

/**
 * `column IN (list)` with the whole list bound as one JSON parameter: any length, and one SQL text
 * (so one cached prepared statement) whatever the length.
 */
function inList(column: string, values: readonly string[]): Expression<SqlBool> {
  return inJson(column, JSON.stringify(values))
}

/** {@link inList} with the JSON list given (a template placeholder, see compiled.ts). */
function inJson(column: string, json: string): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${json}))`
}

const json = (values: readonly string[] | undefined): string | undefined =>
  values === undefined ? undefined : JSON.stringify(values)

function toKeyRecord(row: Selectable<KeysTable>): KeyRecord {
  return {
    encryption: row.encryption,
    owner: row.owner as BareJid,
    keyId: row.key_id as KeyId,
    level: row.level,
    provenance: JSON.parse(row.provenance),
    firstSeen: row.first_seen,
    changedAt: row.changed_at,
  }
}

function toPostponed(row: Selectable<PostponedTable>): PostponedDecision {
  return {
    encryption: row.encryption,
    senderKey: row.sender_key as KeyId,
    senderJid: row.sender_jid as BareJid,
    owner: row.owner as BareJid,
    keyId: row.key_id as KeyId,
    polarity: row.polarity,
    sceTime: row.sce_time,
    receivedAt: row.received_at,
  }
}

/** D-8 identity of a postponed decision. */
const d8 = (d: PostponedDecision): string => JSON.stringify([d.encryption, d.senderKey, d.owner, d.keyId])

/**
 * The groups the caps of `TrustStoreLimits` apply to, in the contract's order, by the columns
 * (after `account`) that identify one group; each has its time index (migrations 0001, 0002).
 */
const POSTPONED_GROUPS = {
  senderKey: ['encryption', 'sender_key'],
  senderJid: ['encryption', 'sender_jid'],
  account: [],
} as const satisfies Record<string, readonly (keyof PostponedTable)[]>
type PostponedGroup = keyof typeof POSTPONED_GROUPS

const copyDecision = (d: PostponedDecision): PostponedDecision => ({
  encryption: d.encryption,
  senderKey: d.senderKey,
  senderJid: d.senderJid,
  owner: d.owner,
  keyId: d.keyId,
  polarity: d.polarity,
  sceTime: d.sceTime,
  receivedAt: d.receivedAt,
})

/** True if `a` wins over `b` for the same D-8 key given in one call (as the reference store). */
function winsInOneCall(a: PostponedDecision, b: PostponedDecision): boolean {
  if (a.polarity !== b.polarity) return a.polarity === 'distrust'
  if (a.sceTime !== b.sceTime) return a.sceTime > b.sceTime
  return a.receivedAt >= b.receivedAt // equal: the later one in the call wins
}

const copyBytes = (v: Uint8Array): Uint8Array => new Uint8Array(v)

export class SqliteTrustStore implements TrustStore {
  readonly #core: StoreCore
  constructor(core: StoreCore) {
    this.#core = core
  }
  forAccount(account: BareJid): AccountTrustStore {
    return new SqliteAccountStore(this.#core, account, undefined)
  }
  async close(): Promise<void> {
    const core = this.#core
    if (core.closed) return
    core.closed = true
    // Wait for the running transaction or call (kysely's connection mutex), then release.
    await core.db
      .connection()
      .execute(async () => {})
      .catch(() => {})
    await core.destroy?.()
  }
}

class SqliteAccountStore implements AccountTrustStore {
  readonly account: BareJid
  readonly #core: StoreCore
  readonly #t: TableNames
  readonly #tx: TxState | undefined

  constructor(core: StoreCore, account: BareJid, tx: TxState | undefined) {
    this.account = account
    this.#core = core
    this.#t = core.t
    this.#tx = tx
  }

  // ---- plumbing ----

  #check(operation: string): void {
    if (this.#core.closed) throw new StoreError(`${operation}: the store is closed`)
    if (this.#tx !== undefined && !this.#tx.active) {
      throw new StoreError(`${operation}: the transaction is finished; use the store, not the old tx`)
    }
  }

  /**
   * Runs the fixed-shape statement `key` with `values` on `db` (the store or the transaction); the
   * first call builds it with placeholders (`arg(i)` is `values[i]`) and compiles it for the store.
   */
  async #q<R>(
    db: Db,
    key: string,
    build: (db: Db) => Compilable<R>,
    values: readonly unknown[],
  ): Promise<R[]> {
    const template = this.#core.templates.get(key, () => build(this.#core.db))
    return (await db.executeQuery(bind(template, values))).rows
  }

  /** One statement (or reads): runs on its own, or inside the current transaction. */
  #run<T>(operation: string, fn: (db: Db) => Promise<T>): Promise<T> {
    return this.#exec(operation, fn, false)
  }

  /** Several statements that must commit together: a transaction of their own unless in one. */
  #atomic<T>(operation: string, fn: (db: Db) => Promise<T>): Promise<T> {
    return this.#exec(operation, fn, true)
  }

  async #exec<T>(operation: string, fn: (db: Db) => Promise<T>, atomic: boolean): Promise<T> {
    this.#check(operation)
    const tx = this.#tx
    if (tx !== undefined) return this.#enqueue(tx.shared, operation, fn)
    try {
      return atomic ? await this.#core.db.transaction().execute(fn) : await fn(this.#core.db)
    } catch (e) {
      throw toStoreError(e, operation)
    }
  }

  /** Runs `fn` on the transaction's connection after every call queued before it. */
  #enqueue<T>(shared: TxShared, operation: string, fn: (db: Db) => Promise<T>): Promise<T> {
    const next = shared.queue.then(async () => {
      this.#check(operation)
      try {
        return await fn(shared.trx)
      } catch (e) {
        throw toStoreError(e, operation)
      }
    })
    shared.queue = next.catch(() => {})
    return next
  }

  async transaction<T>(fn: (tx: AccountTrustStore) => Promise<T>): Promise<T> {
    this.#check('transaction')
    const outer = this.#tx
    if (outer !== undefined) return this.#nested(outer.shared, fn)
    let thrown: { readonly error: unknown } | undefined
    try {
      return await this.#core.db.transaction().execute(async (trx) => {
        const state: TxState = { shared: { trx, queue: Promise.resolve(), savepoints: 0 }, active: true }
        try {
          const result = await fn(new SqliteAccountStore(this.#core, this.account, state))
          await state.shared.queue
          return result
        } catch (error) {
          thrown = { error }
          throw error
        } finally {
          state.active = false
        }
      })
    } catch (e) {
      // What `fn` threw is passed on as is; BEGIN/COMMIT failures become typed store errors.
      if (thrown !== undefined && thrown.error === e) throw e
      throw toStoreError(e, 'transaction')
    }
  }

  /**
   * A nested transaction joins the outer one and commits with it; if its function throws, a
   * savepoint undoes its own writes only (as the reference store does), and the error goes on.
   */
  async #nested<T>(shared: TxShared, fn: (tx: AccountTrustStore) => Promise<T>): Promise<T> {
    const name = `vouch_sp_${++shared.savepoints}`
    await this.#enqueue(shared, 'transaction', (db) =>
      db.executeQuery(CompiledQuery.raw(`savepoint ${name}`)),
    )
    const state: TxState = { shared, active: true }
    try {
      const result = await fn(new SqliteAccountStore(this.#core, this.account, state))
      await shared.queue
      state.active = false
      await this.#enqueue(shared, 'transaction', (db) =>
        db.executeQuery(CompiledQuery.raw(`release ${name}`)),
      )
      return result
    } catch (error) {
      state.active = false
      await shared.queue
      await this.#enqueue(shared, 'transaction', async (db) => {
        await db.executeQuery(CompiledQuery.raw(`rollback to ${name}`))
        await db.executeQuery(CompiledQuery.raw(`release ${name}`))
      })
      throw error
    }
  }

  // ---- security policy and D-11 ----

  getSecurityPolicy(encryption: EncryptionNamespace): Promise<SecurityPolicy | undefined> {
    return this.#run('getSecurityPolicy', async (db) => {
      const [row] = await this.#q(
        db,
        'getSecurityPolicy',
        (b) =>
          b
            .selectFrom(this.#t.security_policies)
            .select('policy')
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1)),
        [this.account, encryption],
      )
      return row?.policy
    })
  }

  setSecurityPolicy(encryption: EncryptionNamespace, policy: SecurityPolicy): Promise<void> {
    return this.#run('setSecurityPolicy', async (db) => {
      await this.#q(
        db,
        'setSecurityPolicy',
        (b) =>
          b
            .insertInto(this.#t.security_policies)
            .values({ account: arg(0), encryption: arg(1), policy: arg<SecurityPolicy>(2) })
            .onConflict((oc) =>
              oc.columns(['account', 'encryption']).doUpdateSet({ policy: arg<SecurityPolicy>(2) }),
            ),
        [this.account, encryption, policy],
      )
    })
  }

  resetSecurityPolicy(encryption: EncryptionNamespace): Promise<void> {
    return this.#run('resetSecurityPolicy', async (db) => {
      await db
        .deleteFrom(this.#t.security_policies)
        .where('account', '=', this.account)
        .where('encryption', '=', encryption)
        .execute()
    })
  }

  wasAuthenticatedOnce(encryption: EncryptionNamespace, owner: BareJid): Promise<boolean> {
    return this.#run('wasAuthenticatedOnce', async (db) => {
      const rows = await this.#q(
        db,
        'wasAuthenticatedOnce',
        (b) =>
          b
            .selectFrom(this.#t.authenticated_once)
            .select('owner')
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1))
            .where('owner', '=', arg(2)),
        [this.account, encryption, owner],
      )
      return rows.length > 0
    })
  }

  resetAuthenticatedOnce(encryption: EncryptionNamespace, owner: BareJid): Promise<void> {
    return this.#run('resetAuthenticatedOnce', async (db) => {
      await db
        .deleteFrom(this.#t.authenticated_once)
        .where('account', '=', this.account)
        .where('encryption', '=', encryption)
        .where('owner', '=', owner)
        .execute()
    })
  }

  async #markAuthenticated(
    db: Db,
    encryption: EncryptionNamespace,
    owners: readonly string[],
  ): Promise<void> {
    const list = unique(owners)
    if (list.length === 0) return
    if (list.length <= TEMPLATE_ROWS) {
      await this.#q(
        db,
        `markAuthenticated:${list.length}`,
        (b) =>
          b
            .insertInto(this.#t.authenticated_once)
            .values(list.map((_, i) => ({ account: arg(0), encryption: arg(1), owner: arg(2 + i) })))
            .onConflict((oc) => oc.doNothing()),
        [this.account, encryption, ...list],
      )
      return
    }
    for (const part of chunks(list)) {
      await db
        .insertInto(this.#t.authenticated_once)
        .values(part.map((owner) => ({ account: this.account, encryption, owner })))
        .onConflict((oc) => oc.doNothing())
        .execute()
    }
  }

  // ---- own key ----

  getOwnKey(encryption: EncryptionNamespace): Promise<KeyId | undefined> {
    return this.#run('getOwnKey', async (db) => {
      const [row] = await this.#q(
        db,
        'getOwnKey',
        (b) =>
          b
            .selectFrom(this.#t.own_keys)
            .select('key_id')
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1)),
        [this.account, encryption],
      )
      return row?.key_id as KeyId | undefined
    })
  }

  setOwnKey(encryption: EncryptionNamespace, keyId: KeyId): Promise<void> {
    return this.#run('setOwnKey', async (db) => {
      await db
        .insertInto(this.#t.own_keys)
        .values({ account: this.account, encryption, key_id: keyId })
        .onConflict((oc) => oc.columns(['account', 'encryption']).doUpdateSet({ key_id: keyId }))
        .execute()
    })
  }

  resetOwnKey(encryption: EncryptionNamespace): Promise<void> {
    return this.#run('resetOwnKey', async (db) => {
      await db
        .deleteFrom(this.#t.own_keys)
        .where('account', '=', this.account)
        .where('encryption', '=', encryption)
        .execute()
    })
  }

  // ---- keys and trust levels ----

  addKeys(
    encryption: EncryptionNamespace,
    owner: BareJid,
    keyIds: readonly KeyId[],
    ctx: ChangeContext,
    level: TrustLevel = 'automatically-distrusted',
  ): Promise<readonly KeyRecord[]> {
    const ids = unique(keyIds)
    if (ids.length === 0) return this.#run('addKeys', async () => [])
    const provenance = JSON.stringify(ctx.provenance)
    return this.#atomic('addKeys', async (db) => {
      const added: KeyRecord[] = []
      for (const part of chunks(ids)) {
        const rows = await db
          .insertInto(this.#t.keys)
          .values(
            part.map((keyId) => ({
              account: this.account,
              encryption,
              owner,
              key_id: keyId,
              level,
              provenance,
              first_seen: ctx.at,
              changed_at: ctx.at,
            })),
          )
          .onConflict((oc) => oc.doNothing())
          .returningAll()
          .execute()
        for (const row of rows) added.push(toKeyRecord(row))
      }
      if (level === 'authenticated' && added.length > 0)
        await this.#markAuthenticated(db, encryption, [owner])
      return added.sort(compareKeys)
    })
  }

  getKey(encryption: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<KeyRecord | undefined> {
    return this.#run('getKey', async (db) => {
      const [row] = await this.#q(
        db,
        'getKey',
        (b) =>
          b
            .selectFrom(this.#t.keys)
            .selectAll()
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1))
            .where('owner', '=', arg(2))
            .where('key_id', '=', arg(3)),
        [this.account, encryption, owner, keyId],
      )
      return row === undefined ? undefined : toKeyRecord(row)
    })
  }

  getTrustLevel(encryption: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<TrustLevel> {
    return this.#run('getTrustLevel', async (db) => {
      const [row] = await this.#q(
        db,
        'getTrustLevel',
        (b) =>
          b
            .selectFrom(this.#t.keys)
            .select('level')
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1))
            .where('owner', '=', arg(2))
            .where('key_id', '=', arg(3)),
        [this.account, encryption, owner, keyId],
      )
      return row?.level ?? 'undecided'
    })
  }

  getKeys(encryption: EncryptionNamespace, query: KeyQuery = {}): Promise<readonly KeyRecord[]> {
    return this.#run('getKeys', async (db) => {
      const { owners, levels, keyIds } = query
      if (owners?.length === 0 || levels?.length === 0 || keyIds?.length === 0) return []
      const o = owners !== undefined
      const l = levels !== undefined
      const k = keyIds !== undefined
      const rows = await this.#q(
        db,
        `getKeys:${+o}${+l}${+k}`,
        (b) => {
          let q = b
            .selectFrom(this.#t.keys)
            .selectAll()
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1))
          if (o) q = q.where(inJson('owner', arg(2)))
          if (l) q = q.where(inJson('level', arg(3)))
          if (k) q = q.where(inJson('key_id', arg(4)))
          return q
        },
        [this.account, encryption, json(owners), json(levels), json(keyIds)],
      )
      return rows.map(toKeyRecord).sort(compareKeys)
    })
  }

  hasKey(encryption: EncryptionNamespace, owner: BareJid, levels?: readonly TrustLevel[]): Promise<boolean> {
    return this.#run('hasKey', async (db) => {
      if (levels?.length === 0) return false
      const l = levels !== undefined
      const rows = await this.#q(
        db,
        `hasKey:${+l}`,
        (b) => {
          let q = b
            .selectFrom(this.#t.keys)
            .select('key_id')
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1))
            .where('owner', '=', arg(2))
          if (l) q = q.where(inJson('level', arg(3)))
          return q.limit(1)
        },
        [this.account, encryption, owner, json(levels)],
      )
      return rows.length > 0
    })
  }

  setTrustLevels(
    encryption: EncryptionNamespace,
    changes: readonly LevelChange[],
    ctx: ChangeContext,
  ): Promise<readonly KeyRecord[]> {
    // One target level per key: a key named twice gets the last level asked for.
    const wanted = new Map<string, { owner: BareJid; keyId: KeyId; level: TrustLevel }>()
    for (const change of changes) {
      for (const keyId of change.keyIds) {
        const k = JSON.stringify([change.owner, keyId])
        wanted.delete(k)
        wanted.set(k, { owner: change.owner, keyId, level: change.level })
      }
    }
    if (wanted.size === 0) return this.#run('setTrustLevels', async () => [])
    const provenance = JSON.stringify(ctx.provenance)
    return this.#atomic('setTrustLevels', async (db) => {
      const changed: KeyRecord[] = []
      for (const part of chunks([...wanted.values()])) {
        // Upsert that only touches rows whose level differs; RETURNING yields new and changed rows.
        // Up to TEMPLATE_ROWS rows: a template with the values account, encryption, provenance,
        // at, then owner, key id, level of each row; more: built with the values.
        const upsert = (
          b: Db,
          head: { account: string; encryption: string; provenance: string; at: number },
          rows: readonly { owner: string; key_id: string; level: TrustLevel }[],
        ) =>
          b
            .insertInto(this.#t.keys)
            .values(
              rows.map((r) => ({
                account: head.account,
                encryption: head.encryption,
                owner: r.owner,
                key_id: r.key_id,
                level: r.level,
                provenance: head.provenance,
                first_seen: head.at,
                changed_at: head.at,
              })),
            )
            .onConflict((oc) =>
              oc
                .columns(['account', 'encryption', 'owner', 'key_id'])
                .doUpdateSet((eb) => ({
                  level: eb.ref('excluded.level'),
                  provenance: eb.ref('excluded.provenance'),
                  changed_at: eb.ref('excluded.changed_at'),
                }))
                .where(sql<SqlBool>`level is not excluded.level`),
            )
            .returningAll()
        const rows =
          part.length <= TEMPLATE_ROWS
            ? await this.#q(
                db,
                `setTrustLevels:${part.length}`,
                (b) =>
                  upsert(
                    b,
                    { account: arg(0), encryption: arg(1), provenance: arg(2), at: arg<number>(3) },
                    part.map((_, i) => ({
                      owner: arg(4 + 3 * i),
                      key_id: arg(5 + 3 * i),
                      level: arg<TrustLevel>(6 + 3 * i),
                    })),
                  ),
                [
                  this.account,
                  encryption,
                  provenance,
                  ctx.at,
                  ...part.flatMap((w) => [w.owner, w.keyId, w.level]),
                ],
              )
            : await upsert(
                db,
                { account: this.account, encryption, provenance, at: ctx.at },
                part.map((w) => ({ owner: w.owner, key_id: w.keyId, level: w.level })),
              ).execute()
        for (const row of rows) changed.push(toKeyRecord(row))
      }
      // D-11: owners of keys this call made authenticated (an unchanged key does not count).
      await this.#markAuthenticated(
        db,
        encryption,
        changed.filter((r) => r.level === 'authenticated').map((r) => r.owner),
      )
      return changed.sort(compareKeys)
    })
  }

  changeTrustLevels(
    encryption: EncryptionNamespace,
    owners: readonly BareJid[],
    from: TrustLevel,
    to: TrustLevel,
    ctx: ChangeContext,
  ): Promise<readonly KeyRecord[]> {
    if (owners.length === 0 || from === to) return this.#run('changeTrustLevels', async () => [])
    return this.#atomic('changeTrustLevels', async (db) => {
      const rows = await db
        .updateTable(this.#t.keys)
        .set({ level: to, provenance: JSON.stringify(ctx.provenance), changed_at: ctx.at })
        .where('account', '=', this.account)
        .where('encryption', '=', encryption)
        .where('level', '=', from)
        .where(inList('owner', owners))
        .returningAll()
        .execute()
      const changed = rows.map(toKeyRecord)
      if (to === 'authenticated') {
        await this.#markAuthenticated(
          db,
          encryption,
          changed.map((r) => r.owner),
        )
      }
      return changed.sort(compareKeys)
    })
  }

  removeKeys(encryption: EncryptionNamespace, owner: BareJid, keyIds?: readonly KeyId[]): Promise<void> {
    return this.#run('removeKeys', async (db) => {
      if (keyIds?.length === 0) return
      let q = db
        .deleteFrom(this.#t.keys)
        .where('account', '=', this.account)
        .where('encryption', '=', encryption)
        .where('owner', '=', owner)
      if (keyIds !== undefined) q = q.where(inList('key_id', keyIds))
      await q.execute()
    })
  }

  removeKeysById(encryption: EncryptionNamespace, keyIds: readonly KeyId[]): Promise<void> {
    return this.#run('removeKeysById', async (db) => {
      if (keyIds.length === 0) return
      await db
        .deleteFrom(this.#t.keys)
        .where('account', '=', this.account)
        .where('encryption', '=', encryption)
        .where(inList('key_id', keyIds))
        .execute()
    })
  }

  resetAll(encryption: EncryptionNamespace): Promise<void> {
    return this.#atomic('resetAll', async (db) => {
      const t = this.#t
      for (const table of [
        t.keys,
        t.own_keys,
        t.security_policies,
        t.authenticated_once,
        t.postponed,
        t.last_applied,
      ] as const) {
        await db
          .deleteFrom(table)
          .where('account', '=', this.account)
          .where('encryption', '=', encryption)
          .execute()
      }
    })
  }

  // ---- postponed decisions ----

  addPostponed(decisions: readonly PostponedDecision[]): Promise<AddPostponedResult> {
    // 1. One winner per D-8 key within this call (distrust, then newer sceTime, then newer
    //    receivedAt, then the later one); the losers are reported as ignored.
    const ignored: PostponedDecision[] = []
    const merged = new Map<string, PostponedDecision>()
    for (const given of decisions) {
      const d = copyDecision(given)
      const k = d8(d)
      const current = merged.get(k)
      if (current === undefined) merged.set(k, d)
      else if (winsInOneCall(d, current)) {
        ignored.push(current)
        merged.set(k, d)
      } else ignored.push(d)
    }
    if (merged.size === 0) {
      return this.#run('addPostponed', async () => ({ stored: [], ignored, evicted: [] }))
    }
    const limits = this.#core.limits
    return this.#atomic('addPostponed', async (db) => {
      const t = this.#t
      const storedKeys = new Set<string>()
      for (const part of chunks([...merged.values()])) {
        // Replaces the stored decision of the same D-8 key unless that one has a newer sceTime;
        // RETURNING yields exactly the rows inserted or replaced.
        // Up to TEMPLATE_ROWS rows: a template with the values account, then the 8 fields of each
        // decision; more: built with the values.
        const upsert = (b: Db, account: string, rows: readonly PostponedDecision[]) =>
          b
            .insertInto(t.postponed)
            .values(
              rows.map((d) => ({
                account,
                encryption: d.encryption,
                sender_key: d.senderKey,
                owner: d.owner,
                key_id: d.keyId,
                sender_jid: d.senderJid,
                polarity: d.polarity,
                sce_time: d.sceTime,
                received_at: d.receivedAt,
              })),
            )
            .onConflict((oc) =>
              oc
                .columns(['account', 'encryption', 'sender_key', 'owner', 'key_id'])
                .doUpdateSet((eb) => ({
                  sender_jid: eb.ref('excluded.sender_jid'),
                  polarity: eb.ref('excluded.polarity'),
                  sce_time: eb.ref('excluded.sce_time'),
                  received_at: eb.ref('excluded.received_at'),
                }))
                .where(sql<SqlBool>`sce_time <= excluded.sce_time`),
            )
            .returning(['encryption', 'sender_key', 'owner', 'key_id'])
        const rows =
          part.length <= TEMPLATE_ROWS
            ? await this.#q(
                db,
                `addPostponed:${part.length}`,
                (b) =>
                  upsert(
                    b,
                    arg(0),
                    part.map((_, i) => ({
                      encryption: arg(1 + 8 * i),
                      senderKey: arg(2 + 8 * i),
                      owner: arg(3 + 8 * i),
                      keyId: arg(4 + 8 * i),
                      senderJid: arg(5 + 8 * i),
                      polarity: arg<Polarity>(6 + 8 * i),
                      sceTime: arg<number>(7 + 8 * i),
                      receivedAt: arg<number>(8 + 8 * i),
                    })),
                  ),
                [
                  this.account,
                  ...part.flatMap((d) => [
                    d.encryption,
                    d.senderKey,
                    d.owner,
                    d.keyId,
                    d.senderJid,
                    d.polarity,
                    d.sceTime,
                    d.receivedAt,
                  ]),
                ],
              )
            : await upsert(db, this.account, part).execute()
        for (const r of rows) storedKeys.add(JSON.stringify([r.encryption, r.sender_key, r.owner, r.key_id]))
      }
      // 2. Across calls, the upsert above replaced the stored decision unless it was newer.
      const stored = new Map<string, PostponedDecision>()
      for (const [k, d] of merged) {
        if (storedKeys.has(k)) stored.set(k, d)
        else ignored.push(d)
      }

      // 3. The caps, in the contract's order, each on what the previous one left: evict the
      //    oldest of each group the call stored into (a decision just stored may be one). The
      //    account's count comes first: no group of the account holds more than it, so groups
      //    are counted only when it is over their cap.
      const evicted: PostponedDecision[] = []
      if (stored.size > 0) {
        const bySenderKey = new Map<string, readonly string[]>()
        const bySenderJid = new Map<string, readonly string[]>()
        for (const d of stored.values()) {
          bySenderKey.set(JSON.stringify([d.encryption, d.senderKey]), [d.encryption, d.senderKey])
          bySenderJid.set(JSON.stringify([d.encryption, d.senderJid]), [d.encryption, d.senderJid])
        }
        let total = await this.#countPostponed(db, 'account', [])
        const groups: [PostponedGroup, Map<string, readonly string[]>, number][] = [
          ['senderKey', bySenderKey, limits.maxPostponedPerSender],
          ['senderJid', bySenderJid, limits.maxPostponedPerSenderJid],
        ]
        const evict = async (
          group: PostponedGroup,
          values: readonly string[],
          max: number,
          count: number,
        ) => {
          if (count <= max) return
          const victims = await this.#evictOldest(db, group, values, count - max)
          total -= victims.length
          for (const v of victims) {
            stored.delete(d8(v))
            evicted.push(v)
          }
        }
        for (const [group, members, max] of groups) {
          if (total <= max) continue
          for (const values of members.values())
            await evict(group, values, max, await this.#countPostponed(db, group, values))
        }
        if (total > limits.maxPostponedPerAccount)
          await evict('account', [], limits.maxPostponedPerAccount, total)
      }
      return {
        stored: [...stored.values()].sort(comparePostponed),
        ignored: ignored.sort(comparePostponed),
        evicted: evicted.sort(comparePostponed),
      }
    })
  }

  /** `where` of one group of postponed decisions ({@link POSTPONED_GROUPS}): values 0 … n. */
  #inGroup(b: Db, group: PostponedGroup) {
    let q = b.selectFrom(this.#t.postponed).where('account', '=', arg(0))
    for (const [i, c] of POSTPONED_GROUPS[group].entries()) q = q.where(c, '=', arg(1 + i))
    return q
  }

  /** Decisions in one group: the account, then `values` for the group's columns. */
  async #countPostponed(db: Db, group: PostponedGroup, values: readonly string[]): Promise<number> {
    const [count] = await this.#q(
      db,
      `countPostponed:${group}`,
      (b) => this.#inGroup(b, group).select((eb) => eb.fn.countAll<number>().as('n')),
      [this.account, ...values],
    )
    if (count === undefined) throw new StoreError('addPostponed: COUNT returned no row')
    return Number(count.n)
  }

  /**
   * Deletes and returns the `over` oldest decisions of one group (contract order, the comparator
   * every store shares). Reads only the candidates: the rows up to the (sceTime, receivedAt) of
   * the last one to go, found through the group's time index.
   */
  async #evictOldest(
    db: Db,
    group: PostponedGroup,
    values: readonly string[],
    over: number,
  ): Promise<PostponedDecision[]> {
    const t = this.#t
    const where = (b: Db) => this.#inGroup(b, group)
    const n = POSTPONED_GROUPS[group].length
    const groupValues = [this.account, ...values]
    // the (sceTime, receivedAt) of the over-th oldest: every decision to evict is at or before it
    const [edge] = await this.#q(
      db,
      `postponedEdge:${group}`,
      (b) =>
        where(b)
          .select(['sce_time', 'received_at'])
          .orderBy('sce_time')
          .orderBy('received_at')
          .limit(1)
          .offset(arg<number>(1 + n)),
      [...groupValues, over - 1],
    )
    if (edge === undefined) throw new StoreError('addPostponed: the rows to evict vanished')
    const candidates = await this.#q(
      db,
      `postponedUpTo:${group}`,
      (b) =>
        where(b)
          .selectAll()
          .where(sql<SqlBool>`(sce_time, received_at) <= (${arg<number>(1 + n)}, ${arg<number>(2 + n)})`),
      [...groupValues, edge.sce_time, edge.received_at],
    )
    const victims = candidates.map(toPostponed).sort(comparePostponed).slice(0, over)
    for (const v of victims) {
      await this.#q(
        db,
        'evictPostponed',
        (b) =>
          b
            .deleteFrom(t.postponed)
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1))
            .where('sender_key', '=', arg(2))
            .where('owner', '=', arg(3))
            .where('key_id', '=', arg(4)),
        [this.account, v.encryption, v.senderKey, v.owner, v.keyId],
      )
    }
    return victims
  }

  getPostponed(
    encryption: EncryptionNamespace,
    query: PostponedQuery = {},
  ): Promise<readonly PostponedDecision[]> {
    return this.#run('getPostponed', async (db) => {
      const { senderKeys, keyIds, polarity } = query
      if (senderKeys?.length === 0 || keyIds?.length === 0) return []
      const s = senderKeys !== undefined
      const k = keyIds !== undefined
      const p = polarity !== undefined
      const rows = await this.#q(
        db,
        `getPostponed:${+s}${+k}${+p}`,
        (b) => {
          let q = b
            .selectFrom(this.#t.postponed)
            .selectAll()
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1))
          if (s) q = q.where(inJson('sender_key', arg(2)))
          if (k) q = q.where(inJson('key_id', arg(3)))
          if (p) q = q.where('polarity', '=', arg<Polarity>(4))
          return q
        },
        [this.account, encryption, json(senderKeys), json(keyIds), polarity],
      )
      return rows.map(toPostponed).sort(comparePostponed)
    })
  }

  removePostponed(
    encryption: EncryptionNamespace,
    keyIds: { readonly trust?: readonly KeyId[]; readonly distrust?: readonly KeyId[] },
  ): Promise<void> {
    return this.#atomic('removePostponed', async (db) => {
      for (const polarity of ['trust', 'distrust'] as const) {
        const ids = keyIds[polarity]
        if (ids === undefined || ids.length === 0) continue
        await this.#q(
          db,
          'removePostponed',
          (b) =>
            b
              .deleteFrom(this.#t.postponed)
              .where('account', '=', arg(0))
              .where('encryption', '=', arg(1))
              .where('polarity', '=', arg<Polarity>(2))
              .where(inJson('key_id', arg(3))),
          [this.account, encryption, polarity, JSON.stringify(ids)],
        )
      }
    })
  }

  removePostponedBySenders(encryption: EncryptionNamespace, senderKeys?: readonly KeyId[]): Promise<void> {
    return this.#run('removePostponedBySenders', async (db) => {
      if (senderKeys?.length === 0) return
      const s = senderKeys !== undefined
      await this.#q(
        db,
        `removePostponedBySenders:${+s}`,
        (b) => {
          let q = b
            .deleteFrom(this.#t.postponed)
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1))
          if (s) q = q.where(inJson('sender_key', arg(2)))
          return q
        },
        [this.account, encryption, json(senderKeys)],
      )
    })
  }

  // ---- D-9 ----

  getLastApplied(
    encryption: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
  ): Promise<number | undefined> {
    return this.#run('getLastApplied', async (db) => {
      const [row] = await this.#q(
        db,
        'getLastApplied',
        (b) =>
          b
            .selectFrom(this.#t.last_applied)
            .select('sce_time')
            .where('account', '=', arg(0))
            .where('encryption', '=', arg(1))
            .where('sender_key', '=', arg(2))
            .where('owner', '=', arg(3))
            .where('key_id', '=', arg(4)),
        [this.account, encryption, senderKey, owner, keyId],
      )
      return row?.sce_time
    })
  }

  setLastApplied(
    encryption: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
    sceTime: number,
  ): Promise<void> {
    return this.#run('setLastApplied', async (db) => {
      await this.#q(
        db,
        'setLastApplied',
        (b) =>
          b
            .insertInto(this.#t.last_applied)
            .values({
              account: arg(0),
              encryption: arg(1),
              sender_key: arg(2),
              owner: arg(3),
              key_id: arg(4),
              sce_time: arg<number>(5),
            })
            .onConflict((oc) =>
              oc
                .columns(['account', 'encryption', 'sender_key', 'owner', 'key_id'])
                .doUpdateSet({ sce_time: arg<number>(5) }),
            ),
        [this.account, encryption, senderKey, owner, keyId, sceTime],
      )
    })
  }

  // ---- backend state ----

  getState(namespace: string, key: string): Promise<Uint8Array | undefined> {
    return this.#run('getState', async (db) => {
      const [row] = await this.#q(
        db,
        'getState',
        (b) =>
          b
            .selectFrom(this.#t.backend_state)
            .select('value')
            .where('account', '=', arg(0))
            .where('namespace', '=', arg(1))
            .where('key', '=', arg(2)),
        [this.account, namespace, key],
      )
      // better-sqlite3 returns a Buffer: hand out a plain Uint8Array copy.
      return row === undefined ? undefined : copyBytes(row.value)
    })
  }

  setState(namespace: string, key: string, value: Uint8Array): Promise<void> {
    // SQLite copies the bound bytes; a Buffer view avoids a copy on our side.
    const blob = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    return this.#run('setState', async (db) => {
      await this.#q(
        db,
        'setState',
        (b) =>
          b
            .insertInto(this.#t.backend_state)
            .values({ account: arg(0), namespace: arg(1), key: arg(2), value: arg<Buffer>(3) })
            .onConflict((oc) =>
              oc.columns(['account', 'namespace', 'key']).doUpdateSet({ value: arg<Buffer>(3) }),
            ),
        [this.account, namespace, key, blob],
      )
    })
  }

  deleteState(namespace: string, key: string): Promise<void> {
    return this.#run('deleteState', async (db) => {
      await this.#q(
        db,
        'deleteState',
        (b) =>
          b
            .deleteFrom(this.#t.backend_state)
            .where('account', '=', arg(0))
            .where('namespace', '=', arg(1))
            .where('key', '=', arg(2)),
        [this.account, namespace, key],
      )
    })
  }

  listState(namespace: string, prefix?: string): Promise<readonly string[]> {
    return this.#run('listState', async (db) => {
      let q = db
        .selectFrom(this.#t.backend_state)
        .select('key')
        .where('account', '=', this.account)
        .where('namespace', '=', namespace)
      if (prefix !== undefined && prefix !== '') {
        // Byte-wise prefix on the UTF-8 text (exactly String#startsWith); `key >= prefix` starts
        // the index range.
        q = q
          .where('key', '>=', prefix)
          .where(
            sql<SqlBool>`substr(cast(key as blob), 1, length(cast(${prefix} as blob))) = cast(${prefix} as blob)`,
          )
      }
      const rows = await q.execute()
      return rows.map((r) => r.key).sort(compareCodePoints)
    })
  }
}
