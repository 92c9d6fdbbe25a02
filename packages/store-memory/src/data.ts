/**
 * The state of one account and the pure operations on it. Every function here is synchronous;
 * `memory-store.ts` decides which copy of the state an operation runs on (the committed one, a
 * copy that replaces it on success, or a transaction's draft).
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
import { compareCodePoints, compareKeys, comparePostponed } from '@vouch/tm-core'

/** Everything one account keeps about one encryption namespace. */
interface EncryptionData {
  policy: SecurityPolicy | undefined
  ownKey: KeyId | undefined
  /** owners that had an authenticated key once (D-11) */
  readonly authenticatedOnce: Set<BareJid>
  /** (owner, keyId) → record; records are frozen and replaced, never mutated */
  readonly keys: Map<string, KeyRecord>
  /** D-8 key (senderKey, owner, keyId) → decision; frozen */
  readonly postponed: Map<string, PostponedDecision>
  /** D-9 key (senderKey, owner, keyId) → SCE time */
  readonly lastApplied: Map<string, number>
}

export interface AccountData {
  readonly encryptions: Map<EncryptionNamespace, EncryptionData>
  /** namespace → key → bytes; stored arrays are private copies, never handed out */
  readonly state: Map<string, Map<string, Uint8Array>>
}

export function emptyAccount(): AccountData {
  return { encryptions: new Map(), state: new Map() }
}

/**
 * A copy that can be changed without touching `data`. Records and byte arrays are shared: they
 * are never mutated in place (records are frozen, bytes are copied in and out).
 */
export function cloneAccount(data: AccountData): AccountData {
  const encryptions = new Map<EncryptionNamespace, EncryptionData>()
  for (const [ns, e] of data.encryptions)
    encryptions.set(ns, {
      policy: e.policy,
      ownKey: e.ownKey,
      authenticatedOnce: new Set(e.authenticatedOnce),
      keys: new Map(e.keys),
      postponed: new Map(e.postponed),
      lastApplied: new Map(e.lastApplied),
    })
  const state = new Map<string, Map<string, Uint8Array>>()
  for (const [ns, m] of data.state) state.set(ns, new Map(m))
  return { encryptions, state }
}

const compositeKey = (...parts: readonly string[]): string => JSON.stringify(parts)

function read(data: AccountData, ns: EncryptionNamespace): EncryptionData | undefined {
  return data.encryptions.get(ns)
}

function write(data: AccountData, ns: EncryptionNamespace): EncryptionData {
  let e = data.encryptions.get(ns)
  if (e === undefined) {
    e = {
      policy: undefined,
      ownKey: undefined,
      authenticatedOnce: new Set(),
      keys: new Map(),
      postponed: new Map(),
      lastApplied: new Map(),
    }
    data.encryptions.set(ns, e)
  }
  return e
}

function freezeProvenance(p: Provenance): Provenance {
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

function freezeDecision(d: PostponedDecision): PostponedDecision {
  return Object.freeze({
    encryption: d.encryption,
    senderKey: d.senderKey,
    senderJid: d.senderJid,
    owner: d.owner,
    keyId: d.keyId,
    polarity: d.polarity,
    sceTime: d.sceTime,
    receivedAt: d.receivedAt,
  })
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
  read(data, ns)?.authenticatedOnce.delete(owner)
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
    e.keys.set(k, r)
    added.push(r)
  }
  if (level === 'authenticated' && added.length > 0) e.authenticatedOnce.add(owner)
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
    e.keys.set(k, r)
    changed.push(r)
    if (w.level === 'authenticated') e.authenticatedOnce.add(w.owner)
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
    e.keys.set(k, n)
    changed.push(n)
    if (to === 'authenticated') e.authenticatedOnce.add(r.owner)
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
  for (const [k, r] of e.keys) if (r.owner === owner && inList(keyIds, r.keyId)) e.keys.delete(k)
}

export function removeKeysById(data: AccountData, ns: EncryptionNamespace, keyIds: readonly KeyId[]): void {
  const e = read(data, ns)
  if (e === undefined) return
  for (const [k, r] of e.keys) if (keyIds.includes(r.keyId)) e.keys.delete(k)
}

export function resetAll(data: AccountData, ns: EncryptionNamespace): void {
  data.encryptions.delete(ns)
}

// ---- postponed decisions ----

/** True if `a` wins over `b` for the same D-8 key given in one call (distrust wins, then newer). */
function winsInOneCall(a: PostponedDecision, b: PostponedDecision): boolean {
  if (a.polarity !== b.polarity) return a.polarity === 'distrust'
  if (a.sceTime !== b.sceTime) return a.sceTime > b.sceTime
  return a.receivedAt >= b.receivedAt // equal: the later one in the call wins
}

/**
 * One cap of `addPostponed`: every (encryption, `field`) group of the `touched` decisions holding
 * more than `max` loses its oldest. A group is scanned only when its encryption holds more than
 * `max` decisions (it cannot be over otherwise), and collected and sorted only when it is over.
 */
function capGroups(
  data: AccountData,
  touched: readonly PostponedDecision[],
  field: 'senderKey' | 'senderJid',
  max: number,
  evicted: PostponedDecision[],
): void {
  const done = new Set<string>()
  for (const t of touched) {
    const all = read(data, t.encryption)?.postponed
    if (all === undefined || all.size <= max) continue
    const value = t[field]
    const group = compositeKey(t.encryption, value)
    if (done.has(group)) continue
    done.add(group)
    const members: PostponedDecision[] = []
    for (const d of all.values()) if (d[field] === value) members.push(d)
    evictOldest(data, members, max, evicted)
  }
}

/** Deletes the oldest of `group` beyond `max` (contract order) and appends them to `evicted`. */
function evictOldest(
  data: AccountData,
  group: PostponedDecision[],
  max: number,
  evicted: PostponedDecision[],
): void {
  if (group.length <= max) return
  group.sort(comparePostponed)
  for (const d of group.slice(0, group.length - max)) {
    read(data, d.encryption)?.postponed.delete(compositeKey(d.senderKey, d.owner, d.keyId))
    evicted.push(d)
  }
}

/**
 * D-8 merge and replacement, then the caps of `limits` (per sender key, per sender JID, per
 * account, in that order): the contract's `addPostponed`.
 */
export function addPostponed(
  data: AccountData,
  decisions: readonly PostponedDecision[],
  limits: Required<TrustStoreLimits>,
): AddPostponedResult {
  const ignored: PostponedDecision[] = []
  // 1. One winner per D-8 key within this call.
  const winners = new Map<string, PostponedDecision>()
  for (const given of decisions) {
    const d = freezeDecision(given)
    const k = compositeKey(d.encryption, d.senderKey, d.owner, d.keyId)
    const current = winners.get(k)
    if (current === undefined) winners.set(k, d)
    else if (winsInOneCall(d, current)) {
      ignored.push(current)
      winners.set(k, d)
    } else ignored.push(d)
  }
  // 2. Across calls: replace unless the stored decision is newer (equal time replaces).
  const stored = new Map<string, PostponedDecision>() // by D-8 key, as `winners`
  for (const [d8, d] of winners) {
    const e = write(data, d.encryption)
    const k = compositeKey(d.senderKey, d.owner, d.keyId)
    const old = e.postponed.get(k)
    if (old !== undefined && old.sceTime > d.sceTime) {
      ignored.push(d)
      continue
    }
    e.postponed.set(k, d)
    stored.set(d8, d)
  }
  // 3. The caps, in the contract's order, each on what the previous one left.
  const evicted: PostponedDecision[] = []
  if (stored.size > 0) {
    const kept = [...stored.values()]
    capGroups(data, kept, 'senderKey', limits.maxPostponedPerSender, evicted)
    capGroups(data, kept, 'senderJid', limits.maxPostponedPerSenderJid, evicted)
    let total = 0
    for (const e of data.encryptions.values()) total += e.postponed.size
    if (total > limits.maxPostponedPerAccount) {
      const all: PostponedDecision[] = []
      for (const e of data.encryptions.values()) for (const d of e.postponed.values()) all.push(d)
      evictOldest(data, all, limits.maxPostponedPerAccount, evicted)
    }
    for (const d of evicted) stored.delete(compositeKey(d.encryption, d.senderKey, d.owner, d.keyId))
  }
  return {
    stored: [...stored.values()].sort(comparePostponed),
    ignored: ignored.sort(comparePostponed),
    evicted: evicted.sort(comparePostponed),
  }
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
    if ((d.polarity === 'trust' ? ids.trust : ids.distrust)?.includes(d.keyId)) e.postponed.delete(k)
}

export function removePostponedBySenders(
  data: AccountData,
  ns: EncryptionNamespace,
  senderKeys: readonly KeyId[] | undefined,
): void {
  const e = read(data, ns)
  if (e === undefined) return
  for (const [k, d] of e.postponed) if (inList(senderKeys, d.senderKey)) e.postponed.delete(k)
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
  write(data, ns).lastApplied.set(compositeKey(senderKey, owner, keyId), sceTime)
}

// ---- backend state ----

export function getState(data: AccountData, namespace: string, key: string): Uint8Array | undefined {
  const v = data.state.get(namespace)?.get(key)
  return v === undefined ? undefined : new Uint8Array(v)
}

export function setState(data: AccountData, namespace: string, key: string, value: Uint8Array): void {
  let m = data.state.get(namespace)
  if (m === undefined) {
    m = new Map()
    data.state.set(namespace, m)
  }
  m.set(key, new Uint8Array(value)) // a copy, even of a Node Buffer (whose slice() is a view)
}

export function deleteState(data: AccountData, namespace: string, key: string): void {
  const m = data.state.get(namespace)
  if (m === undefined) return
  m.delete(key)
  if (m.size === 0) data.state.delete(namespace)
}

export function listState(data: AccountData, namespace: string, prefix = ''): readonly string[] {
  const m = data.state.get(namespace)
  if (m === undefined) return []
  return [...m.keys()].filter((k) => k.startsWith(prefix)).sort(compareCodePoints)
}
