/**
 * Public types of the XEP-0450 engine. See README.md ("API") for the semantics of each member.
 */
import type {
  AccountTrustStore,
  BackendCapabilities,
  BareJid,
  EncryptionNamespace,
  FullJid,
  KeyId,
  KeyLink,
  KeyRecord,
  KeyRef,
  Polarity,
  PostponedDecision,
  Provenance,
  SecurityPolicy,
  TrustLevel,
  TrustMessage,
  TrustMessageLimits,
  UriSource,
} from '@vouch/tm-core'

/** XEP-0450 v0.4.0 namespace, the `usage` of every trust message this engine reads or writes (TM-5). */
export const NS_ATM = 'urn:xmpp:atm:1'

/** One encryption protocol the engine knows: its namespace and what its backend declares. */
export interface AtmBackend {
  readonly namespace: EncryptionNamespace
  readonly capabilities: BackendCapabilities
  /**
   * Identity linking (D-12): how this protocol's key ids name the same key pair in another one
   * (`EncryptionBackend.keyLinks`). Used while `policy.linkIdentities` is on.
   */
  readonly keyLinks?: readonly KeyLink[]
}

/**
 * The typed security policy (STYLE rule 9). Every member has a safe default ({@link DEFAULT_ATM_POLICY}).
 */
export interface AtmPolicy {
  /**
   * How new keys are stored (TOAK-1 … TOAK-3, D-11). When given explicitly it wins over the
   * per-encryption policy kept in the store; when omitted, the store's
   * `getSecurityPolicy(encryption)` is used, and `toakafa` if that is unset.
   */
  readonly securityPolicy: SecurityPolicy
  /**
   * D-10. `false` (spec default): an authenticated sender's trust message authenticates a key even
   * if this endpoint distrusted it manually — provided it was sent after that distrust (an older
   * one is skipped as `stale`, D-9 across senders, whatever this switch says). `true`: an automatic *trust* never overrides a manual
   * decision (manually-distrusted, or a distrust made here); an automatic *distrust* still applies
   * (fail safe: a revocation from an authenticated endpoint can only shrink the set of keys we
   * encrypt to).
   */
  readonly manualDecisionsFinal: boolean
  /** ATM-UI3: ask {@link AtmInit.confirm} before every automatic decision. */
  readonly requireConfirmation: boolean
  /**
   * D-12, X3: accept a trust message whose `encryption` attribute differs from the protocol that
   * carried it (an OMEMO 2 channel carrying decisions about OMEMO 0.3 or OX keys) under the
   * cross-protocol rule: the sender must be authenticated **in the carrier** (its key is looked up
   * there, else the decisions are postponed under it), and sender qualification is unchanged
   * (own endpoint → any key; a contact's endpoint → only that contact's own keys). Default `true`
   * (the project decision); `false` ignores such messages (`protocol-mismatch`). See README
   * "Trust across protocols".
   */
  readonly allowCrossProtocol: boolean
  /**
   * D-12: an identity key used by two protocols (a backend's `keyLinks`, e.g. OMEMO 2's Ed25519
   * key and the OMEMO 0.3 Curve25519 key of the same pair) is one identity: authenticating or
   * distrusting it in one protocol does the same in the other, and a key appearing later in one
   * protocol inherits the decision made in the other. Default `true`; `false` keeps the protocols
   * apart.
   */
  readonly linkIdentities: boolean
}

/**
 * The policy an engine runs with ({@link Atm.policy}): {@link AtmInit.policy} over
 * {@link DEFAULT_ATM_POLICY}, except `securityPolicy`, which is only the explicit one.
 */
export interface ResolvedAtmPolicy extends Omit<AtmPolicy, 'securityPolicy'> {
  /**
   * The security policy given explicitly in {@link AtmInit.policy}, or `undefined` when none was:
   * then the store's per-encryption policy applies, and `toakafa` if that is unset. Ask
   * {@link Atm.effectiveSecurityPolicy} for the policy that applies to one encryption.
   */
  readonly securityPolicy: SecurityPolicy | undefined
}

/**
 * Every default. `securityPolicy: 'toakafa'` is the last fallback only: the store's per-encryption
 * policy comes before it (see {@link AtmPolicy.securityPolicy}).
 */
export const DEFAULT_ATM_POLICY: AtmPolicy = Object.freeze({
  securityPolicy: 'toakafa',
  manualDecisionsFinal: false,
  requireConfirmation: false,
  allowCrossProtocol: true,
  linkIdentities: true,
})

/**
 * Resource caps (X10): the codec's. Trust messages and manual decisions over a cap are rejected
 * with `LimitExceededError` before anything is stored. The postponed store is bounded by the
 * store's own caps (`TrustStoreLimits`: per sender key, per sender JID, per account); its
 * evictions are reported in `ReceiveResult.evicted` and as `postponed-evicted` events.
 */
export type AtmLimits = TrustMessageLimits

/** An automatic decision waiting for the ATM-UI3 confirmation hook. */
export interface PendingAutomaticDecision {
  readonly key: KeyRef
  readonly polarity: Polarity
  readonly from: TrustLevel
  readonly to: TrustLevel
  /** the endpoint whose trust message made the decision */
  readonly senderJid: BareJid
  readonly senderKey: KeyId
  readonly sceTime: number
}

export interface AtmInit {
  /** our own bare JID */
  readonly account: BareJid
  /** this endpoint's full JID: trust messages from it are discarded unparsed (TM-24) */
  readonly ownFullJid?: FullJid
  /** the account's view of the trust store (`store.forAccount(account)`) */
  readonly store: AccountTrustStore
  /** the protocols that exist; `oneKeyPerIdentity` (OX) changes the rules (ATM-4, X16) */
  readonly backends: readonly AtmBackend[]
  readonly policy?: Partial<AtmPolicy>
  /** ATM-UI3 veto hook, asked for every automatic decision when `policy.requireConfirmation` */
  readonly confirm?: (decision: PendingAutomaticDecision) => Promise<boolean>
  /** clock (ms since the epoch); the engine reads no other clock */
  readonly now: () => number
  readonly limits?: Partial<AtmLimits>
}

/** How a local decision was made (becomes the change's provenance). */
export type DecisionOrigin =
  | { readonly source: 'manual' }
  | { readonly source: 'uri'; readonly uriSource: UriSource }

/** A trust message the caller must now encrypt and send. */
export interface OutgoingTrustMessage {
  /** bare JID to address the stanza to (own endpoints are reached by Carbons) */
  readonly to: BareJid
  readonly message: TrustMessage
  /**
   * The ONLY keys the message may be encrypted for (TM-15, TM-21): authenticated keys of `to` and
   * our own other authenticated keys (state after the decision), never our own key, never a
   * non-authenticated key, and never a key the message itself authenticates (so ATM-S3 reaches
   * the endpoints "with an already authenticated key" and ATM-S4 only the newly authenticated
   * one); over a carrier, never a carrier key whose twin (D-12 identity linking) the message
   * authenticates. Messages nobody could read are not returned.
   * Exception (ATM-4, X16): for a one-key-per-identity protocol the message to our own bare JID
   * is encrypted for our own (shared) key.
   */
  readonly allowedKeys: readonly KeyRef[]
  /**
   * The protocol to encrypt the message with, when it is not the protocol of the listed keys
   * (`message.encryption`): that one cannot carry a trust message (`bodyOnly`, OMEMO 0.3), so the
   * message goes over another protocol in which the recipients are authenticated (D-12). The
   * `allowedKeys` are then keys of this protocol. Absent: `message.encryption` carries it.
   */
  readonly carrier?: EncryptionNamespace
}

export interface DecisionResult {
  /** every key whose level changed, including changes caused by released postponed decisions */
  readonly changes: readonly KeyRecord[]
  /** trust messages to send (D-5: only for decisions made on this endpoint) */
  readonly outgoing: readonly OutgoingTrustMessage[]
}

/** A local decision about one key owner's keys. */
export interface DecisionInput {
  readonly encryption: EncryptionNamespace
  readonly owner: BareJid
  readonly trust?: readonly KeyId[]
  readonly distrust?: readonly KeyId[]
}

/** A parsed Trust Message URI (structurally what `@vouch/uri` yields). */
export interface TrustUri {
  readonly jid: BareJid
  readonly encryption: EncryptionNamespace
  readonly trust: readonly KeyId[]
  readonly distrust: readonly KeyId[]
}

/** What the URI confirmation hook is shown (URI-4): only the decisions that would change something. */
export interface UriDecisionSummary {
  readonly jid: BareJid
  readonly encryption: EncryptionNamespace
  readonly uriSource: UriSource
  readonly authenticate: readonly KeyId[]
  readonly distrust: readonly KeyId[]
  /** key ids of the URI skipped because they are our own key (X8) */
  readonly skippedOwnKeys: readonly KeyId[]
}

/**
 * The last argument of every engine call that touches the store (kysely's `trx` style).
 */
export interface TransactionOptions {
  /**
   * The caller's transaction (the `tx` its `AccountTrustStore.transaction` function was handed):
   * the engine then does all its work through it, in a savepoint of its own
   * (`store.transaction(...)` nested in the caller's), and commits or rolls back with the caller.
   * Events are emitted once the engine's savepoint settled: before the caller commits, so a
   * listener may see a change the caller then rolls back. Omitted: the engine runs its own
   * transaction on the store given to `createAtm` and emits after it committed.
   */
  readonly store?: AccountTrustStore
}

export interface ApplyUriOptions extends TransactionOptions {
  readonly uriSource: UriSource
  /** URI-4: must resolve `true` before anything is stored or sent */
  readonly confirm: (summary: UriDecisionSummary) => Promise<boolean>
}

/** The input of {@link Atm.handleTrustMessage}. */
export interface ReceivedTrustMessage {
  /** already parsed by tm-core */
  readonly message: TrustMessage
  /** stanza `from` */
  readonly senderJid: FullJid | BareJid
  /** from the decryption result, never from the XML */
  readonly senderKey: KeyId
  /** protocol that carried (decrypted or verified) the message */
  readonly carrier: EncryptionNamespace
  /** false = plaintext or signed-only */
  readonly encrypted: boolean
  /** OX `<sign/>` verified (TM-14) */
  readonly signed?: boolean
  /** SCE `<time/>` in ms (already checked by sce) */
  readonly sceTime: number
}

/** Why one decision of a message was not applied (nor postponed). */
export type SkipReason =
  /** a contact vouching for someone else's keys (X9) */
  | 'unqualified-sender'
  /** a decision about our own key (X8) */
  | 'own-key'
  /** a decision about our own account's keys of a one-key-per-identity protocol (ATM-4, X16) */
  | 'ook-own-account'
  /** not newer than the last decision applied from this sender about this key (D-9, X5) */
  | 'replay'
  /** the ATM-UI3 confirmation hook said no */
  | 'vetoed'
  /** an automatic trust over a manual distrust under `manualDecisionsFinal` (D-10) */
  | 'manual-final'
  /**
   * an automatic trust of a key whose current distrust (manual, or from another endpoint's trust
   * message) was stored here at or after the trust message's SCE time (D-9 across senders)
   */
  | 'stale'

/** Why a whole message was ignored: a message-level discard, or the reason its first decision was skipped. */
export type IgnoreReason =
  | 'own-full-jid'
  | 'own-key'
  | 'plaintext'
  | 'wrong-usage'
  | 'unknown-encryption'
  | 'protocol-mismatch'
  | SkipReason

export interface SkippedDecision {
  readonly key: KeyRef
  readonly polarity: Polarity
  readonly reason: SkipReason
}

export interface ReceiveResult {
  /**
   * - `applied`: the sender key is authenticated and every decision was applied (or already held);
   * - `postponed`: the sender key is not authenticated yet; the decisions are kept (ATM-P1);
   * - `partially-applied`: some decisions were applied, others skipped (see `skipped`);
   * - `ignored`: nothing applied nor postponed (see `reason`);
   * - `rejected`: only from {@link Atm.handleTrustMessages}: the message threw `error` (where
   *   `handleTrustMessage` would have rejected with it) and nothing of it was stored.
   */
  readonly outcome: 'applied' | 'postponed' | 'partially-applied' | 'ignored' | 'rejected'
  readonly reason?: IgnoreReason
  /** with `outcome: 'rejected'`: the typed error (`LimitExceededError`, `InvalidKeyIdError`, …) */
  readonly error?: Error
  /** every key whose level changed (including released postponed decisions and TOAKAFA demotions) */
  readonly changes: readonly KeyRecord[]
  readonly postponed: readonly PostponedDecision[]
  /** postponed decisions the store evicted to stay under its cap */
  readonly evicted: readonly PostponedDecision[]
  readonly skipped: readonly SkippedDecision[]
  /** always empty (D-5): decisions applied from received messages are never re-broadcast */
  readonly outgoing: readonly OutgoingTrustMessage[]
}

export interface KeysDiscoveredResult {
  /** keys stored now (keys already stored keep their level: X12, ATM-P2) */
  readonly added: readonly KeyRecord[]
  /**
   * D-12: the trust messages to send because a new key inherited a decision made on this
   * endpoint about its twin (manual or URI; never one applied from a trust message, D-5):
   * ATM-S1 … S6 for that key, as if it had been known when the twin was decided. Usually empty.
   */
  readonly outgoing: readonly OutgoingTrustMessage[]
}

export interface AtmEvents {
  'level-changed': {
    readonly key: KeyRef
    readonly from: TrustLevel
    readonly to: TrustLevel
    readonly provenance: Provenance
    readonly at: number
    /**
     * Set when the change follows a decision about the same key pair in another protocol
     * (identity linking, D-12): the key that decision was about. The provenance is that decision's.
     */
    readonly linkedFrom?: KeyRef
  }
  'decision-postponed': { readonly decision: PostponedDecision }
  'postponed-applied': { readonly decision: PostponedDecision }
  'decision-vetoed': { readonly decision: PendingAutomaticDecision }
  'postponed-evicted': { readonly decision: PostponedDecision }
}

export type AtmEventName = keyof AtmEvents

export interface Atm {
  readonly account: BareJid
  /**
   * The policy this engine was created with, defaults filled in. `securityPolicy` is set only when
   * it was given explicitly; use {@link Atm.effectiveSecurityPolicy} for the one that applies.
   */
  readonly policy: ResolvedAtmPolicy
  /**
   * The security policy that applies to `encryption` now, with the engine's precedence: the
   * explicit `policy.securityPolicy`, else the store's `getSecurityPolicy(encryption)`, else
   * `toakafa` ({@link resolveSecurityPolicy}). Reads the store (outside a transaction, or through
   * `options.store`) only when no policy was given explicitly.
   */
  effectiveSecurityPolicy(
    encryption: EncryptionNamespace,
    options?: TransactionOptions,
  ): Promise<SecurityPolicy>
  /** Manually (or by URI) authenticates keys of `owner`; sends ATM-S1 … S4. */
  authenticate(
    encryption: EncryptionNamespace,
    owner: BareJid,
    keyIds: readonly KeyId[],
    origin?: DecisionOrigin,
    options?: TransactionOptions,
  ): Promise<DecisionResult>
  /** Manually (or by URI) distrusts keys of `owner`; sends ATM-S5, S6. */
  distrust(
    encryption: EncryptionNamespace,
    owner: BareJid,
    keyIds: readonly KeyId[],
    origin?: DecisionOrigin,
    options?: TransactionOptions,
  ): Promise<DecisionResult>
  /** Both at once, in one transaction (distrust wins for a key listed in both, D-8). */
  decide(input: DecisionInput, origin?: DecisionOrigin, options?: TransactionOptions): Promise<DecisionResult>
  /**
   * URI-3, URI-4, X15: applies a Trust Message URI after `confirm` said yes. With
   * `options.store`, the reads shown to `confirm` and the decision go through the caller's
   * transaction.
   */
  applyUri(uri: TrustUri, options: ApplyUriOptions): Promise<DecisionResult>
  /** ATM-R1 … R6, ATM-P1: applies or postpones a received, decrypted trust message. */
  handleTrustMessage(input: ReceivedTrustMessage, options?: TransactionOptions): Promise<ReceiveResult>
  /**
   * A batch (an archive catch-up page) in ONE store transaction, in order: the same results and
   * final state as `handleTrustMessage` once per message. A message that would make
   * `handleTrustMessage` reject gets `outcome: 'rejected'` (with `error`) and leaves nothing
   * stored (a savepoint); the others still apply. A `StoreError` rejects the whole batch and
   * nothing of it is stored. Events fire after the batch committed, in message order. With
   * `options.store` the batch is a savepoint of the caller's transaction, and a `StoreError`
   * rejects the call with the caller's transaction still open (the caller decides).
   */
  handleTrustMessages(
    inputs: readonly ReceivedTrustMessage[],
    options?: TransactionOptions,
  ): Promise<readonly ReceiveResult[]>
  /**
   * A device/key appeared (bundle fetch, key exchange, a decrypted message's `learnedKeys`):
   * stores the keys not stored yet at the level {@link levelForNewKey} gives them. The only path
   * by which a new key gets a level: backends report key ids and never set one.
   */
  keysDiscovered(
    encryption: EncryptionNamespace,
    owner: BareJid,
    keyIds: readonly KeyId[],
    options?: TransactionOptions,
  ): Promise<KeysDiscoveredResult>
  /** D-11: forgets that `owner` was ever authenticated, so TOAKAFA trusts its new keys again. */
  resetToakafa(encryption: EncryptionNamespace, owner: BareJid, options?: TransactionOptions): Promise<void>
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends AtmEventName>(event: E, listener: (payload: AtmEvents[E]) => void): () => void
}
