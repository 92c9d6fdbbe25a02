/**
 * Read-through cache of one store transaction (internal). The engine is the only writer inside
 * its transactions (`AccountTrustStore.transaction`: outside calls never see nor change a running
 * transaction), so what it read or wrote there stays true until the transaction ends, provided
 * every write goes through {@link TxView} (which updates the cache from what the store returns).
 *
 * Layers: a batch keeps one cache for its whole transaction and gives each message a child layer
 * ({@link TxCache.child}); the child is folded into the parent only when the message's savepoint
 * was kept ({@link TxCache.commit}), so a rolled-back message leaves nothing cached either.
 */
import type {
  AccountTrustStore,
  BareJid,
  EncryptionNamespace,
  KeyId,
  KeyRecord,
  PostponedDecision,
  SecurityPolicy,
} from '@vouch/tm-core'

/** One map of a layered cache: reads fall through to the parent layer. `undefined` = not known. */
class Layer<V> {
  readonly own = new Map<string, V>()
  readonly parent: Layer<V> | undefined
  constructor(parent: Layer<V> | undefined) {
    this.parent = parent
  }
  get(k: string): V | undefined {
    if (this.own.has(k)) return this.own.get(k)
    return this.parent?.get(k)
  }
  set(k: string, v: V): void {
    this.own.set(k, v)
  }
  commit(): void {
    const p = this.parent
    if (p === undefined) return
    for (const [k, v] of this.own) p.own.set(k, v)
    this.own.clear()
  }
}

const k2 = (a: string, b: string): string => `${a}\u0000${b}`
const k3 = (a: string, b: string, c: string): string => `${a}\u0000${b}\u0000${c}`
const k4 = (a: string, b: string, c: string, d: string): string => `${a}\u0000${b}\u0000${c}\u0000${d}`

export class TxCache {
  /** own key per encryption (`null`: none) */
  readonly ownKeys: Layer<KeyId | null>
  readonly policies: Layer<SecurityPolicy | null>
  /** key records (`null`: not stored) by (encryption, owner, keyId) */
  readonly keys: Layer<KeyRecord | null>
  /** (encryption, owner) whose stored keys are all in {@link keys} */
  readonly loaded: Layer<true>
  /** (encryption, owner) → true when the owner has no `automatically-trusted` key */
  readonly noAutoTrusted: Layer<boolean>
  /** D-9 last applied SCE time (`null`: none) by (encryption, senderKey, owner, keyId) */
  readonly lastApplied: Layer<number | null>
  /** (encryption, senderKey) → true when no postponed decision of that sender is stored */
  readonly noPostponed: Layer<boolean>

  constructor(parent?: TxCache) {
    this.ownKeys = new Layer(parent?.ownKeys)
    this.policies = new Layer(parent?.policies)
    this.keys = new Layer(parent?.keys)
    this.loaded = new Layer(parent?.loaded)
    this.noAutoTrusted = new Layer(parent?.noAutoTrusted)
    this.lastApplied = new Layer(parent?.lastApplied)
    this.noPostponed = new Layer(parent?.noPostponed)
  }

  child(): TxCache {
    return new TxCache(this)
  }

  commit(): void {
    this.ownKeys.commit()
    this.policies.commit()
    this.keys.commit()
    this.loaded.commit()
    this.noAutoTrusted.commit()
    this.lastApplied.commit()
    this.noPostponed.commit()
  }
}

/**
 * The store calls the engine makes on its hot paths, answered from the cache where it knows the
 * answer. Writes go to the store and update the cache with the records the store returned.
 */
export class TxView {
  readonly tx: AccountTrustStore
  readonly cache: TxCache
  constructor(tx: AccountTrustStore, cache: TxCache) {
    this.tx = tx
    this.cache = cache
  }

  async ownKey(enc: EncryptionNamespace): Promise<KeyId | undefined> {
    const c = this.cache.ownKeys.get(enc)
    if (c !== undefined) return c ?? undefined
    const v = await this.tx.getOwnKey(enc)
    this.cache.ownKeys.set(enc, v ?? null)
    return v
  }

  async securityPolicy(enc: EncryptionNamespace): Promise<SecurityPolicy | undefined> {
    const c = this.cache.policies.get(enc)
    if (c !== undefined) return c ?? undefined
    const v = await this.tx.getSecurityPolicy(enc)
    this.cache.policies.set(enc, v ?? null)
    return v
  }

  /** Reads every stored key of `owners` (one query for those not read yet in this transaction). */
  async loadOwners(enc: EncryptionNamespace, owners: readonly BareJid[]): Promise<void> {
    const todo = [...new Set(owners)].filter((o) => this.cache.loaded.get(k2(enc, o)) === undefined)
    if (todo.length === 0) return
    const records = await this.tx.getKeys(enc, { owners: todo })
    for (const o of todo) {
      this.cache.loaded.set(k2(enc, o), true)
      this.cache.noAutoTrusted.set(k2(enc, o), true)
    }
    this.remember(records)
  }

  async key(enc: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<KeyRecord | undefined> {
    const k = k3(enc, owner, keyId)
    const c = this.cache.keys.get(k)
    if (c !== undefined) return c ?? undefined
    if (this.cache.loaded.get(k2(enc, owner)) === true) return undefined
    const r = await this.tx.getKey(enc, owner, keyId)
    this.cache.keys.set(k, r ?? null)
    return r
  }

  /** True when `owner` is known to have no `automatically-trusted` key (false: not known). */
  hasNoAutoTrusted(enc: EncryptionNamespace, owner: BareJid): boolean {
    return this.cache.noAutoTrusted.get(k2(enc, owner)) === true
  }

  /** Records returned by a store write (or read) are the current state of those keys. */
  remember(records: readonly KeyRecord[]): void {
    for (const r of records) {
      this.cache.keys.set(k3(r.encryption, r.owner, r.keyId), r)
      if (r.level === 'automatically-trusted') this.cache.noAutoTrusted.set(k2(r.encryption, r.owner), false)
    }
  }

  markNoAutoTrusted(enc: EncryptionNamespace, owner: BareJid): void {
    this.cache.noAutoTrusted.set(k2(enc, owner), true)
  }

  async lastApplied(
    enc: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
  ): Promise<number | undefined> {
    const k = k4(enc, senderKey, owner, keyId)
    const c = this.cache.lastApplied.get(k)
    if (c !== undefined) return c ?? undefined
    const v = await this.tx.getLastApplied(enc, senderKey, owner, keyId)
    this.cache.lastApplied.set(k, v ?? null)
    return v
  }

  async setLastApplied(
    enc: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
    sceTime: number,
  ): Promise<void> {
    await this.tx.setLastApplied(enc, senderKey, owner, keyId, sceTime)
    this.cache.lastApplied.set(k4(enc, senderKey, owner, keyId), sceTime)
  }

  /** Sender keys among `senderKeys` that may have postponed decisions stored. */
  mayHavePostponed(enc: EncryptionNamespace, senderKeys: readonly KeyId[]): KeyId[] {
    return senderKeys.filter((s) => this.cache.noPostponed.get(k2(enc, s)) !== true)
  }

  markNoPostponed(enc: EncryptionNamespace, senderKeys: readonly KeyId[]): void {
    for (const s of senderKeys) this.cache.noPostponed.set(k2(enc, s), true)
  }

  notePostponed(decisions: readonly PostponedDecision[]): void {
    for (const d of decisions) this.cache.noPostponed.set(k2(d.encryption, d.senderKey), false)
  }

  /** Removes the decisions sent by `senderKeys`, skipping senders known to have none. */
  async removePostponedBySenders(enc: EncryptionNamespace, senderKeys: readonly KeyId[]): Promise<void> {
    const ids = this.mayHavePostponed(enc, senderKeys)
    if (ids.length === 0) return
    await this.tx.removePostponedBySenders(enc, ids)
    this.markNoPostponed(enc, ids)
  }
}
