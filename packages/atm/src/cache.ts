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

type Nested<V> = Map<string, Map<string, Map<string, Map<string, V>>>>

/**
 * One map of a layered cache, keyed by up to four strings (unused parts are ''): nested maps
 * rather than joined strings, so lookups hash the caller's (already hashed) strings instead of
 * building and hashing a new long key each time. Reads fall through to the parent layer.
 * `undefined` = not known.
 */
class Layer<V> {
  #own: Nested<V> = new Map()
  readonly parent: Layer<V> | undefined
  constructor(parent: Layer<V> | undefined) {
    this.parent = parent
  }
  get(a: string, b = '', c = '', d = ''): V | undefined {
    for (let l: Layer<V> | undefined = this; l !== undefined; l = l.parent) {
      const m = l.#own.get(a)?.get(b)?.get(c)
      if (m?.has(d) === true) return m.get(d)
    }
    return undefined
  }
  set(a: string, b: string, c: string, d: string, v: V): void {
    const m1 = this.#own.get(a) ?? new Map<string, Map<string, Map<string, V>>>()
    this.#own.set(a, m1)
    const m2 = m1.get(b) ?? new Map<string, Map<string, V>>()
    m1.set(b, m2)
    const m3 = m2.get(c) ?? new Map<string, V>()
    m2.set(c, m3)
    m3.set(d, v)
  }
  commit(): void {
    const p = this.parent
    if (p === undefined) return
    for (const [a, m1] of this.#own)
      for (const [b, m2] of m1) for (const [c, m3] of m2) for (const [d, v] of m3) p.set(a, b, c, d, v)
    this.#own = new Map()
  }
}

/**
 * Above this many keys not cached yet, one `getKeys` reads them instead of one `getKey` each: one
 * read for the sender key and the decided key (a SQL store's transaction reads the owners of a
 * `getKeys` in one statement, where two `getKey`s cost two).
 */
const SINGLE_READS = 1

export class TxCache {
  /** own key per encryption (`null`: none) */
  readonly ownKeys: Layer<KeyId | null>
  readonly policies: Layer<SecurityPolicy | null>
  /** key records (`null`: not stored) by (encryption, owner, keyId) */
  readonly keys: Layer<KeyRecord | null>
  /**
   * (encryption, owner) → true once this transaction demoted the owner's automatically trusted
   * keys (TOAK-2) and stored none since: the next demotion would change nothing
   */
  readonly noAutoTrusted: Layer<boolean>
  /** D-9 last applied SCE time (`null`: none) by (encryption, senderKey, owner, keyId) */
  readonly lastApplied: Layer<number | null>
  /** (encryption, senderKey) → true when no postponed decision of that sender is stored */
  readonly noPostponed: Layer<boolean>

  constructor(parent?: TxCache) {
    this.ownKeys = new Layer(parent?.ownKeys)
    this.policies = new Layer(parent?.policies)
    this.keys = new Layer(parent?.keys)
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
    this.cache.ownKeys.set(enc, '', '', '', v ?? null)
    return v
  }

  async securityPolicy(enc: EncryptionNamespace): Promise<SecurityPolicy | undefined> {
    const c = this.cache.policies.get(enc)
    if (c !== undefined) return c ?? undefined
    const v = await this.tx.getSecurityPolicy(enc)
    this.cache.policies.set(enc, '', '', '', v ?? null)
    return v
  }

  /**
   * Reads the keys of `refs` not cached yet: one `getKey` each for a few, else one `getKeys`
   * (a superset: every listed owner × every listed id).
   */
  async loadKeys(enc: EncryptionNamespace, refs: readonly { owner: BareJid; keyId: KeyId }[]): Promise<void> {
    const todo = refs.filter((r) => this.cache.keys.get(enc, r.owner, r.keyId) === undefined)
    if (todo.length <= SINGLE_READS) {
      for (const r of todo) await this.key(enc, r.owner, r.keyId)
      return
    }
    const records = await this.tx.getKeys(enc, {
      owners: [...new Set(todo.map((r) => r.owner))],
      keyIds: [...new Set(todo.map((r) => r.keyId))],
    })
    for (const r of todo) this.cache.keys.set(enc, r.owner, r.keyId, '', null)
    this.remember(records)
  }

  async key(enc: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<KeyRecord | undefined> {
    const c = this.cache.keys.get(enc, owner, keyId)
    if (c !== undefined) return c ?? undefined
    const r = await this.tx.getKey(enc, owner, keyId)
    this.cache.keys.set(enc, owner, keyId, '', r ?? null)
    return r
  }

  /** Records returned by a store write (or read) are the current state of those keys. */
  remember(records: readonly KeyRecord[]): void {
    for (const r of records) {
      this.cache.keys.set(r.encryption, r.owner, r.keyId, '', r)
      if (r.level === 'automatically-trusted')
        this.cache.noAutoTrusted.set(r.encryption, r.owner, '', '', false)
    }
  }

  /** True when `owner` is known to have no `automatically-trusted` key (false: not known). */
  hasNoAutoTrusted(enc: EncryptionNamespace, owner: BareJid): boolean {
    return this.cache.noAutoTrusted.get(enc, owner) === true
  }

  markNoAutoTrusted(enc: EncryptionNamespace, owner: BareJid): void {
    this.cache.noAutoTrusted.set(enc, owner, '', '', true)
  }

  async lastApplied(
    enc: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
  ): Promise<number | undefined> {
    const c = this.cache.lastApplied.get(enc, senderKey, owner, keyId)
    if (c !== undefined) return c ?? undefined
    const v = await this.tx.getLastApplied(enc, senderKey, owner, keyId)
    this.cache.lastApplied.set(enc, senderKey, owner, keyId, v ?? null)
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
    this.cache.lastApplied.set(enc, senderKey, owner, keyId, sceTime)
  }

  /** Sender keys among `senderKeys` that may have postponed decisions stored. */
  mayHavePostponed(enc: EncryptionNamespace, senderKeys: readonly KeyId[]): KeyId[] {
    return senderKeys.filter((s) => this.cache.noPostponed.get(enc, s) !== true)
  }

  markNoPostponed(enc: EncryptionNamespace, senderKeys: readonly KeyId[]): void {
    for (const s of senderKeys) this.cache.noPostponed.set(enc, s, '', '', true)
  }

  notePostponed(decisions: readonly PostponedDecision[]): void {
    for (const d of decisions) this.cache.noPostponed.set(d.encryption, d.senderKey, '', '', false)
  }

  /** Removes the decisions sent by `senderKeys`, skipping senders known to have none. */
  async removePostponedBySenders(enc: EncryptionNamespace, senderKeys: readonly KeyId[]): Promise<void> {
    const ids = this.mayHavePostponed(enc, senderKeys)
    if (ids.length === 0) return
    await this.tx.removePostponedBySenders(enc, ids)
    this.markNoPostponed(enc, ids)
  }
}
