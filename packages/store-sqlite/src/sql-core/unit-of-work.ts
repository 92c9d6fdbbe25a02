/**
 * The unit of work of one store transaction: what the transaction read and wrote of the account's
 * keys, D-9 times and D-11 flags, kept in memory, and its writes to those three tables held back
 * and sent as multi-row statements when something needs them in the database (a statement that
 * reads those tables, any other write, a savepoint that must exist, the COMMIT).
 *
 * Why this is safe: a transaction the store opens holds the account's lock (PostgreSQL: the
 * advisory lock, which every write of the account takes; SQLite: the database's write lock), so
 * no one else changes the account's rows while it runs, and what it read stays true except for
 * what it wrote itself. Writes are full rows computed here (the level rule of `setTrustLevels` is
 * {@link UnitOfWork.setTrustLevels}, nowhere else), so sending them later writes the same state.
 *
 * Savepoints (nested transactions) are held back in the same ordered queue as the writes: a nested
 * transaction whose writes never had to be sent costs no statement at all, and one that throws is
 * undone in memory (the journal) and, if its savepoint had been sent, in the database.
 */
import type * as C from '@vouch/tm-core/contracts'
import { compareKeys } from '@vouch/tm-core'
import { CompiledQuery } from 'kysely'
import type { Db, Scope } from './context.ts'
import * as keys from './keys.ts'
import * as lastApplied from './last-applied.ts'
import * as settings from './settings.ts'
import { sendWrites, type Writes } from './writes.ts'

/** A row key: the parts joined by a character no JID, namespace or key id holds. */
const SEP = '\u0000'
const k3 = (a: string, b: string, c: string): string => `${a}${SEP}${b}${SEP}${c}`

/**
 * The overlays: what the database holds once the queue is sent (`null`: no row). `postponed`
 * only knows whether the account has no postponed decision at all (its writes are not held back).
 */
export type Overlay = 'keys' | 'lastApplied' | 'authenticatedOnce' | 'postponed' | 'settings'
export const ALL_OVERLAYS: readonly Overlay[] = [
  'keys',
  'lastApplied',
  'authenticatedOnce',
  'postponed',
  'settings',
]

/**
 * Rows of one owner (keys) or of one sender key about one owner (D-9 times) read at once when one
 * of them is first needed; a larger group is read row by row.
 */
export const GROUP_ROWS = 256

export interface LastAppliedRow {
  readonly encryption: C.EncryptionNamespace
  readonly senderKey: C.KeyId
  readonly owner: string
  readonly keyId: C.KeyId
  readonly sceTime: number
}

export interface KeyRow {
  readonly record: C.KeyRecord
  /** `record.provenance` as stored (JSON) */
  readonly provenance: string
}

type Item =
  | { readonly kind: 'control'; readonly sql: string }
  | { readonly kind: 'key'; readonly key: string; readonly row: KeyRow }
  | { readonly kind: 'lastApplied'; readonly key: string; readonly row: LastAppliedRow }
  | {
      readonly kind: 'authenticatedOnce'
      readonly key: string
      readonly encryption: string
      readonly owner: string
    }

export class UnitOfWork {
  readonly #s: Scope
  /** writes and savepoint control statements not sent yet, in order */
  #queue: Item[] = []
  readonly #keys = new Map<string, KeyRow | null>()
  /** (encryption, owner) whose keys are all in `#keys` */
  readonly #keyGroups = new Map<string, true>()
  readonly #last = new Map<string, number | null>()
  /** (encryption, sender key, owner) whose D-9 times are all in `#last` */
  readonly #lastGroups = new Map<string, true>()
  readonly #auth = new Map<string, boolean>()
  /** '' → true when the account has no postponed decision */
  readonly #noPostponed = new Map<string, boolean>()
  /** '' → the account's own keys and security policies (their writes are not held back) */
  readonly #settings = new Map<string, settings.AccountSettings>()
  /** undo steps of the overlays, newest last; a nested transaction rolls back to its mark */
  #journal: (() => void)[] = []

  constructor(s: Scope) {
    this.#s = s
  }

  // ---- overlays ----

  #set<V>(map: Map<string, V>, key: string, value: V): void {
    const had = map.has(key)
    const old = map.get(key)
    this.#journal.push(had ? () => void map.set(key, old as V) : () => void map.delete(key))
    map.set(key, value)
  }

  /** Forgets what the overlays know (after a write this class does not model). */
  invalidate(overlays: readonly Overlay[]): void {
    const maps: Record<Overlay, Map<string, unknown>[]> = {
      keys: [this.#keys, this.#keyGroups],
      lastApplied: [this.#last, this.#lastGroups],
      authenticatedOnce: [this.#auth],
      postponed: [this.#noPostponed],
      settings: [this.#settings],
    }
    for (const o of overlays)
      for (const map of maps[o]) {
        if (map.size === 0) continue
        const old = new Map(map)
        this.#journal.push(() => {
          map.clear()
          for (const [k, v] of old) map.set(k, v)
        })
        map.clear()
      }
  }

  mark(): number {
    return this.#journal.length
  }

  undoTo(mark: number): void {
    while (this.#journal.length > mark) this.#journal.pop()?.()
  }

  // ---- savepoints ----

  hasQueued(): boolean {
    return this.#queue.length > 0
  }

  /** True when the queue holds a write. */
  hasWrites(): boolean {
    return this.#queue.some((i) => i.kind !== 'control')
  }

  control(sql: string): void {
    this.#queue.push({ kind: 'control', sql })
  }

  #unsent(name: string): number {
    return this.#queue.findIndex((i) => i.kind === 'control' && i.sql === `savepoint ${name}`)
  }

  /** A nested transaction kept: its writes join the outer one's. */
  release(name: string): void {
    const i = this.#unsent(name)
    if (i >= 0) this.#queue.splice(i, 1)
    else this.control(`release ${name}`)
  }

  /**
   * A nested transaction that threw: its writes go, in memory and, if its savepoint was sent, in
   * the database (at once, so that later reads do not see them).
   */
  async rollback(db: Db, name: string, mark: number): Promise<void> {
    this.undoTo(mark)
    const i = this.#unsent(name)
    if (i >= 0) {
      this.#queue.splice(i)
      return
    }
    // sent: everything still queued came after the savepoint
    this.#queue = [
      { kind: 'control', sql: `rollback to ${name}` },
      { kind: 'control', sql: `release ${name}` },
    ]
    await this.flush(db)
  }

  // ---- sending ----

  /** Sends the queue in order: control statements, and writes as one statement per table and run. */
  async flush(db: Db): Promise<void> {
    const queue = this.#queue
    this.#queue = []
    const join = this.#s.core.dialect.deferSavepoints === true
    let i = 0
    while (i < queue.length) {
      const start = i
      if ((queue[i] as Item).kind === 'control') {
        while (i < queue.length && (queue[i] as Item).kind === 'control') i++
        const sqls = queue.slice(start, i).map((c) => (c as { sql: string }).sql)
        for (const text of join ? [sqls.join('; ')] : sqls) await db.executeQuery(CompiledQuery.raw(text))
        continue
      }
      // a run of writes: the last write of a row wins (each is the row's whole new state)
      const keyRows = new Map<string, KeyRow>()
      const lastRows = new Map<string, LastAppliedRow>()
      const auth = new Map<string, { encryption: string; owner: string }>()
      while (i < queue.length && (queue[i] as Item).kind !== 'control') {
        const item = queue[i++] as Exclude<Item, { kind: 'control' }>
        if (item.kind === 'key') {
          keyRows.delete(item.key)
          keyRows.set(item.key, item.row)
        } else if (item.kind === 'lastApplied') {
          lastRows.delete(item.key)
          lastRows.set(item.key, item.row)
        } else auth.set(item.key, { encryption: item.encryption, owner: item.owner })
      }
      await sendWrites(this.#s, db, [
        { write: keys.keyRowWrite, rows: [...keyRows.values()] },
        { write: lastApplied.lastAppliedWrite, rows: [...lastRows.values()] },
        { write: settings.authenticatedOnceWrite, rows: [...auth.values()] },
      ] as Writes<unknown>[])
    }
  }

  // ---- keys ----

  async getKey(
    db: Db,
    encryption: C.EncryptionNamespace,
    owner: C.BareJid,
    keyId: C.KeyId,
  ): Promise<C.KeyRecord | undefined> {
    const k = k3(encryption, owner, keyId)
    if (!this.#keys.has(k)) await this.#load(db, encryption, [owner], [keyId])
    return this.#keys.get(k)?.record
  }

  /**
   * `getKeys`: answered here for the shape the engine uses (owners × key ids, any level), else by
   * the database after the queue is sent.
   */
  async getKeys(
    db: Db,
    encryption: C.EncryptionNamespace,
    query: C.KeyQuery,
  ): Promise<readonly C.KeyRecord[]> {
    const { owners, levels, keyIds } = query
    if (owners === undefined || keyIds === undefined || levels !== undefined) {
      await this.flush(db)
      return keys.getKeys(this.#s, db, encryption, query)
    }
    if (owners.length === 0 || keyIds.length === 0) return []
    await this.#load(db, encryption, owners, keyIds)
    const out: C.KeyRecord[] = []
    for (const owner of new Set(owners))
      for (const keyId of new Set(keyIds)) {
        const row = this.#keys.get(k3(encryption, owner, keyId))
        if (row) out.push(row.record)
      }
    return out.sort(compareKeys)
  }

  /**
   * Learns the rows of owners × keyIds the overlay does not know: all keys of their owners at once
   * (one statement), or, when they have more than {@link GROUP_ROWS} keys each, the rows asked for.
   * Rows with queued writes are known already, so the database's older copy of them is not used.
   */
  async #load(
    db: Db,
    encryption: C.EncryptionNamespace,
    owners: readonly C.BareJid[],
    keyIds: readonly C.KeyId[],
  ): Promise<void> {
    const missingOwners = new Set<C.BareJid>()
    const missingIds = new Set<C.KeyId>()
    for (const owner of owners) {
      if (this.#wholeOwner(encryption, owner)) continue
      if (keyIds.length === 0) missingOwners.add(owner)
      for (const keyId of keyIds)
        if (!this.#keys.has(k3(encryption, owner, keyId))) {
          missingOwners.add(owner)
          missingIds.add(keyId)
        }
    }
    if (missingOwners.size === 0) return
    const list = [...missingOwners]
    const limit = GROUP_ROWS * list.length
    const whole = await keys.getOwnersKeys(this.#s, db, encryption, list, limit)
    const complete = whole.length <= limit
    const found =
      complete || missingIds.size === 0
        ? whole
        : [
            ...whole,
            ...(await keys.getKeys(this.#s, db, encryption, { owners: list, keyIds: [...missingIds] })),
          ]
    for (const r of found) {
      const k = k3(encryption, r.owner, r.keyId)
      if (!this.#keys.has(k)) this.#set(this.#keys, k, rowOf(r))
    }
    for (const owner of list) {
      if (complete) this.#set(this.#keyGroups, `${encryption}${SEP}${owner}`, true)
      for (const keyId of missingIds) {
        const k = k3(encryption, owner, keyId)
        if (!this.#keys.has(k)) this.#set(this.#keys, k, null)
      }
    }
  }

  /** Whether every key of (encryption, owner) is in the overlay. */
  #wholeOwner(encryption: C.EncryptionNamespace, owner: C.BareJid): boolean {
    return this.#keyGroups.has(`${encryption}${SEP}${owner}`)
  }

  /** Records `record` (a key's new state) in the overlay and queues its write. */
  #write(record: C.KeyRecord, provenance: string): void {
    const k = k3(record.encryption, record.owner, record.keyId)
    const row: KeyRow = { record, provenance }
    this.#set(this.#keys, k, row)
    this.#queue.push({ kind: 'key', key: k, row })
  }

  /**
   * The contract's `setTrustLevels` (`wanted` from `keys.wantedLevels`): a key gets the level asked
   * for; a new key is stored with it (first seen now), a stored one whose level differs changes
   * level, provenance and time, one at that level already is left alone. Returns the created and
   * changed records; D-11: the owners of keys made authenticated are flagged.
   */
  async setTrustLevels(
    db: Db,
    encryption: C.EncryptionNamespace,
    wanted: ReadonlyMap<string, { owner: C.BareJid; keyId: C.KeyId; level: C.TrustLevel }>,
    ctx: C.ChangeContext,
  ): Promise<readonly C.KeyRecord[]> {
    const list = [...wanted.values()]
    await this.#load(
      db,
      encryption,
      list.map((w) => w.owner),
      list.map((w) => w.keyId),
    )
    const provenance = JSON.stringify(ctx.provenance)
    const changed: C.KeyRecord[] = []
    for (const w of list) {
      const before = this.#keys.get(k3(encryption, w.owner, w.keyId))?.record
      if (before !== undefined && before.level === w.level) continue
      const record: C.KeyRecord = {
        encryption,
        owner: w.owner,
        keyId: w.keyId,
        level: w.level,
        provenance: JSON.parse(provenance),
        firstSeen: before?.firstSeen ?? ctx.at,
        changedAt: ctx.at,
      }
      this.#write(record, provenance)
      changed.push(record)
    }
    this.markAuthenticated(
      encryption,
      changed.filter((r) => r.level === 'authenticated').map((r) => r.owner),
    )
    return changed.sort(compareKeys)
  }

  /**
   * The contract's `changeTrustLevels` (`owners` not empty, `from` ≠ `to`): every key of `owners`
   * at level `from` goes to `to` (provenance and time of `ctx`). Returns the changed records;
   * D-11 as {@link setTrustLevels}.
   */
  async changeTrustLevels(
    db: Db,
    encryption: C.EncryptionNamespace,
    owners: readonly C.BareJid[],
    from: C.TrustLevel,
    to: C.TrustLevel,
    ctx: C.ChangeContext,
  ): Promise<readonly C.KeyRecord[]> {
    const wanted = new Set(owners)
    await this.#load(db, encryption, [...wanted], [])
    // owners with too many keys to be known whole: their keys at `from`, where the overlay has no row
    const partial = [...wanted].filter((o) => !this.#wholeOwner(encryption, o))
    if (partial.length > 0)
      for (const r of await keys.getKeys(this.#s, db, encryption, { owners: partial, levels: [from] })) {
        const k = k3(encryption, r.owner, r.keyId)
        if (!this.#keys.has(k)) this.#set(this.#keys, k, rowOf(r))
      }
    const provenance = JSON.stringify(ctx.provenance)
    const changed: C.KeyRecord[] = []
    for (const row of [...this.#keys.values()]) {
      if (row === null) continue
      const before = row.record
      if (before.encryption !== encryption || !wanted.has(before.owner) || before.level !== from) continue
      const record: C.KeyRecord = {
        ...before,
        level: to,
        provenance: JSON.parse(provenance),
        changedAt: ctx.at,
      }
      this.#write(record, provenance)
      changed.push(record)
    }
    if (to === 'authenticated')
      this.markAuthenticated(
        encryption,
        changed.map((r) => r.owner),
      )
    return changed.sort(compareKeys)
  }

  // ---- postponed decisions: only whether there are none ----

  /** True when the account has no postponed decision (read once per transaction, with the settings). */
  async noPostponed(db: Db): Promise<boolean> {
    if (!this.#noPostponed.has('')) await this.#loadSettings(db)
    return this.#noPostponed.get('') === true
  }

  // ---- own keys and security policies ----

  /** The account's own keys, policies and whether it has postponed decisions: one statement. */
  async #loadSettings(db: Db): Promise<settings.AccountSettings> {
    const loaded = await settings.getAccountSettings(this.#s, db)
    this.#set(this.#settings, '', loaded)
    this.#set(this.#noPostponed, '', !loaded.hasPostponed)
    return loaded
  }

  async getOwnKey(db: Db, encryption: C.EncryptionNamespace): Promise<C.KeyId | undefined> {
    return (this.#settings.get('') ?? (await this.#loadSettings(db))).ownKeys.get(encryption)
  }

  async getSecurityPolicy(db: Db, encryption: C.EncryptionNamespace): Promise<C.SecurityPolicy | undefined> {
    return (this.#settings.get('') ?? (await this.#loadSettings(db))).policies.get(encryption)
  }

  // ---- D-11 ----

  async wasAuthenticatedOnce(db: Db, encryption: C.EncryptionNamespace, owner: string): Promise<boolean> {
    const k = k3(encryption, owner, '')
    const known = this.#auth.get(k)
    if (known !== undefined) return known
    const v = await settings.wasAuthenticatedOnce(this.#s, db, encryption, owner)
    this.#set(this.#auth, k, v)
    return v
  }

  markAuthenticated(encryption: C.EncryptionNamespace, owners: readonly string[]): void {
    for (const owner of owners) {
      const k = k3(encryption, owner, '')
      if (this.#auth.get(k) === true) continue
      this.#set(this.#auth, k, true)
      this.#queue.push({ kind: 'authenticatedOnce', key: k, encryption, owner })
    }
  }

  // ---- D-9 ----

  async getLastApplied(
    db: Db,
    encryption: C.EncryptionNamespace,
    senderKey: C.KeyId,
    owner: string,
    keyId: C.KeyId,
  ): Promise<number | undefined> {
    const group = k3(encryption, senderKey, owner)
    const k = `${group}${SEP}${keyId}`
    if (!this.#last.has(k) && !this.#lastGroups.has(group)) {
      // the sender key's times about all of the owner's keys at once (queued ones are known already)
      const rows = await lastApplied.getLastAppliedOfOwner(
        this.#s,
        db,
        encryption,
        senderKey,
        owner,
        GROUP_ROWS,
      )
      if (rows.length <= GROUP_ROWS) {
        for (const r of rows) {
          const rk = `${group}${SEP}${r.key_id}`
          if (!this.#last.has(rk)) this.#set(this.#last, rk, Number(r.sce_time))
        }
        this.#set(this.#lastGroups, group, true)
      }
    }
    if (!this.#last.has(k)) {
      const v = this.#lastGroups.has(group)
        ? undefined
        : await lastApplied.getLastApplied(this.#s, db, encryption, senderKey, owner, keyId)
      this.#set(this.#last, k, v ?? null)
    }
    return this.#last.get(k) ?? undefined
  }

  setLastApplied(row: LastAppliedRow): void {
    const k = `${k3(row.encryption, row.senderKey, row.owner)}${SEP}${row.keyId}`
    this.#set(this.#last, k, row.sceTime)
    this.#queue.push({ kind: 'lastApplied', key: k, row })
  }
}

function rowOf(record: C.KeyRecord): KeyRow {
  return { record, provenance: JSON.stringify(record.provenance) }
}
