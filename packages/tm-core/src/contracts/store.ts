import type { BareJid, EncryptionNamespace, KeyId } from './ids.ts'
import type { Polarity, Provenance, SecurityPolicy, TrustLevel } from './trust.ts'

/**
 * The trust store contract (issue "Trust stores"). One {@link TrustStore} may serve several local
 * accounts; everything is scoped to one account through {@link TrustStore.forAccount}, and within
 * an account to one encryption namespace. Accounts and encryptions never see each other's data.
 *
 * Stores never read the clock: every write that records a time takes it from the caller
 * (`at`, `receivedAt`, `sceTime`, all milliseconds since the Unix epoch).
 */
export interface TrustStore {
  /** The view of one local account (its own bare JID). Cheap; may be called often. */
  forAccount(account: BareJid): AccountTrustStore
  /** Releases the underlying resources (database handles). Idempotent. */
  close(): Promise<void>
}

/** One key as stored. */
export interface KeyRecord {
  readonly encryption: EncryptionNamespace
  readonly owner: BareJid
  readonly keyId: KeyId
  readonly level: TrustLevel
  readonly provenance: Provenance
  /** when the key was first stored */
  readonly firstSeen: number
  /** when the level last changed (equals firstSeen until the first change) */
  readonly changedAt: number
}

/** Who made a change and when. */
export interface ChangeContext {
  readonly provenance: Provenance
  readonly at: number
}

/**
 * Filter for {@link AccountTrustStore.getKeys}: all given conditions must hold. An omitted list
 * matches everything; an empty list matches nothing.
 */
export interface KeyQuery {
  readonly owners?: readonly BareJid[]
  readonly levels?: readonly TrustLevel[]
  readonly keyIds?: readonly KeyId[]
}

/** Trust-level change for one owner's keys. */
export interface LevelChange {
  readonly owner: BareJid
  readonly keyIds: readonly KeyId[]
  readonly level: TrustLevel
}

/**
 * A trust decision received from a sender whose key is not authenticated yet (ATM-P1), or about
 * a key not fetched yet (ATM-P2). Keyed as D-8: (encryption, senderKey, owner, keyId); polarity
 * and times are the value.
 */
export interface PostponedDecision {
  readonly encryption: EncryptionNamespace
  /** key id of the endpoint that sent the trust message */
  readonly senderKey: KeyId
  /** bare JID of the sending endpoint (kept for provenance) */
  readonly senderJid: BareJid
  readonly owner: BareJid
  readonly keyId: KeyId
  readonly polarity: Polarity
  /** SCE `<time/>` of the message that carried the decision */
  readonly sceTime: number
  /** when this endpoint received it */
  readonly receivedAt: number
}

/**
 * Which postponed decisions to read or remove. All given conditions must hold. An omitted list
 * matches everything; an empty list matches nothing.
 */
export interface PostponedQuery {
  readonly senderKeys?: readonly KeyId[]
  readonly keyIds?: readonly KeyId[]
  readonly polarity?: Polarity
}

/**
 * What {@link AccountTrustStore.addPostponed} did. Every given decision is in exactly one of
 * the three lists; each list is sorted like postponed decisions. A stored decision that was
 * replaced by a newer one is not reported.
 */
export interface AddPostponedResult {
  /** given decisions now stored (new, or replacing the stored decision of the same D-8 key) */
  readonly stored: readonly PostponedDecision[]
  /**
   * given decisions not stored: the store already holds a newer one of the same D-8 key, or
   * another decision of the same D-8 key in the same call won (distrust, or else the newer)
   */
  readonly ignored: readonly PostponedDecision[]
  /**
   * decisions evicted to keep the caps of {@link TrustStoreLimits} (per sender key, per sender
   * JID, per account): stored ones, of any sender and encryption of the account (not only of the
   * given decisions), or given ones that were older than everything kept (those are not also in
   * `stored`). Every evicted decision is reported exactly once.
   */
  readonly evicted: readonly PostponedDecision[]
}

/**
 * Options every store implementation accepts: the caps on postponed decisions (X10, ATM-P1). Each
 * is a positive integer; beyond it the oldest decisions are evicted (see
 * {@link AccountTrustStore.addPostponed}). Members added later are optional: a store fills in
 * {@link DEFAULT_TRUST_STORE_LIMITS} for those not given.
 */
export interface TrustStoreLimits {
  /** postponed decisions kept per (encryption, sender key) */
  readonly maxPostponedPerSender: number
  /**
   * postponed decisions kept per (encryption, sender bare JID), whatever the number of its keys:
   * one contact with many devices (or many made-up sender keys) cannot fill the store
   */
  readonly maxPostponedPerSenderJid?: number
  /** postponed decisions kept per account, all encryptions and senders together */
  readonly maxPostponedPerAccount?: number
}

/**
 * The default caps: 1,024 per sender key (four full trust messages of 256 key ids), 4,096 per
 * sender JID (four keys' worth), 65,536 per account (sixteen JIDs' worth; tens of MB at most).
 */
export const DEFAULT_TRUST_STORE_LIMITS: Required<TrustStoreLimits> = Object.freeze({
  maxPostponedPerSender: 1024,
  maxPostponedPerSenderJid: 4096,
  maxPostponedPerAccount: 65_536,
})

/**
 * Everything Vouch keeps for one local account. All methods are async. Unless said otherwise,
 * results are sorted by (owner, keyId) for keys and by (sceTime, receivedAt, owner, keyId,
 * senderKey) for postponed decisions, so every implementation answers the same thing in the same
 * order. Strings sort by Unicode code point (the order of their UTF-8 bytes, SQLite's BINARY
 * collation), not by UTF-16 code unit (JavaScript's default `sort()`).
 *
 * Records returned are the caller's (changing them never changes the store) and arguments are
 * not kept (changing an argument after the call never changes the store). Errors are typed:
 * `StoreError` (or `StoreBusyError`, `retryable`), checked by `name`.
 */
export interface AccountTrustStore {
  readonly account: BareJid

  /**
   * Runs `fn` in one transaction: every write made through `tx` commits together, or, if `fn`
   * throws (or the process dies), none of them does, and the promise rejects with the error `fn`
   * threw. Reads through `tx` see the transaction's own writes.
   *
   * - Calls on `tx` inside `fn` are the only ones that belong to the transaction. Transactions
   *   of one account are serialised, and calls on the account made outside `fn` while it runs
   *   never observe its uncommitted writes, nor are their writes lost when it commits (a store
   *   may make them wait until it ends: never await a call on the outer store inside `fn`).
   * - A nested `tx.transaction()` joins the outer one: its writes commit or roll back with the
   *   outer transaction; if the nested `fn` throws, its own writes are undone (a savepoint)
   *   and the outer transaction continues if it catches the error.
   * - A `tx` used after its `fn` settled rejects with `StoreError`.
   */
  transaction<T>(fn: (tx: AccountTrustStore) => Promise<T>): Promise<T>

  // ---- security policy (per encryption) and the sticky TOAKAFA flag (D-11) ----

  /** `undefined` until set: the caller applies its default (TOAKAFA). */
  getSecurityPolicy(encryption: EncryptionNamespace): Promise<SecurityPolicy | undefined>
  setSecurityPolicy(encryption: EncryptionNamespace, policy: SecurityPolicy): Promise<void>
  resetSecurityPolicy(encryption: EncryptionNamespace): Promise<void>

  /**
   * D-11: true once any key of `owner` was `authenticated` in this store, until
   * {@link resetAuthenticatedOnce}. Set automatically by every write that makes a key
   * authenticated: {@link addKeys} adding a key at `authenticated`, {@link setTrustLevels} and
   * {@link changeTrustLevels} changing (or creating) a key to `authenticated`. A write that leaves
   * an already authenticated key as it is does not set it. Distrusting or removing the key does
   * not clear it.
   */
  wasAuthenticatedOnce(encryption: EncryptionNamespace, owner: BareJid): Promise<boolean>
  resetAuthenticatedOnce(encryption: EncryptionNamespace, owner: BareJid): Promise<void>

  // ---- own key (per encryption) ----

  getOwnKey(encryption: EncryptionNamespace): Promise<KeyId | undefined>
  setOwnKey(encryption: EncryptionNamespace, keyId: KeyId): Promise<void>
  resetOwnKey(encryption: EncryptionNamespace): Promise<void>

  // ---- keys and trust levels ----

  /**
   * Stores keys that are not stored yet with `level` (default `automatically-distrusted`);
   * keys already stored keep their level (ATM-P2: a key authenticated before it was fetched stays
   * authenticated). A key listed twice is added once. Returns the records actually added, with
   * `firstSeen` = `changedAt` = `ctx.at`.
   */
  addKeys(
    encryption: EncryptionNamespace,
    owner: BareJid,
    keyIds: readonly KeyId[],
    ctx: ChangeContext,
    level?: TrustLevel,
  ): Promise<readonly KeyRecord[]>

  getKey(encryption: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<KeyRecord | undefined>
  /** `undecided` for a key that is not stored. */
  getTrustLevel(encryption: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<TrustLevel>
  getKeys(encryption: EncryptionNamespace, query?: KeyQuery): Promise<readonly KeyRecord[]>
  /** True if `owner` has a stored key (with one of `levels`, if given). */
  hasKey(encryption: EncryptionNamespace, owner: BareJid, levels?: readonly TrustLevel[]): Promise<boolean>

  /**
   * Sets trust levels, creating keys that are not stored yet. Returns the records whose level
   * actually changed (new keys included), with their new level. A changed key gets `ctx` as its
   * provenance and `changedAt`; a key that already has the level is left as it is (not even its
   * provenance changes). A key listed twice gets the last level given. Setting `authenticated`
   * marks the owner as authenticated once (D-11).
   */
  setTrustLevels(
    encryption: EncryptionNamespace,
    changes: readonly LevelChange[],
    ctx: ChangeContext,
  ): Promise<readonly KeyRecord[]>

  /**
   * For every key of `owners` at level `from`, sets `to` (with `ctx` as provenance and
   * `changedAt`). Returns the changed records; nothing changes when `from` equals `to`.
   */
  changeTrustLevels(
    encryption: EncryptionNamespace,
    owners: readonly BareJid[],
    from: TrustLevel,
    to: TrustLevel,
    ctx: ChangeContext,
  ): Promise<readonly KeyRecord[]>

  /** Removes the given keys of `owner`, or all of `owner`'s keys when `keyIds` is omitted. */
  removeKeys(encryption: EncryptionNamespace, owner: BareJid, keyIds?: readonly KeyId[]): Promise<void>

  /** Removes every key id in `keyIds` whatever its owner. */
  removeKeysById(encryption: EncryptionNamespace, keyIds: readonly KeyId[]): Promise<void>

  /**
   * Removes everything of one encryption: keys, own key, security policy, authenticated-once
   * flags, postponed decisions and last-applied times. Backend state is not touched.
   */
  resetAll(encryption: EncryptionNamespace): Promise<void>

  // ---- postponed decisions (ATM-P1, ATM-P2, D-8) ----

  /**
   * Stores decisions, which may be of several encryptions and senders. Within one call, a key
   * given both as trust and distrust by one sender is stored as distrust (D-8), whatever their
   * times; of decisions of the same D-8 key and polarity in one call the newest (sceTime, then
   * receivedAt, then the later one) wins. Across calls, a decision replaces the stored one of the
   * same (encryption, senderKey, owner, keyId) unless the stored one has a newer `sceTime` (an
   * equal time replaces).
   *
   * Then the caps of {@link TrustStoreLimits} are kept, in this order, each on what the previous
   * step left, evicting the oldest of the group (in the order of postponed decisions: sceTime,
   * then receivedAt, …) until it is at its cap:
   * 1. `maxPostponedPerSender` for each (encryption, senderKey),
   * 2. `maxPostponedPerSenderJid` for each (encryption, senderJid),
   * 3. `maxPostponedPerAccount` for the account (all encryptions).
   * Only the groups of the decisions this call stored are checked (so a store reopened with
   * smaller caps trims a group the next time it grows). Evicted decisions are reported in
   * {@link AddPostponedResult.evicted}; they may belong to other senders than the given ones.
   */
  addPostponed(decisions: readonly PostponedDecision[]): Promise<AddPostponedResult>
  getPostponed(encryption: EncryptionNamespace, query?: PostponedQuery): Promise<readonly PostponedDecision[]>
  /**
   * Removes postponed decisions about the given key ids, respecting polarity: an id listed in
   * `trust` removes only postponed authentications, one in `distrust` only postponed distrusts.
   */
  removePostponed(
    encryption: EncryptionNamespace,
    keyIds: { readonly trust?: readonly KeyId[]; readonly distrust?: readonly KeyId[] },
  ): Promise<void>
  /** Removes the decisions sent by the given sender keys (or every one, if omitted). */
  removePostponedBySenders(encryption: EncryptionNamespace, senderKeys?: readonly KeyId[]): Promise<void>

  // ---- ordering and replay (D-9) ----

  /**
   * SCE time of the last decision applied from `senderKey` about (owner, keyId); `undefined`
   * until set. {@link setLastApplied} stores the time it is given, even an older one: the caller
   * compares.
   */
  getLastApplied(
    encryption: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
  ): Promise<number | undefined>
  setLastApplied(
    encryption: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
    sceTime: number,
  ): Promise<void>

  // ---- namespaced backend state (OMEMO sessions and pre keys, OX keys, …) ----
  // Opaque bytes per (namespace, key), not per encryption: resetAll does not touch them.
  // setState copies the bytes it is given (also of a view into a larger buffer) and getState
  // returns a copy; an empty value is a value (not a missing one).

  getState(namespace: string, key: string): Promise<Uint8Array | undefined>
  setState(namespace: string, key: string, value: Uint8Array): Promise<void>
  deleteState(namespace: string, key: string): Promise<void>
  /**
   * Keys under `namespace`, sorted by code point, optionally only those starting with `prefix`
   * (a literal prefix: `%`, `_` and `*` have no special meaning).
   */
  listState(namespace: string, prefix?: string): Promise<readonly string[]>
}
