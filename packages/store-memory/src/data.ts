/**
 * The state of one account and the pure operations on it. Every function here is synchronous;
 * `memory-store.ts` decides which copy of the state an operation runs on (the committed one, a
 * copy that replaces it on success, or a transaction's draft).
 *
 * Copies are copy-on-write per table: {@link cloneAccount} copies only the maps that name the
 * tables (O(encryptions + state namespaces)), and a table (the keys of one encryption, its
 * postponed decisions, one state namespace, …) is copied the first time a copy writes to it.
 * A copy may change a table in place only if it made it (the `owned` bits of an encryption's
 * data, `ownedState` for backend state).
 */
import type {
  AddPostponedResult,
  BareJid,
  ChangeContext,
  EncryptionNamespace,
  KeyId,
  KeyQuery,
  KeyRecord,
  LevelChange,
  PostponedDecision,
  PostponedQuery,
  Provenance,
  SecurityPolicy,
  TrustLevel,
  TrustStoreLimits,
} from '@vouch/tm-core'
import type { PostponedGroup } from '@vouch/tm-core'
import {
  compareCodePoints,
  compareKeys,
  comparePostponed,
  inPostponedGroup,
  mergeInOneCall,
  oldestToEvict,
  postponedCaps,
  postponedResult,
  replacesStored,
  touchedGroups,
} from '@vouch/tm-core'

/** Everything one account keeps about one encryption namespace. */
export interface EncryptionData {
  policy: SecurityPolicy | undefined
  ownKey: KeyId | undefined
  /** owners that had an authenticated key once (D-11) */
  authenticatedOnce: Set<BareJid>
  /** (owner, keyId) → record; records are frozen and replaced, never mutated */
  keys: Map<string, KeyRecord>
  /** D-8 key (senderKey, owner, keyId) → decision; frozen */
  postponed: Map<string, PostponedDecision>
  /** D-9 key (senderKey, owner, keyId) → SCE time */
  lastApplied: Map<string, number>
  /** bits ({@link TABLE_BIT}) of the tables above this copy made itself, so may change in place */
  owned: number
}

const TABLE_BIT = { authenticatedOnce: 1, keys: 2, postponed: 4, lastApplied: 8 } as const
const ALL_TABLES = 15

export interface AccountData {
  readonly encryptions: Map<EncryptionNamespace, EncryptionData>
  /** namespace → key → bytes; stored arrays are private copies, never handed out */
  readonly state: Map<string, Map<string, Uint8Array>>
  /** the state namespaces whose map this copy made itself, so may change in place */
  ownedState: Set<string>
}

export function emptyAccount(): AccountData {
  return { encryptions: new Map(), state: new Map(), ownedState: new Set() }
}

/**
 * A copy that can be changed without touching `data`: it shares every table with `data` and
 * copies one when it first writes to it. Records and byte arrays are shared too: they are never
 * mutated in place (records are frozen, bytes are copied in and out).
 */
export function cloneAccount(data: AccountData): AccountData {
  const encryptions = new Map<EncryptionNamespace, EncryptionData>()
  // a literal of the same shape as `write`'s (a spread makes another hidden class: every read
  // of a table would then see two)
  for (const [ns, e] of data.encryptions)
    encryptions.set(ns, {
      policy: e.policy,
      ownKey: e.ownKey,
      authenticatedOnce: e.authenticatedOnce,
      keys: e.keys,
      postponed: e.postponed,
      lastApplied: e.lastApplied,
      owned: 0,
    })
  return { encryptions, state: new Map(data.state), ownedState: new Set() }
}

/**
 * Takes a snapshot of `data` (a savepoint) and keeps `data` usable: from now on `data` copies a
 * table again before changing it, so the snapshot never sees a later write.
 */
export function snapshotAccount(data: AccountData): AccountData {
  const snapshot = cloneAccount(data)
  for (const e of data.encryptions.values()) e.owned = 0
  data.ownedState = new Set()
  return snapshot
}

/** `table` of `e`, copied first unless this copy made it. */
function own<K extends 'authenticatedOnce' | 'keys' | 'postponed' | 'lastApplied'>(
  e: EncryptionData,
  table: K,
): EncryptionData[K] {
  if ((e.owned & TABLE_BIT[table]) !== 0) return e[table]
  const t = e[table]
  const copy = (t instanceof Set ? new Set(t) : new Map(t as Map<string, unknown>)) as EncryptionData[K]
  e.owned |= TABLE_BIT[table]
  e[table] = copy
  return copy
}

const compositeKey = (...parts: readonly string[]): string => JSON.stringify(parts)

function read(data: AccountData, ns: EncryptionNamespace): EncryptionData | undefined {
  return data.encryptions.get(ns)
}

/** The data of `ns` to write to (created if missing); its tables are copied by {@link own}. */
export function write(data: AccountData, ns: EncryptionNamespace): EncryptionData {
  let e = data.encryptions.get(ns)
  if (e === undefined) {
    e = {
      policy: undefined,
      ownKey: undefined,
      authenticatedOnce: new Set(),
      keys: new Map(),
      postponed: new Map(),
      lastApplied: new Map(),
      owned: ALL_TABLES,
    }
    data.encryptions.set(ns, e)
  }
  return e
}

export function freezeProvenance(p: Provenance): Provenance {
  switch (p.kind) {
    case 'manual':
      return Object.freeze({ kind: 'manual' })
    case 'uri':
      return Object.freeze({ kind: 'uri', source: p.source })
    case 'atm':
      return Object.freeze({ kind: 'atm', senderJid: p.senderJid, senderKey: p.senderKey })
    case 'policy':
      return Object.freeze({ kind: 'policy', policy: p.policy })
  }
}

const inList = <T>(list: readonly T[] | undefined, value: T): boolean =>
  list === undefined || list.includes(value)

// ---- security policy and D-11 ----

export function getSecurityPolicy(data: AccountData, ns: EncryptionNamespace): SecurityPolicy | undefined {
  return read(data, ns)?.policy
}

export function setSecurityPolicy(
  data: AccountData,
  ns: EncryptionNamespace,
  policy: SecurityPolicy | undefined,
): void {
  write(data, ns).policy = policy
}

export function wasAuthenticatedOnce(data: AccountData, ns: EncryptionNamespace, owner: BareJid): boolean {
  return read(data, ns)?.authenticatedOnce.has(owner) ?? false
}

export function resetAuthenticatedOnce(data: AccountData, ns: EncryptionNamespace, owner: BareJid): void {
  const e = read(data, ns)
  if (e?.authenticatedOnce.has(owner)) own(e, 'authenticatedOnce').delete(owner)
}

// ---- own key ----

export function getOwnKey(data: AccountData, ns: EncryptionNamespace): KeyId | undefined {
  return read(data, ns)?.ownKey
}

export function setOwnKey(data: AccountData, ns: EncryptionNamespace, keyId: KeyId | undefined): void {
  write(data, ns).ownKey = keyId
}

// ---- keys ----

function newRecord(
  ns: EncryptionNamespace,
  owner: BareJid,
  keyId: KeyId,
  level: TrustLevel,
  ctx: ChangeContext,
): KeyRecord {
  return Object.freeze({
    encryption: ns,
    owner,
    keyId,
    level,
    provenance: freezeProvenance(ctx.provenance),
    firstSeen: ctx.at,
    changedAt: ctx.at,
  })
}

function changedRecord(r: KeyRecord, level: TrustLevel, ctx: ChangeContext): KeyRecord {
  return Object.freeze({ ...r, level, provenance: freezeProvenance(ctx.provenance), changedAt: ctx.at })
}

export function addKeys(
  data: AccountData,
  ns: EncryptionNamespace,
  owner: BareJid,
  keyIds: readonly KeyId[],
  ctx: ChangeContext,
  level: TrustLevel,
): readonly KeyRecord[] {
  const e = write(data, ns)
  const added: KeyRecord[] = []
  for (const keyId of keyIds) {
    const k = compositeKey(owner, keyId)
    if (e.keys.has(k)) continue
    const r = newRecord(ns, owner, keyId, level, ctx)
    own(e, 'keys').set(k, r)
    added.push(r)
  }
  if (level === 'authenticated' && added.length > 0) own(e, 'authenticatedOnce').add(owner)
  return added.sort(compareKeys)
}

export function getKey(
  data: AccountData,
  ns: EncryptionNamespace,
  owner: BareJid,
  keyId: KeyId,
): KeyRecord | undefined {
  return read(data, ns)?.keys.get(compositeKey(owner, keyId))
}

export function getKeys(data: AccountData, ns: EncryptionNamespace, q: KeyQuery = {}): readonly KeyRecord[] {
  const e = read(data, ns)
  if (e === undefined) return []
  const out: KeyRecord[] = []
  for (const r of e.keys.values())
    if (inList(q.owners, r.owner) && inList(q.levels, r.level) && inList(q.keyIds, r.keyId)) out.push(r)
  return out.sort(compareKeys)
}

export function hasKey(
  data: AccountData,
  ns: EncryptionNamespace,
  owner: BareJid,
  levels: readonly TrustLevel[] | undefined,
): boolean {
  const e = read(data, ns)
  if (e === undefined) return false
  for (const r of e.keys.values()) if (r.owner === owner && inList(levels, r.level)) return true
  return false
}

export function setTrustLevels(
  data: AccountData,
  ns: EncryptionNamespace,
  changes: readonly LevelChange[],
  ctx: ChangeContext,
): readonly KeyRecord[] {
  // The last mention of a key wins, so a key is changed (and reported) at most once.
  const wanted = new Map<string, { owner: BareJid; keyId: KeyId; level: TrustLevel }>()
  for (const c of changes)
    for (const keyId of c.keyIds) {
      const k = compositeKey(c.owner, keyId)
      wanted.delete(k)
      wanted.set(k, { owner: c.owner, keyId, level: c.level })
    }
  const e = write(data, ns)
  const changed: KeyRecord[] = []
  for (const [k, w] of wanted) {
    const old = e.keys.get(k)
    if (old !== undefined && old.level === w.level) continue
    const r =
      old === undefined ? newRecord(ns, w.owner, w.keyId, w.level, ctx) : changedRecord(old, w.level, ctx)
    own(e, 'keys').set(k, r)
    changed.push(r)
    if (w.level === 'authenticated') own(e, 'authenticatedOnce').add(w.owner)
  }
  return changed.sort(compareKeys)
}

export function changeTrustLevels(
  data: AccountData,
  ns: EncryptionNamespace,
  owners: readonly BareJid[],
  from: TrustLevel,
  to: TrustLevel,
  ctx: ChangeContext,
): readonly KeyRecord[] {
  const e = read(data, ns)
  if (e === undefined || from === to) return []
  const changed: KeyRecord[] = []
  for (const [k, r] of e.keys) {
    if (r.level !== from || !owners.includes(r.owner)) continue
    const n = changedRecord(r, to, ctx)
    changed.push(n)
    own(e, 'keys').set(k, n) // a copy (made before the loop reads it again) or owned
    if (to === 'authenticated') own(e, 'authenticatedOnce').add(r.owner)
  }
  return changed.sort(compareKeys)
}

export function removeKeys(
  data: AccountData,
  ns: EncryptionNamespace,
  owner: BareJid,
  keyIds: readonly KeyId[] | undefined,
): void {
  const e = read(data, ns)
  if (e === undefined) return
  for (const [k, r] of e.keys) if (r.owner === owner && inList(keyIds, r.keyId)) own(e, 'keys').delete(k)
}

export function removeKeysById(data: AccountData, ns: EncryptionNamespace, keyIds: readonly KeyId[]): void {
  const e = read(data, ns)
  if (e === undefined) return
  for (const [k, r] of e.keys) if (keyIds.includes(r.keyId)) own(e, 'keys').delete(k)
}

export function resetAll(data: AccountData, ns: EncryptionNamespace): void {
  data.encryptions.delete(ns)
}

// ---- postponed decisions ----

/** The account's decisions of `group` (all of them for the account cap). */
function groupMembers(data: AccountData, group: PostponedGroup): PostponedDecision[] {
  const members: PostponedDecision[] = []
  if (group.kind === 'account') {
    for (const e of data.encryptions.values()) for (const d of e.postponed.values()) members.push(d)
    return members
  }
  const all = read(data, group.values[0] as string)?.postponed
  if (all !== undefined) for (const d of all.values()) if (inPostponedGroup(group, d)) members.push(d)
  return members
}

/** Decisions in the encryption of `group` (the account for the account cap): a group holds at most that many. */
function upperBound(data: AccountData, group: PostponedGroup): number {
  if (group.kind !== 'account') return read(data, group.values[0] as string)?.postponed.size ?? 0
  let total = 0
  for (const e of data.encryptions.values()) total += e.postponed.size
  return total
}

/** The most decisions a group of `kind` can hold: its largest encryption's (the account's, for the account cap). */
function largest(data: AccountData, kind: PostponedGroup['kind']): number {
  let n = 0
  for (const e of data.encryptions.values())
    n = kind === 'account' ? n + e.postponed.size : Math.max(n, e.postponed.size)
  return n
}

/**
 * The contract's `addPostponed`, by the shared rules of `@vouch/tm-core` (store-postponed.ts):
 * D-8 merge within the call, replacement across calls, then the caps in the contract's order,
 * each on what the previous one left. A group is scanned only when its encryption (the account,
 * for the account cap) holds more than the cap: it cannot be over otherwise.
 */
export function addPostponed(
  data: AccountData,
  decisions: readonly PostponedDecision[],
  limits: Required<TrustStoreLimits>,
): AddPostponedResult {
  const { winners, ignored } = mergeInOneCall(decisions)
  const stored: PostponedDecision[] = []
  for (const d of winners.values()) {
    const e = write(data, d.encryption)
    const k = compositeKey(d.senderKey, d.owner, d.keyId)
    if (!replacesStored(e.postponed.get(k), d)) {
      ignored.push(d)
      continue
    }
    own(e, 'postponed').set(k, d)
    stored.push(d)
  }
  const evicted: PostponedDecision[] = []
  if (stored.length > 0) {
    for (const cap of postponedCaps(limits)) {
      if (largest(data, cap.kind) <= cap.max) continue // no group can be over: skip the grouping
      for (const group of touchedGroups(cap.kind, stored)) {
        if (upperBound(data, group) <= cap.max) continue
        const members = groupMembers(data, group)
        for (const d of oldestToEvict(members, members.length, cap.max)) {
          const e = read(data, d.encryption)
          if (e !== undefined) own(e, 'postponed').delete(compositeKey(d.senderKey, d.owner, d.keyId))
          evicted.push(d)
        }
      }
    }
  }
  return postponedResult(stored, ignored, evicted)
}

export function getPostponed(
  data: AccountData,
  ns: EncryptionNamespace,
  q: PostponedQuery = {},
): readonly PostponedDecision[] {
  const e = read(data, ns)
  if (e === undefined) return []
  const out: PostponedDecision[] = []
  for (const d of e.postponed.values())
    if (
      inList(q.senderKeys, d.senderKey) &&
      inList(q.keyIds, d.keyId) &&
      (q.polarity === undefined || q.polarity === d.polarity)
    )
      out.push(d)
  return out.sort(comparePostponed)
}

export function removePostponed(
  data: AccountData,
  ns: EncryptionNamespace,
  ids: { readonly trust?: readonly KeyId[]; readonly distrust?: readonly KeyId[] },
): void {
  const e = read(data, ns)
  if (e === undefined) return
  for (const [k, d] of e.postponed)
    if ((d.polarity === 'trust' ? ids.trust : ids.distrust)?.includes(d.keyId)) own(e, 'postponed').delete(k)
}

export function removePostponedBySenders(
  data: AccountData,
  ns: EncryptionNamespace,
  senderKeys: readonly KeyId[] | undefined,
): void {
  const e = read(data, ns)
  if (e === undefined) return
  for (const [k, d] of e.postponed) if (inList(senderKeys, d.senderKey)) own(e, 'postponed').delete(k)
}

// ---- D-9 ----

export function getLastApplied(
  data: AccountData,
  ns: EncryptionNamespace,
  senderKey: KeyId,
  owner: BareJid,
  keyId: KeyId,
): number | undefined {
  return read(data, ns)?.lastApplied.get(compositeKey(senderKey, owner, keyId))
}

export function setLastApplied(
  data: AccountData,
  ns: EncryptionNamespace,
  senderKey: KeyId,
  owner: BareJid,
  keyId: KeyId,
  sceTime: number,
): void {
  own(write(data, ns), 'lastApplied').set(compositeKey(senderKey, owner, keyId), sceTime)
}

// ---- backend state ----

export function getState(data: AccountData, namespace: string, key: string): Uint8Array | undefined {
  const v = data.state.get(namespace)?.get(key)
  return v === undefined ? undefined : new Uint8Array(v)
}

/** The key → bytes map of `namespace` to write to: created, or copied unless `data` owns it. */
function ownState(data: AccountData, namespace: string): Map<string, Uint8Array> {
  const m = data.state.get(namespace)
  if (m !== undefined && data.ownedState.has(namespace)) return m
  const copy = new Map(m)
  data.ownedState.add(namespace)
  data.state.set(namespace, copy)
  return copy
}

export function setState(data: AccountData, namespace: string, key: string, value: Uint8Array): void {
  // a copy, even of a Node Buffer (whose slice() is a view)
  ownState(data, namespace).set(key, new Uint8Array(value))
}

export function deleteState(data: AccountData, namespace: string, key: string): void {
  if (data.state.get(namespace)?.has(key) !== true) return
  const m = ownState(data, namespace)
  m.delete(key)
  if (m.size === 0) data.state.delete(namespace)
}

export function listState(data: AccountData, namespace: string, prefix = ''): readonly string[] {
  const m = data.state.get(namespace)
  if (m === undefined) return []
  return [...m.keys()].filter((k) => k.startsWith(prefix)).sort(compareCodePoints)
}
