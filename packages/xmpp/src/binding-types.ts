/**
 * The binding's public types (`vouchXmpp`'s init, the `VouchXmpp` interface, its events and
 * their payloads, `SyncError`) and the context its parts share (`BindingContext`, internal).
 */
import type { Atm, DecisionResult, TrustUri, UriDecisionSummary } from '@vouch/atm'
import type { ReceiveLimits } from '@vouch/pipeline'
import type {
  AccountTrustStore,
  BareJid,
  EncryptionBackend,
  EncryptionNamespace,
  FullJid,
  KeyDirectory,
  KeyId,
  KeyRef,
  PepAccess,
  TrustLevel,
  UriSource,
} from '@vouch/tm-core'
import type { AtmPolicy } from '@vouch/atm'
import type { Client } from '@xmpp/client'
import type { ContactEvents, Contacts } from './roster.ts'
import type { DiscoInfo } from './xep0030-disco.ts'

/** Why {@link VouchXmpp.synced} gave up. */
export type SyncFailure = 'failed' | 'disconnected' | 'closed' | 'timeout'

/**
 * The session start (Carbons, presence, key publication, MAM catch-up) did not finish:
 * `failed` (an IQ failed or timed out; see `cause`), `disconnected` (the connection was lost or
 * stopped first), `closed` (the binding was closed) or `timeout`.
 */
export class SyncError extends Error {
  override readonly name = 'SyncError'
  readonly reason: SyncFailure
  constructor(reason: SyncFailure, message: string, options?: ErrorOptions) {
    super(message, options)
    this.reason = reason
  }
}

/** Where a copy of a message came from. */
export type MessageSource = 'live' | 'carbon-sent' | 'carbon-received' | 'archive'

export interface VouchXmppInit {
  /** the account's trust store view (`store.forAccount(account)`) */
  readonly store: AccountTrustStore
  /** the encryption backends (built over {@link store}), the first one is the chat default */
  readonly backends: readonly EncryptionBackend[]
  /** PEP key announcement per backend: the directories the backend packages ship (their `./pep` export) */
  readonly keyDirectories?: readonly KeyDirectory[]
  /** ATM policy (STYLE rule 9); default: the engine's safe defaults */
  readonly policy?: Partial<AtmPolicy>
  /**
   * D-7: the fallback body of EVERY encrypted message (chat and trust messages alike), or
   * `null` for none. Default: the backend's usual text (`backendFallback`), else none.
   */
  readonly fallbackBody?: string | null
  /** XEP-0380 human-readable names per namespace */
  readonly encryptionNames?: Readonly<Record<string, string>>
  /** MAM page size (RSM `<max/>`); default 50 */
  readonly mamPageSize?: number
  /** MAM pages per catch-up at most; default 200 */
  readonly mamMaxPages?: number
  /** processed stanza ids kept; default 5000 */
  readonly maxProcessedIds?: number
  /**
   * Caps on a message's encrypted elements (`@vouch/pipeline` `ReceiveLimits`: elements inside
   * one, one per protocol); default `DEFAULT_RECEIVE_LIMITS`. The caps on the stanza itself are
   * the connection's (`createClient`'s `stanzaLimits`).
   */
  readonly receiveLimits?: Partial<ReceiveLimits>
  /** XEP-0115 node; default `https://github.com/vouch/vouch` */
  readonly capsNode?: string
  /** the clock; default `() => new Date()` */
  readonly now?: () => Date
  /**
   * How far before the clock a server stamp (offline `<delay/>` from our server, our archive's
   * stamp) may set the reference time of the freshness checks, in seconds; default 30 days.
   * The sender's own `<delay/>` never counts (see `reference-time.ts`).
   */
  readonly maxStampAgeSeconds?: number
  /** how long `synced()` waits at most, in ms; default 60000 */
  readonly syncTimeoutMs?: number
  /**
   * RFC 6121 §3.1: approve every incoming presence subscription request (`true`), or decide per
   * requester; default: ask the app through `subscription-request` (unanswered requests wait).
   */
  readonly autoApproveSubscriptions?: boolean | ((from: BareJid) => boolean)
}

/** A decrypted message for the app (chat). */
export interface ReceivedChat {
  readonly id: string | undefined
  readonly from: FullJid | BareJid
  readonly to: FullJid | BareJid
  /** the conversation partner (the other side, for sent copies too) */
  readonly peer: BareJid
  readonly direction: 'incoming' | 'outgoing'
  readonly body: string
  readonly encryption: EncryptionNamespace
  readonly senderKey: KeyId | undefined
  /** trust level of the sender key now */
  readonly trustLevel: TrustLevel
  readonly time: Date
  readonly source: MessageSource
  /**
   * Which protected affixes the message carried, when its protocol has an envelope (SCE:
   * `<rpad/>`, `<time/>`, `<from/>`, `<to/>`): a chat may lack the optional ones (XEP-0384 v0.9.1's
   * SCE profile; Converse.js sends no `<time/>`), and then `time` is our reference time.
   */
  readonly affixes?: {
    readonly rpad: boolean
    readonly time: boolean
    readonly from: boolean
    readonly to: boolean
  }
}

export interface VouchXmppEvents {
  /** an encrypted chat message was decrypted (with its sender key and that key's trust level) */
  message: ReceivedChat
  /** a key list changed (PEP announcement, fetch) */
  'keys-changed': {
    readonly encryption: EncryptionNamespace
    readonly owner: BareJid
    readonly keys: readonly KeyId[]
  }
  /** a key's trust level changed (manual, URI, ATM, policy) */
  'trust-changed': { readonly key: KeyRef; readonly from: TrustLevel; readonly to: TrustLevel }
  /** ATM-UI3: an automatic decision waits for the user (call `answer`) */
  'confirmation-needed': {
    readonly key: KeyRef
    readonly to: TrustLevel
    readonly senderJid: BareJid
    readonly answer: (accept: boolean) => void
  }
  /** a received trust message was handled by the engine */
  'trust-message': {
    readonly from: string
    readonly outcome: string
    readonly reason: string | undefined
    readonly source: MessageSource
  }
  /** a trust message was encrypted and handed to the connection */
  'trust-message-sent': { readonly to: BareJid; readonly id: string; readonly recipients: readonly KeyRef[] }
  /** a copy already processed was dropped (XEP-0359 ids) */
  duplicate: { readonly keys: readonly string[]; readonly source: MessageSource }
  /**
   * A received message failed a check (decryption, signature, time window, addresses, trust
   * message rules, the caps on received input: `STANZA-*` for a stanza the parser did not build,
   * `ENCRYPTED-*`): it is never dropped silently. `rule` is the error's rule id (else its name).
   * `held`: it is kept and received again once a new key of the sender arrives (see `held.ts`);
   * `keysError`: why the sender's keys could not be fetched (e.g. {@link KeysNotVisibleError});
   * `final`: a held message given up after its last retry.
   */
  rejected: {
    readonly from: string
    readonly sender: BareJid | undefined
    readonly rule: string
    readonly error: Error
    readonly source: MessageSource
    /** our archive's id of the message (archived copies), else `undefined` */
    readonly archiveId: string | undefined
    readonly held: boolean
    readonly keysError?: Error
    readonly final?: boolean
  }
  /**
   * A received message not addressed to this device that carries nothing to read: the backend
   * flagged its `DecryptionError` `nothingToRead` (an OMEMO empty message, i.e. a session answer,
   * heartbeat or key transport, encrypted only for another device; it reaches this one through
   * Carbons or the archive). Nothing of it is lost, so it is not `rejected`: not held, not retried,
   * no trust state changed, recorded as processed like any received copy. A message with content
   * this device cannot read is still `rejected`. `rule`: the backend's rule id (`OMEMO-NOT-FOR-US`,
   * `OMEMO03-NOT-FOR-US`); `reason`: the error's message.
   */
  skipped: {
    readonly from: string
    readonly sender: BareJid | undefined
    readonly rule: string
    readonly reason: string
    readonly source: MessageSource
    /** our archive's id of the message (archived copies), else the stanza-id our server gave it */
    readonly archiveId: string | undefined
  }
  /** an announced key cannot be used (not a key, wrong user id, expired, revoked, …) */
  'key-unusable': {
    readonly encryption: EncryptionNamespace
    readonly owner: BareJid
    readonly key: string
    readonly reason: string
  }
  /** RFC 6121: somebody asks to be our contact (call `approve` or `refuse`) */
  'subscription-request': ContactEvents['subscription-request']
  /** RFC 6121: a contact answered our request (on approval, its keys are fetched) */
  'subscription-answer': ContactEvents['subscription-answer']
  /** RFC 6121: a roster item changed */
  'contact-changed': ContactEvents['contact-changed']
  /** MAM catch-up finished */
  synced: { readonly pages: number; readonly messages: number }
  /**
   * The server no longer knows the last archive id we saw (it lost or expired its archive): the
   * catch-up went on by time from `since`, and messages archived before may be missing.
   */
  'history-incomplete': { readonly lostArchiveId: string; readonly since: Date }
  /** an error in background work (catch-up, publishing, sending the outbox) */
  error: Error
}

export type VouchXmppEventName = keyof VouchXmppEvents

export interface SentMessage {
  readonly id: string
  readonly recipients: readonly KeyRef[]
  /** the protocol it was encrypted with (chosen by `chooseChatProtocol` unless the caller named one) */
  readonly encryption: EncryptionNamespace
  /**
   * Endpoints (device ids) of the contact that another backend announces but the chosen one does
   * not: they cannot read this message (never silently fewer devices; README "Sending chat
   * messages"). Empty when every announced endpoint is reached.
   */
  readonly unreached: readonly string[]
}

export interface VouchXmpp {
  readonly account: BareJid
  readonly atm: Atm
  readonly backends: ReadonlyMap<EncryptionNamespace, EncryptionBackend>
  /** the disco#info we answer (features of the active backends and their `+notify`) */
  discoInfo(): DiscoInfo
  /**
   * XEP-0374 chat: encrypts `text` for `to`'s keys at the accepted levels and ours, with
   * `options.encryption`, or else the backend `chooseChatProtocol` picks (the first in preference
   * order that reaches every announced endpoint of `to`; README "Sending chat messages").
   */
  sendChat(
    to: BareJid,
    text: string,
    options?: { readonly encryption?: EncryptionNamespace },
  ): Promise<SentMessage>
  /**
   * XEP-0384 (v0.9 §6, "clients MUST offer a way to manually replace broken sessions"): new
   * sessions with `owner`'s devices in `encryption` (every key of `owner` that is not distrusted;
   * our own account: our other devices), each on the device's current bundle and announced with an
   * empty message carrying the key exchange. For the user's request only: never call it in
   * reaction to a decryption error (XEP-0384 v0.9 §8). Resolves to the keys whose session was
   * replaced; rejects when the protocol's key directory has no sessions to replace (OX).
   */
  replaceSessions(encryption: EncryptionNamespace, owner: BareJid): Promise<readonly KeyRef[]>
  /** Manual authentication (ATM-S1 … S4): applied, then the resulting trust messages are sent. */
  authenticate(
    encryption: EncryptionNamespace,
    owner: BareJid,
    keyIds: readonly KeyId[],
  ): Promise<DecisionResult>
  /** Manual distrust (ATM-S5, S6). */
  distrust(encryption: EncryptionNamespace, owner: BareJid, keyIds: readonly KeyId[]): Promise<DecisionResult>
  /** URI-3, URI-4: applies a Trust Message URI after `confirm`, fetching the owner's keys first. */
  applyUri(
    uri: TrustUri,
    options: { readonly uriSource: UriSource; readonly confirm: (s: UriDecisionSummary) => Promise<boolean> },
  ): Promise<DecisionResult>
  /** Fetches `owner`'s announced keys (PEP), imports them and registers them with the engine. */
  refreshKeys(owner: BareJid, encryption?: EncryptionNamespace): Promise<readonly KeyId[]>
  /** Publishes our own keys (PEP); also done after every fresh session. */
  publishKeys(): Promise<void>
  /** Catches up from MAM now (also done after every fresh session). */
  catchUp(): Promise<{ pages: number; messages: number }>
  /** Sends the trust messages still in the outbox. */
  flushOutbox(): Promise<number>
  /** Resolves when all received stanzas handed to the binding so far are processed. */
  idle(): Promise<void>
  /**
   * Resolves after the next MAM catch-up (or at once if one finished since the last connect).
   * Rejects with {@link SyncError} when that catch-up fails, the connection is lost or stopped
   * before it finished, the binding is closed, or after `timeoutMs` (default `syncTimeoutMs`).
   * A rejection nobody awaits is not reported as unhandled (call it before `startClient`).
   */
  synced(options?: { readonly timeoutMs?: number }): Promise<void>
  readonly pep: PepAccess
  /** RFC 6121 roster and presence subscriptions (contacts may read contacts-only key nodes) */
  readonly contacts: Contacts
  on<E extends VouchXmppEventName>(event: E, listener: (payload: VouchXmppEvents[E]) => void): () => void
  /** Stops listening (the connection itself is the caller's). */
  close(): void
}

/**
 * What the parts of the binding (`receive.ts`, `keys.ts`, `outbox.ts`, `catch-up.ts`) share:
 * the connection, the init, the account, the clock, the backends and key directories by
 * namespace, and the event emitter. Internal: built once by `vouchXmpp`.
 */
export interface BindingContext {
  readonly xmpp: Client
  readonly init: VouchXmppInit
  readonly account: BareJid
  readonly now: () => Date
  readonly backends: ReadonlyMap<EncryptionNamespace, EncryptionBackend>
  readonly directories: ReadonlyMap<EncryptionNamespace, KeyDirectory>
  /** `init.maxStampAgeSeconds` or its default */
  readonly maxStampAgeSeconds: number
  readonly pep: PepAccess
  emit<E extends VouchXmppEventName>(event: E, payload: VouchXmppEvents[E]): void
  /** reports a background failure as `error` */
  fail(e: unknown): void
}
