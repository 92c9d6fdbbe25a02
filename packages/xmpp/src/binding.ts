/**
 * The binding: plugs the ATM engine, the trust store and the encryption backends into one
 * `@xmpp/client` connection (xmpp.js style: middleware, iqCaller/iqCallee, no second stack).
 *
 * After every fresh session: Carbons (XEP-0280), presence with caps (XEP-0115, so the server
 * learns our `+notify` features), own keys published to PEP, MAM catch-up (XEP-0313, paged, from
 * the last archive id seen), then the outbox. After a resumed session (XEP-0198): the outbox.
 *
 * `synced()` always settles: it resolves when a catch-up finished and rejects with
 * {@link SyncError} when that catch-up failed, the connection was lost or stopped first, the
 * binding was closed, or nothing finished within the timeout.
 */
import type {
  Atm,
  AtmPolicy,
  DecisionResult,
  OutgoingTrustMessage,
  TrustUri,
  UriDecisionSummary,
} from '@vouch/atm'
import { createAtm } from '@vouch/atm'
import type {
  AccountTrustStore,
  BareJid,
  EncryptionBackend,
  EncryptionNamespace,
  EncryptOptions,
  FullJid,
  KeyDirectory,
  PepAccess,
  KeyId,
  KeyRef,
  TrustLevel,
  UriSource,
} from '@vouch/tm-core'
import {
  encryptedMessageStanza,
  isStoreFailure,
  parseXml,
  serializeTrustMessage,
  UntrustedKeyError,
} from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import xml, { type Element } from '@xmpp/xml'
import {
  chooseEncrypted,
  type EncryptedCandidate,
  type ReceiveLimits,
  type ReceiveOutcome,
  type ReceivedCopy,
  receivePipeline,
} from '@vouch/pipeline'
import { type ChatProtocolChoice, chooseChatProtocol } from './chat-protocol.ts'
import { pepAccess } from './key-directory.ts'
import { DEFAULT_MAX_STAMP_AGE_SECONDS, referenceTime } from './reference-time.ts'
import {
  addToOutbox,
  getLastArchiveId,
  getLastArchiveStamp,
  type OutboxEntry,
  readOutbox,
  removeFromOutbox,
  setArchivePosition,
} from './state.ts'
import { capsElement, type DiscoInfo, discoResponder } from './xep0030-disco.ts'
import { notifyFeature, readPepEvent } from './xep0060-pep.ts'
import { enableCarbons, unwrapCarbon } from './xep0280-carbons.ts'
import { type MamClient, type MamPage, mamClient } from './xep0313-mam.ts'
import { dedupKeys, originIdElement, stanzaIdBy } from './xep0359-ids.ts'
import { fixStreamManagementCounter } from './xep0198-sm.ts'
import { stanzaLimitError } from './stream-parser.ts'
import { bareOf, child, childElements, randomId } from './util.ts'
import {
  type ContactEvents,
  type Contacts,
  contactsOf,
  isAccessDenied,
  KeysNotVisibleError,
  seesContact,
} from './roster.ts'
import { holdMessage, MAX_ATTEMPTS, newKeyArrived, readHeld, releaseHeld } from './held.ts'

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
   * message rules): it is never dropped silently. `rule` is the error's rule id (else its name).
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

const DEFAULT_CAPS_NODE = 'https://github.com/vouch/vouch'

/**
 * Installs the binding on `xmpp` (before `xmpp.start()`). The account is taken from the
 * store's `account`.
 */
export function vouchXmpp(xmpp: Client, init: VouchXmppInit): VouchXmpp {
  const account = init.store.account
  const now = init.now ?? (() => new Date())
  const backends = new Map<EncryptionNamespace, EncryptionBackend>()
  for (const b of init.backends) backends.set(b.namespace, b)
  const directories = new Map<EncryptionNamespace, KeyDirectory>()
  for (const d of init.keyDirectories ?? []) directories.set(d.namespace, d)
  const mamPageSize = init.mamPageSize ?? 50
  const mamMaxPages = init.mamMaxPages ?? 200
  const maxProcessed = init.maxProcessedIds ?? 5000
  const capsNode = init.capsNode ?? DEFAULT_CAPS_NODE
  const syncTimeoutMs = init.syncTimeoutMs ?? 60_000
  const maxStampAgeSeconds = init.maxStampAgeSeconds ?? DEFAULT_MAX_STAMP_AGE_SECONDS
  fixStreamManagementCounter(xmpp)
  const pep = pepAccess(xmpp)
  const mam: MamClient = mamClient(xmpp, account)

  // ---- events
  const listeners = new Map<string, Set<(p: unknown) => void>>()
  function emit<E extends VouchXmppEventName>(event: E, payload: VouchXmppEvents[E]): void {
    for (const l of listeners.get(event) ?? []) {
      try {
        l(payload)
      } catch {
        // a listener's failure is its own
      }
    }
  }
  const fail = (e: unknown): void => emit('error', e instanceof Error ? e : new Error(String(e)))
  const roster = contactsOf(xmpp, {
    account,
    ...(init.autoApproveSubscriptions === undefined ? {} : { autoApprove: init.autoApproveSubscriptions }),
    emit: (event, payload) => {
      emit(event, payload as never)
      // our request was approved: the contact's contacts-only keys are readable now
      if (event === 'subscription-answer' && (payload as ContactEvents['subscription-answer']).approved)
        void enqueue(() =>
          refreshKeys((payload as ContactEvents['subscription-answer']).from).then(() => undefined),
        )
    },
    fail,
  })

  // ---- the engine and the receive pipeline (every call that must join a transaction takes it)
  const atm = createAtm({
    account,
    store: init.store,
    // D-12: the order is the carrier preference; keyLinks link one key pair's ids across protocols
    backends: init.backends.map((b) => ({
      namespace: b.namespace,
      capabilities: b.capabilities,
      ...(b.keyLinks === undefined ? {} : { keyLinks: b.keyLinks }),
    })),
    ...(init.policy === undefined ? {} : { policy: init.policy }),
    now: () => now().getTime(),
    confirm: (d) =>
      new Promise<boolean>((resolve) => {
        if ((listeners.get('confirmation-needed')?.size ?? 0) === 0) return resolve(false)
        emit('confirmation-needed', { key: d.key, to: d.to, senderJid: d.senderJid, answer: resolve })
      }),
  })
  const pipeline = receivePipeline({
    store: init.store,
    atm,
    backends: init.backends,
    maxProcessedIds: maxProcessed,
    ...(init.receiveLimits === undefined ? {} : { limits: init.receiveLimits }),
  })
  const offAtm = atm.on('level-changed', (e) => emit('trust-changed', { key: e.key, from: e.from, to: e.to }))

  // ---- disco + caps
  function discoInfo(): DiscoInfo {
    const features = new Set<string>([
      'http://jabber.org/protocol/disco#info',
      'urn:xmpp:hints',
      'urn:xmpp:sid:0',
    ])
    for (const b of backends.values()) {
      features.add(b.namespace)
      for (const f of b.capabilities.discoFeatures ?? []) features.add(f)
    }
    for (const d of directories.values()) {
      for (const n of d.notifyNodes) features.add(notifyFeature(n))
    }
    return { identities: [{ category: 'client', type: 'pc', name: 'Vouch' }], features: [...features] }
  }
  discoResponder(xmpp, discoInfo, capsNode)

  // ---- serial processing of received stanzas
  let queue: Promise<void> = Promise.resolve()
  function enqueue(task: () => Promise<void>): Promise<void> {
    const run = queue.then(task).catch(fail)
    queue = run
    return run
  }

  let caughtUp = false
  /**
   * Set when applying a received message failed in the store: the archive pointer then stays
   * where it is (before that message) until a catch-up has read the archive again.
   */
  let holdArchivePointer = false
  interface SyncWaiter {
    resolve(): void
    reject(e: SyncError): void
  }
  const syncWaiters = new Set<SyncWaiter>()
  function settleWaiters(error?: SyncError): void {
    const waiters = [...syncWaiters]
    syncWaiters.clear()
    for (const w of waiters) {
      if (error === undefined) w.resolve()
      else w.reject(error)
    }
  }
  function synced(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    if (caughtUp) return Promise.resolve()
    const timeoutMs = options.timeoutMs ?? syncTimeoutMs
    const p = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        syncWaiters.delete(waiter)
        reject(new SyncError('timeout', `the MAM catch-up did not finish within ${timeoutMs} ms`))
      }, timeoutMs)
      const waiter: SyncWaiter = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      syncWaiters.add(waiter)
    })
    p.catch(() => undefined)
    return p
  }

  /**
   * Our own sent message read back (from the archive) on the very device that sent it, in
   * protocols that never encrypt for the sending device (`encryptsToSelf: false`, OMEMO): it is
   * not a received message and cannot be read, so it is neither decrypted, nor held, nor reported
   * as rejected. A copy sent by another of our devices is received as usual.
   */
  function isOwnUnreadableCopy(message: Element): boolean {
    const self = xmpp.jid?.toString()
    if (self === undefined || String(message.attrs.from ?? '') !== self) return false
    const protocols = childElements(message).flatMap((c) => {
      const b = backends.get(String(c.attrs.xmlns ?? ''))
      return b === undefined ? [] : [b]
    })
    return protocols.length > 0 && protocols.every((b) => b.capabilities.encryptsToSelf === false)
  }

  /**
   * The encrypted element of `message` the pipeline tries first (`chooseEncrypted`: the most
   * preferred backend's, whose failure the outcome reports): the one whose sender keys are
   * fetched before, refreshed for a retry, and waited for when the message is held.
   */
  function chosenEncrypted(message: Element): EncryptedCandidate | undefined {
    return chooseEncrypted(childElements(message), init.backends)[0]
  }

  async function ensureKeys(enc: EncryptionNamespace, owner: BareJid): Promise<void> {
    const backend = backends.get(enc)
    if (backend === undefined) return
    if ((await backend.keysOf(owner)).length > 0) return
    await refreshKeys(owner, enc)
  }

  /** One received copy of a message, and where it came from. */
  interface Incoming {
    readonly message: Element
    readonly source: MessageSource
    /** our archive's id of an archived copy */
    readonly archiveId?: string
    /** our archive's stamp of an archived copy */
    readonly stamp?: Date | undefined
  }

  /** The pipeline's view of a copy: its encrypted element, addresses, dedup keys, our reference time. */
  function copyOf(inc: Incoming): ReceivedCopy {
    const { message } = inc
    const from = String(message.attrs.from ?? '') as FullJid
    const to = String(message.attrs.to ?? account) as FullJid
    const sentByUs = (bareOf(from) ?? account) === account
    return {
      // every encrypted element we have a backend for: the pipeline decrypts exactly one of them
      // (Converse.js may send OMEMO 2 and OMEMO 0.3 side by side)
      encrypted: childElements(message).filter((c) =>
        backends.has(String(c.attrs.xmlns ?? '') as EncryptionNamespace),
      ),
      ...(message.attrs.type === 'groupchat' ? { groupChat: true } : {}),
      from,
      to,
      dedupKeys: dedupKeys(message, account, inc.archiveId),
      referenceTime: referenceTime({
        clock: now(),
        account,
        archiveStamp: inc.stamp,
        message,
        maxStampAgeSeconds,
      }),
      ...(sentByUs ? { expectedTo: bareOf(to) ?? account } : {}),
    }
  }

  /** Where the archive pointer moves when a batch commits. */
  interface ArchivePosition {
    readonly id: string
    readonly stamp: Date
  }

  /**
   * Receives `batch` (one live copy, or one MAM page) through the receive pipeline, in ONE
   * transaction together with the archive pointer's move to `position`. A store failure rolls
   * the whole batch back and holds the archive pointer where it was, so the next catch-up reads
   * it again. Copies whose decryption a key refresh may cure are received again one by one after
   * the refresh (outside the transaction: it uses the network). Events go out after the commit.
   */
  async function receiveBatch(
    received: readonly Incoming[],
    position?: ArchivePosition,
    allowRetry = true,
    keysError?: Error,
  ): Promise<void> {
    const batch = received.filter((inc) => !isOwnUnreadableCopy(inc.message))
    const senders = new Map<string, { enc: EncryptionNamespace; owner: BareJid }>()
    for (const inc of batch) {
      const enc = chosenEncrypted(inc.message)
      const owner = bareOf(inc.message.attrs.from as string | undefined)
      if (enc !== undefined && owner !== undefined && owner !== account)
        senders.set(`${enc.backend.namespace} ${owner}`, { enc: enc.backend.namespace, owner })
    }
    for (const s of senders.values()) await ensureKeys(s.enc, s.owner).catch(() => undefined)

    let outcomes: readonly ReceiveOutcome[]
    const copies = batch.map(copyOf)
    try {
      outcomes = await pipeline.receive(copies, {
        allowRetry,
        ...(position === undefined
          ? {}
          : { commit: (tx: AccountTrustStore) => setArchivePosition(tx, position.id, position.stamp) }),
      })
    } catch (e) {
      if (isStoreFailure(e)) holdArchivePointer = true
      throw e
    }

    const retries: Incoming[] = []
    for (const [i, o] of outcomes.entries()) {
      const inc = batch[i] as Incoming
      const source = inc.source
      const from = String(inc.message.attrs.from ?? '')
      if (o.kind === 'duplicate') emit('duplicate', { keys: o.keys, source })
      else if (o.kind === 'rejected') {
        const held =
          !allowRetry && (await holdIfKeyMayCure(inc, o.error, copies[i] as ReceivedCopy, keysError))
        emitRejected(inc, o.error, held, keysError)
      } else if (o.kind === 'retry') retries.push(inc)
      else if (o.kind === 'trust')
        emit('trust-message', { from, outcome: o.result.outcome, reason: o.result.reason, source })
      else if (o.kind === 'chat') emit('message', chatOf(inc, o))
    }
    for (const inc of retries) await receiveAfterRefresh(inc)
    if (retries.length > 0 && position !== undefined && !holdArchivePointer)
      await setArchivePosition(init.store, position.id, position.stamp)
    if (allowRetry) await afterMessages(batch)
  }

  function chatOf(inc: Incoming, o: Extract<ReceiveOutcome, { kind: 'chat' }>): ReceivedChat {
    const from = String(inc.message.attrs.from ?? '')
    const to = String(inc.message.attrs.to ?? account)
    const sentByUs = (bareOf(from) ?? account) === account
    return {
      id: inc.message.attrs.id as string | undefined,
      from: from as FullJid,
      to: to as FullJid,
      peer: sentByUs ? (bareOf(to) ?? account) : (bareOf(from) ?? account),
      direction: sentByUs ? 'outgoing' : 'incoming',
      body: o.body.text(),
      encryption: o.content.carrier,
      senderKey: o.content.signed ? o.content.senderKey : undefined,
      trustLevel: o.trustLevel,
      time: o.time,
      source: inc.source,
      ...(o.content.affixes === undefined ? {} : { affixes: o.content.affixes }),
    }
  }

  /** A copy the sender's known keys could not decrypt: refresh them once, then receive it again. */
  async function receiveAfterRefresh(inc: Incoming): Promise<void> {
    const enc = chosenEncrypted(inc.message)
    const owner = bareOf(inc.message.attrs.from as string | undefined)
    let keysError: Error | undefined
    if (enc !== undefined && owner !== undefined)
      await refreshKeys(owner, enc.backend.namespace).catch((e: unknown) => {
        keysError = e instanceof Error ? e : new Error(String(e))
      })
    await receiveBatch([inc], undefined, false, keysError)
  }

  /**
   * A copy rejected after the refresh of its sender's keys, for a reason a key may cure (the
   * pipeline's `DecryptionError`) while the keys are what is missing (the refresh failed, e.g.
   * contacts-only keys, or the sender has no usable key): held until a new key of the sender
   * arrives (`held.ts`). A failure with the sender's keys at hand (tampered, stale) is not held.
   */
  async function holdIfKeyMayCure(
    inc: Incoming,
    error: Error,
    copy: ReceivedCopy,
    keysError: Error | undefined,
  ): Promise<boolean> {
    const enc = chosenEncrypted(inc.message)
    const sender = bareOf(inc.message.attrs.from as string | undefined)
    if (error.name !== 'DecryptionError' || enc === undefined || sender === undefined || sender === account)
      return false
    // only when the sender's keys are what is missing: none could be fetched, or none is known
    const knownKeys = await enc.backend.keysOf(sender)
    if (keysError === undefined && knownKeys.length > 0) return false
    await holdMessage(init.store, {
      sender,
      encryption: enc.backend.namespace,
      xml: inc.message.toString(),
      source: inc.source,
      archiveId: inc.archiveId,
      referenceTime: copy.referenceTime.toISOString(),
      knownKeys,
      attempts: 0,
    })
    return true
  }

  /**
   * Receives again the held messages of `sender` a new key may now open (bounded: `held.ts`).
   * One retry at a time (a key refresh by the app and a PEP notification may both ask), so a held
   * message is never received twice.
   */
  let heldChain: Promise<void> = Promise.resolve()
  function retryHeld(sender: BareJid): Promise<void> {
    const run = heldChain.then(() => retryHeldNow(sender))
    heldChain = run.catch(() => undefined)
    return run
  }
  async function retryHeldNow(sender: BareJid): Promise<void> {
    const floor = now().getTime() - maxStampAgeSeconds * 1000
    for (const h of await readHeld(init.store, sender)) {
      const backend = backends.get(h.encryption)
      if (backend === undefined || Date.parse(h.referenceTime) < floor) {
        await releaseHeld(init.store, h.seq)
        continue
      }
      if (!newKeyArrived(h, await backend.keysOf(sender))) continue
      const inc: Incoming = {
        message: parseXml(h.xml),
        source: h.source,
        ...(h.archiveId === undefined ? {} : { archiveId: h.archiveId }),
      }
      // no dedup keys: the first copy marked them processed; the release commits with this receipt
      const copy: ReceivedCopy = { ...copyOf(inc), dedupKeys: [], referenceTime: new Date(h.referenceTime) }
      const [o] = await pipeline.receive([copy], { commit: (tx) => releaseHeld(tx, h.seq) })
      if (o === undefined) continue
      if (o.kind === 'rejected') {
        const attempts = h.attempts + 1
        const final = attempts >= MAX_ATTEMPTS
        if (!final) {
          const { seq: _seq, ...rest } = h
          await holdMessage(init.store, { ...rest, knownKeys: await backend.keysOf(sender), attempts })
        } else emitRejected(inc, o.error, false, undefined, true)
      } else if (o.kind === 'trust') {
        const from = String(inc.message.attrs.from ?? '')
        emit('trust-message', {
          from,
          outcome: o.result.outcome,
          reason: o.result.reason,
          source: inc.source,
        })
      } else if (o.kind === 'chat') emit('message', chatOf(inc, o))
    }
  }

  function emitRejected(
    inc: Incoming,
    error: Error,
    held: boolean,
    keysError?: Error,
    final?: boolean,
  ): void {
    emit('rejected', {
      from: String(inc.message.attrs.from ?? ''),
      sender: bareOf(inc.message.attrs.from as string | undefined),
      rule:
        (error as { rule?: unknown }).rule !== undefined
          ? String((error as { rule?: unknown }).rule)
          : error.name,
      error,
      source: inc.source,
      // an archived copy's MAM id; a live copy's is the stanza-id our server gave it (XEP-0359)
      archiveId: inc.archiveId ?? stanzaIdBy(inc.message, account),
      held,
      ...(keysError === undefined ? {} : { keysError }),
      ...(final === undefined ? {} : { final }),
    })
  }

  /** The directories' work after messages of their protocol (OMEMO: empty answers, bundle refill). */
  async function afterMessages(batch: readonly Incoming[]): Promise<void> {
    // every protocol the messages were encrypted in: whichever of them the pipeline decrypted
    const seen = new Set<EncryptionNamespace>()
    for (const inc of batch)
      for (const c of chooseEncrypted(childElements(inc.message), init.backends))
        seen.add(c.backend.namespace)
    for (const ns of seen) {
      const d = directories.get(ns)
      if (d?.afterMessage !== undefined) await d.afterMessage(pep, (stanza) => xmpp.send(stanza)).catch(fail)
    }
  }

  async function handlePepEvent(message: Element): Promise<void> {
    const from = bareOf(message.attrs.from as string | undefined) ?? account
    const event = readPepEvent(message, from)
    if (event === undefined) return
    for (const d of directories.values()) {
      if (!d.notifyNodes.includes(event.node)) continue
      const changed = await d.onNotification(event, pep, unusableReporter(d.namespace))
      if (changed !== undefined) await keysChanged(d.namespace, changed.owner, changed.keys)
    }
  }

  async function keysChanged(enc: EncryptionNamespace, owner: BareJid, ids: readonly KeyId[]): Promise<void> {
    if (ids.length > 0) await atm.keysDiscovered(enc, owner, ids)
    emit('keys-changed', { encryption: enc, owner, keys: ids })
    if (ids.length > 0) await retryHeld(owner)
  }

  const unusableReporter = (encryption: EncryptionNamespace) => ({
    onUnusableKey: (k: { owner: BareJid; key: string; reason: string }) =>
      emit('key-unusable', { encryption, owner: k.owner, key: k.key, reason: k.reason }),
  })

  /** A key node that refuses us (`forbidden`): why, from the roster (a contacts-only node). */
  async function keysNotVisible(owner: BareJid, enc: EncryptionNamespace, e: unknown): Promise<unknown> {
    if (!isAccessDenied(e)) return e
    const c = await roster.contacts.get(owner).catch(() => undefined)
    const reason = seesContact(c) ? 'not-allowed' : c?.pending === true ? 'approval-pending' : 'not-a-contact'
    return new KeysNotVisibleError(owner, enc, reason, { cause: e })
  }

  const isPepEvent = (m: Element): boolean =>
    child(m, 'event', 'http://jabber.org/protocol/pubsub#event') !== undefined

  // Live stanzas (MAM results are taken earlier by the MAM client's middleware).
  xmpp.middleware.use((ctx, next) => {
    const stanza = ctx.stanza
    if (stanza.name !== 'message' || stanza.attrs.type === 'error') return next()
    if (isPepEvent(stanza)) {
      void enqueue(() => handlePepEvent(stanza))
      return undefined
    }
    const carbon = unwrapCarbon(stanza, account)
    if (carbon === null) return undefined // forged carbon (XEP-0280 §11)
    if (carbon !== undefined) {
      const src: MessageSource = carbon.direction === 'sent' ? 'carbon-sent' : 'carbon-received'
      void enqueue(() => receiveBatch([{ message: carbon.message, source: src }]))
      return undefined
    }
    if (chosenEncrypted(stanza) === undefined) return next()
    void enqueue(() => {
      // while caught up, the live stream continues the archive: the pointer moves with it
      const sid = stanzaIdBy(stanza, account)
      const position =
        caughtUp && !holdArchivePointer && sid !== undefined ? { id: sid, stamp: now() } : undefined
      return receiveBatch([{ message: stanza, source: 'live' }], position)
    })
    return undefined
  })

  // ---- catch-up
  /**
   * Reads the archive after the last id seen, a page at a time, each page received in one
   * transaction together with the pointer after it. When the server no longer knows that id
   * (`item-not-found`: it lost or expired its archive), catches up by time from the last stamp
   * stored instead (at most `maxStampAgeSeconds` back) and emits `history-incomplete`.
   */
  async function catchUp(): Promise<{ pages: number; messages: number }> {
    holdArchivePointer = false
    let after = await getLastArchiveId(init.store)
    let start: Date | undefined
    let pages = 0
    let messages = 0
    for (;;) {
      let page: MamPage
      try {
        page = await mam.queryPage({
          max: mamPageSize,
          ...(after === undefined ? {} : { after }),
          ...(start === undefined ? {} : { start }),
        })
      } catch (e) {
        if (pages > 0 || after === undefined || start !== undefined || !isItemNotFound(e)) throw e
        const floor = new Date(now().getTime() - maxStampAgeSeconds * 1000)
        const stamp = await getLastArchiveStamp(init.store)
        start = stamp === undefined || stamp < floor ? floor : stamp
        emit('history-incomplete', { lostArchiveId: after, since: start })
        after = undefined
        continue
      }
      pages++
      messages += page.messages.length
      const batch = page.messages
        .filter((m) => !isPepEvent(m.message))
        .map((m): Incoming => ({ message: m.message, source: 'archive', archiveId: m.id, stamp: m.stamp }))
      const lastStamp = page.messages.at(-1)?.stamp ?? now()
      const position = page.last === undefined ? undefined : { id: page.last, stamp: lastStamp }
      await enqueue(() => receiveBatch(batch, position))
      // a message of this page could not be stored: the pointer stays before the page, so the
      // next catch-up reads it again
      if (holdArchivePointer) break
      if (page.last !== undefined) after = page.last
      if (page.complete || page.messages.length === 0 || pages >= mamMaxPages) break
    }
    return { pages, messages }
  }

  // ---- sending
  /**
   * The fallback `<body/>`: none where the protocol forbids one (`fallbackBody: null`, e.g.
   * XEP-0420 v0.5.0 beside an SCE envelope), else the app's text, else the protocol's.
   */
  function fallbackFor(backend: EncryptionBackend): string | undefined {
    const own = backend.capabilities.fallbackBody
    if (own === null || init.fallbackBody === null) return undefined
    return init.fallbackBody ?? own
  }

  /** D-7: the one outer shape of every encrypted message. */
  function outerStanza(backend: EncryptionBackend, to: BareJid, id: string, encrypted: Element): Element {
    const name = init.encryptionNames?.[backend.namespace] ?? backend.capabilities.displayName
    const fallback = fallbackFor(backend)
    const stanza = encryptedMessageStanza({
      to,
      id,
      encrypted,
      encryptionNamespace: backend.namespace,
      ...(name === undefined ? {} : { encryptionName: name }),
      ...(fallback === undefined ? {} : { fallbackBody: fallback }),
    })
    stanza.cnode(originIdElement(id))
    return stanza
  }

  async function sendChat(
    to: BareJid,
    text: string,
    options: { readonly encryption?: EncryptionNamespace } = {},
  ): Promise<SentMessage> {
    const { backend, unreached } = await chatProtocolFor(to, options.encryption)
    await ensureKeys(backend.namespace, to)
    const id = randomId()
    const res = await backend.encrypt([xml('body', { xmlns: 'jabber:client' }, text)], [to])
    await xmpp.send(outerStanza(backend, to, id, res.element))
    return { id, recipients: res.recipients, encryption: backend.namespace, unreached }
  }

  /** The named backend, or the one the both-versions rule picks (chat-protocol.ts). */
  async function chatProtocolFor(
    to: BareJid,
    encryption: EncryptionNamespace | undefined,
  ): Promise<ChatProtocolChoice> {
    if (encryption !== undefined) {
      const named = backends.get(encryption)
      if (named === undefined) throw new Error(`no backend for ${encryption}`)
      return { backend: named, unreached: [] }
    }
    if (init.backends.length === 1) return chooseChatProtocol(init.backends, to)
    // every protocol's device list, so the endpoints can be compared (a contact without one of
    // them simply has no keys there)
    for (const b of init.backends) await ensureKeys(b.namespace, to).catch(() => undefined)
    return chooseChatProtocol(init.backends, to)
  }

  /**
   * TM-15, TM-21: a trust message is encrypted only for the keys the engine allowed (plus our
   * own key, which the backend always adds). If the backend would reach any other key, nothing
   * is sent (fail closed).
   */
  async function sendOutboxEntry(entry: OutboxEntry): Promise<void> {
    const backend = backends.get(entry.encryption)
    if (backend === undefined) throw new Error(`no backend for ${entry.encryption}`)
    const allowed = new Set(entry.allowedKeys.map((k) => `${k.encryption} ${k.owner} ${k.keyId}`))
    for (const k of await backend.ownKeys()) allowed.add(`${backend.namespace} ${account} ${k}`)
    const to = entry.to as BareJid
    if (to !== account) await ensureKeys(backend.namespace, to)
    // exactly the allowed keys (EncryptOptions.onlyKeys); the recipient check below still holds
    // every backend to them
    const options: EncryptOptions = {
      acceptedLevels: ['authenticated'],
      onlyKeys: entry.allowedKeys as readonly KeyRef[], // stored as plain strings
    }
    const res = await backend.encrypt(parseXml(entry.xml), [to], options)
    for (const r of res.recipients) {
      if (!allowed.has(`${r.encryption} ${r.owner} ${r.keyId}`)) throw new UntrustedKeyError(r.owner, r.keyId)
    }
    const stanza = outerStanza(backend, to, entry.id, res.element)
    await xmpp.send(stanza)
    pendingAcks.set(entry.id, entry.seq)
    if (!smEnabled()) {
      pendingAcks.delete(entry.id)
      await removeFromOutbox(init.store, entry.seq)
    }
    emit('trust-message-sent', { to, id: entry.id, recipients: res.recipients })
  }

  const pendingAcks = new Map<string, string>()
  function smEnabled(): boolean {
    return (xmpp.streamManagement as unknown as { enabled?: boolean }).enabled === true
  }
  const sm = xmpp.streamManagement as unknown as {
    on?: (e: string, l: (s: Element) => void) => void
    removeListener?: (e: string, l: (s: Element) => void) => void
  }
  const onAck = (stanza: Element): void => {
    const id = stanza.attrs.id as string | undefined
    const seq = id === undefined ? undefined : pendingAcks.get(id)
    if (seq === undefined || id === undefined) return
    pendingAcks.delete(id)
    void removeFromOutbox(init.store, seq).catch(fail)
  }
  const onSmFail = (stanza: Element): void => {
    const id = stanza.attrs.id as string | undefined
    if (id !== undefined) pendingAcks.delete(id) // stays in the outbox: sent again after reconnect
  }
  sm.on?.('ack', onAck)
  sm.on?.('fail', onSmFail)

  let flushing: Promise<number> | undefined
  function flushOutbox(): Promise<number> {
    if (xmpp.status !== 'online') return Promise.resolve(0)
    flushing ??= (async () => {
      let sent = 0
      try {
        for (const entry of await readOutbox(init.store)) {
          if (pendingAcks.has(entry.id)) continue
          await sendOutboxEntry(entry)
          sent++
        }
      } finally {
        flushing = undefined
      }
      return sent
    })()
    return flushing
  }

  async function queueOutgoing(
    tx: AccountTrustStore,
    outgoing: readonly OutgoingTrustMessage[],
  ): Promise<void> {
    for (const o of outgoing) {
      await addToOutbox(tx, {
        id: randomId(),
        to: o.to,
        xml: serializeTrustMessage(o.message).toString(),
        encryption: o.carrier ?? o.message.encryption, // D-12: a body-only protocol's keys travel in a carrier
        allowedKeys: o.allowedKeys.map((k) => ({ encryption: k.encryption, owner: k.owner, keyId: k.keyId })),
      })
    }
  }

  /** A local decision and its outbox entries commit together; then the outbox is flushed. */
  async function decided(run: (tx: AccountTrustStore) => Promise<DecisionResult>): Promise<DecisionResult> {
    const result = await init.store.transaction(async (tx) => {
      const r = await run(tx)
      await queueOutgoing(tx, r.outgoing)
      return r
    })
    await flushOutbox().catch(fail)
    return result
  }

  async function refreshKeys(owner: BareJid, encryption?: EncryptionNamespace): Promise<readonly KeyId[]> {
    const out: KeyId[] = []
    for (const d of directories.values()) {
      if (encryption !== undefined && d.namespace !== encryption) continue
      let ids: readonly KeyId[]
      try {
        ids = await d.refresh(owner, pep, unusableReporter(d.namespace))
      } catch (e) {
        throw await keysNotVisible(owner, d.namespace, e)
      }
      await keysChanged(d.namespace, owner, ids)
      out.push(...ids)
    }
    return out
  }

  async function publishKeys(): Promise<void> {
    for (const d of directories.values()) await d.publishOwn(pep)
  }

  // ---- session lifecycle
  /** one per fresh session: a session start that was overtaken stops at its next step */
  let session = 0
  class Overtaken extends Error {}
  async function onOnline(id: number): Promise<void> {
    const step = async <T>(work: Promise<T>): Promise<T> => {
      const r = await work
      if (id !== session) throw new Overtaken()
      return r
    }
    await step(enableCarbons(xmpp))
    // the roster, in the background: pushes during the session are compared with it (RFC 6121
    // answers); the session start does not wait for it
    void roster.load().catch(fail)
    await step(xmpp.send(xml('presence', {}, capsElement(discoInfo(), capsNode))))
    await step(publishKeys())
    const r = await step(catchUp())
    await step(queue)
    await step(retryHeldAll())
    caughtUp = true
    emit('synced', r)
    settleWaiters()
    await flushOutbox()
  }
  /** After a catch-up: held messages whose sender's keys arrived meanwhile (another session). */
  async function retryHeldAll(): Promise<void> {
    const senders = new Set((await readHeld(init.store)).map((h) => h.sender))
    for (const sender of senders) await enqueue(() => retryHeld(sender))
  }

  const online = (): void => {
    const id = ++session
    roster.reset()
    caughtUp = false
    onOnline(id).catch((e: unknown) => {
      // a session start overtaken by a newer one (or by close) has nobody left to tell
      if (e instanceof Overtaken || id !== session) return
      fail(e)
      if (!caughtUp)
        settleWaiters(
          new SyncError('failed', `the session start failed: ${e instanceof Error ? e.message : String(e)}`, {
            cause: e,
          }),
        )
    })
  }
  /** the connection is gone: a session start in progress can no longer finish */
  const disconnected = (): void => {
    if (caughtUp) return
    settleWaiters(new SyncError('disconnected', 'the connection was lost before the MAM catch-up finished'))
  }
  const resumed = (): void => {
    flushOutbox().catch(fail)
  }
  /**
   * A stanza over a cap of the strict parser (`StanzaLimits`): it arrives as a `type='error'`
   * placeholder nothing acts on (an IQ waiting for it rejects), the stream goes on; reported.
   */
  const overLimit = (stanza: Element): void => {
    const error = stanzaLimitError(stanza)
    if (error !== undefined) emitRejected({ message: stanza, source: 'live' }, error, false)
  }
  /** a stream that failed strict XML parsing or its caps (the connection closes it with bad-format) */
  const streamError = (e: unknown): void => {
    if (e instanceof Error && (e.name === 'MalformedXmlError' || e.name === 'LimitExceededError')) fail(e)
  }
  xmpp.on('online', online)
  xmpp.on('error', streamError)
  xmpp.on('stanza', overLimit)
  xmpp.on('disconnect', disconnected)
  xmpp.on('offline', disconnected)
  sm.on?.('resumed', resumed as unknown as (s: Element) => void)

  return {
    account,
    atm,
    backends,
    discoInfo,
    sendChat,
    authenticate: (enc, owner, keyIds) =>
      decided((tx) => atm.authenticate(enc, owner, keyIds, undefined, { store: tx })),
    distrust: (enc, owner, keyIds) =>
      decided((tx) => atm.distrust(enc, owner, keyIds, undefined, { store: tx })),
    applyUri: async (uri, options) => {
      await refreshKeys(uri.jid, uri.encryption).catch(() => undefined)
      return decided((tx) => atm.applyUri(uri, { ...options, store: tx }))
    },
    refreshKeys,
    publishKeys,
    catchUp,
    flushOutbox,
    idle: async () => {
      let q: Promise<void>
      do {
        q = queue
        await q
      } while (q !== queue)
    },
    synced,
    pep,
    contacts: roster.contacts,
    on(event, listener) {
      const set = listeners.get(event) ?? new Set()
      set.add(listener as (p: unknown) => void)
      listeners.set(event, set)
      return () => set.delete(listener as (p: unknown) => void)
    },
    close() {
      offAtm()
      roster.close()
      xmpp.removeListener('online', online)
      xmpp.removeListener('error', streamError)
      xmpp.removeListener('stanza', overLimit)
      xmpp.removeListener('disconnect', disconnected)
      xmpp.removeListener('offline', disconnected)
      session++
      settleWaiters(new SyncError('closed', 'the binding was closed before the MAM catch-up finished'))
      sm.removeListener?.('ack', onAck)
      sm.removeListener?.('fail', onSmFail)
      sm.removeListener?.('resumed', resumed as unknown as (s: Element) => void)
    },
  }
}

/** An IQ error `item-not-found` (xmpp.js `StanzaError`): e.g. a MAM `<after/>` id the server does not know. */
function isItemNotFound(e: unknown): boolean {
  return e instanceof Error && (e as { condition?: unknown }).condition === 'item-not-found'
}
