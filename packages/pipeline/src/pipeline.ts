/**
 * The receive pipeline: what happens to a received encrypted message, with no network code.
 * `@vouch/xmpp` feeds it from an `@xmpp/client` connection, the simulator from its simulated
 * network; both run exactly this code.
 *
 * One batch (one live copy, or one MAM page) is received in ONE store transaction:
 * deduplication (by the caller's dedup keys: stanza ids, origin ids), decryption by the backend
 * that owns the element (its state, e.g. an OMEMO ratchet step or OX's replay memory, is written
 * in the same transaction), the keys the message made known handed to ATM (`keysDiscovered`,
 * and the trust messages it plans for them to the caller's outbox: `queueOutgoing`),
 * parsing, ATM (`handleTrustMessages`, in order), the processed ids, and whatever the caller
 * commits with the batch (e.g. the archive pointer). Everything commits together or not at all.
 *
 * The time of a message: the protected `<time/>` when the backend protects an envelope
 * (`protectsEnvelope`: SCE, OX `<signcrypt/>`), checked by the backend against the caller's
 * reference time. A protocol without one (OMEMO 0.3) gets the reference time itself (ours: the
 * clock or our server's stamp): D-9 then orders that sender's decisions by arrival, and SCE-1
 * has nothing to check, so a replay within the ratchet's own protection is the only bound.
 */
import type { Atm, OutgoingTrustMessage, ReceivedTrustMessage, ReceiveResult } from '@vouch/atm'
import type {
  AccountTrustStore,
  BareJid,
  DecryptedContent,
  EncryptionBackend,
  FullJid,
  KeyId,
  TrustLevel,
} from '@vouch/tm-core'
import {
  DecryptionError,
  findTrustMessage,
  isNothingToRead,
  isStoreFailure,
  LimitExceededError,
} from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { isProcessed, markProcessed } from './processed.ts'

/** One received copy of an encrypted message, as the transport saw it. */
export interface ReceivedCopy {
  /**
   * the encrypted element (OMEMO `<encrypted/>`, OX `<openpgp/>`); `undefined`: plaintext. A
   * stanza may carry several, of different protocols (Converse.js puts an OMEMO 2 and an OMEMO 0.3
   * `<encrypted/>` into one message): pass them all, in any order, and the pipeline decrypts
   * exactly one of them (see {@link ReceivePipelineInit.backends}).
   */
  readonly encrypted: Element | readonly Element[] | undefined
  /** stanza `from` and `to` */
  readonly from: FullJid | BareJid
  readonly to: FullJid | BareJid
  /** the copy's dedup keys (stanza ids, origin ids); a copy with none is never a duplicate */
  readonly dedupKeys: readonly string[]
  /** the reference time of the freshness checks (ours: see `@vouch/xmpp`) */
  readonly referenceTime: Date
  /** for our own sent copies: the partner the protected `<to/>` must name */
  readonly expectedTo?: BareJid
  /** a `type='groupchat'` message: the backend applies its group chat profile (OMEMO 2: SCE `<to/>` MUST) */
  readonly groupChat?: boolean
  /**
   * read from the archive during a catch-up (`DecryptOptions.fromCatchUp`: OMEMO keeps the pre key
   * a key exchange used until the catch-up ends, XEP-0384 v0.9 §6)
   */
  readonly fromCatchUp?: boolean
}

/** What became of one copy. */
export type ReceiveOutcome =
  | { readonly kind: 'duplicate'; readonly keys: readonly string[] }
  /** processed, nothing to report: plaintext, a session-only message, no body */
  | { readonly kind: 'done' }
  /** decryption failed in a way a key refresh may cure; nothing of it was written */
  | { readonly kind: 'retry'; readonly error: Error }
  | { readonly kind: 'rejected'; readonly error: Error }
  /**
   * not addressed to us and nothing to read (every encrypted element's backend said so: a
   * `DecryptionError` flagged `nothingToRead`, e.g. an OMEMO empty message for another device):
   * recorded as processed, no state changed, nothing to report but quietly
   */
  | { readonly kind: 'skipped'; readonly error: DecryptionError }
  | {
      readonly kind: 'chat'
      readonly content: DecryptedContent
      readonly body: Element
      /** the store's level of the sender key (our own key: `authenticated`) */
      readonly trustLevel: TrustLevel
      /** the protected time, else the reference time */
      readonly time: Date
    }
  | { readonly kind: 'trust'; readonly content: DecryptedContent; readonly result: ReceiveResult }

export interface ReceiveOptions {
  /** report a decryption failure as `retry` (nothing written) instead of `rejected`; default false */
  readonly allowRetry?: boolean
  /** more writes that commit with the batch (e.g. the archive pointer); skipped when a copy is `retry` */
  readonly commit?: (tx: AccountTrustStore) => Promise<void>
}

export interface ReceivePipeline {
  /**
   * Receives `batch` in one transaction (see the module doc). A store failure rejects and
   * nothing of the batch is stored; bad input is an outcome (`rejected`) and is recorded as
   * processed, so it is not tried again.
   */
  receive(batch: readonly ReceivedCopy[], options?: ReceiveOptions): Promise<readonly ReceiveOutcome[]>
}

/**
 * Caps on a copy's encrypted elements, checked before any backend runs (a security policy; bad
 * input over a cap is `rejected` with a {@link LimitExceededError} and recorded as processed).
 */
export interface ReceiveLimits {
  /**
   * Elements inside one encrypted element (its descendants); default 2,048. Rule
   * `ENCRYPTED-ELEMENTS`. An OMEMO message carries one `<key/>` per recipient device (OMEMO 2
   * groups them in one `<keys/>` per account): to 100 devices about 200 elements. The default
   * stays above what the OMEMO backends accept themselves (1,024 `<key/>`, 64 `<keys/>`), so
   * this cap never refuses a message a backend would read; it holds every backend, a third
   * party's too, to a bound before any of them parses.
   */
  readonly maxEncryptedElements: number
}

export const DEFAULT_RECEIVE_LIMITS: ReceiveLimits = Object.freeze({ maxEncryptedElements: 2048 })

/** An encrypted element of a copy and the backend that owns it. */
export interface EncryptedCandidate {
  readonly el: Element
  readonly backend: EncryptionBackend
}

/**
 * The encrypted elements of a copy that the pipeline decrypts, in the order it tries them: the
 * elements we have a backend for, the most preferred backend's first (the order of `backends`).
 * The first is the one whose failure a `rejected` or `retry` outcome reports when none decrypts,
 * so it is also the one whose sender keys a retry must wait for: `@vouch/xmpp` refreshes keys,
 * holds and retries messages by this same choice. Elements of other protocols are left out.
 */
export function chooseEncrypted(
  encrypted: ReceivedCopy['encrypted'],
  backends: readonly EncryptionBackend[],
): readonly EncryptedCandidate[] {
  const all: readonly Element[] =
    encrypted === undefined ? [] : Array.isArray(encrypted) ? encrypted : [encrypted as Element]
  const out: Array<EncryptedCandidate & { rank: number }> = []
  for (const el of all) {
    const ns = String(el.attrs.xmlns)
    const rank = backends.findIndex((b) => b.namespace === ns)
    if (rank >= 0) out.push({ el, backend: backends[rank] as EncryptionBackend, rank })
  }
  return out.sort((a, b) => a.rank - b.rank).map(({ el, backend }) => ({ el, backend }))
}

/**
 * The caps on a copy's candidates ({@link ReceiveLimits}): at most one element per protocol
 * (rule `ENCRYPTED-DUPLICATE`: two would leave it to the reader which one is the message), and
 * at most `maxEncryptedElements` elements inside each (rule `ENCRYPTED-ELEMENTS`).
 */
export function checkEncrypted(
  candidates: readonly EncryptedCandidate[],
  limits: ReceiveLimits = DEFAULT_RECEIVE_LIMITS,
): LimitExceededError | undefined {
  const seen = new Set<string>()
  for (const { el, backend } of candidates) {
    if (seen.has(backend.namespace))
      return new LimitExceededError(
        'ENCRYPTED-DUPLICATE',
        `encrypted elements of ${backend.namespace} in one message`,
        1,
        candidates.filter((c) => c.backend.namespace === backend.namespace).length,
      )
    seen.add(backend.namespace)
    const count = descendants(el, limits.maxEncryptedElements)
    if (count > limits.maxEncryptedElements)
      return new LimitExceededError(
        'ENCRYPTED-ELEMENTS',
        `elements inside one encrypted element of ${backend.namespace}`,
        limits.maxEncryptedElements,
        count,
      )
  }
  return undefined
}

/** The elements below `el`, counted up to `max + 1` (no recursion: depth is the stream's cap). */
function descendants(el: Element, max: number): number {
  let count = 0
  const stack: Element[] = [el]
  while (stack.length > 0) {
    const next = stack.pop() as Element
    for (const c of next.children) {
      if (typeof c === 'string') continue
      if (++count > max) return count
      stack.push(c)
    }
  }
  return count
}

export interface ReceivePipelineInit {
  /** the account's store (transactions are opened on it) */
  readonly store: AccountTrustStore
  readonly atm: Atm
  /**
   * The backends, most preferred first. When a stanza carries encrypted elements of several of
   * them, the most preferred one's is decrypted; only when that one fails (no key for our
   * device, no session, any rejection) is the next one's tried, and the first that decrypts is
   * the message: never two of them, and never none when one of them is readable. Every failed
   * attempt is rolled back (the backend decrypts in a nested transaction), so it changes no
   * state.
   */
  readonly backends: readonly EncryptionBackend[]
  /** processed dedup keys kept; default 5000 */
  readonly maxProcessedIds?: number
  /** caps on the encrypted elements; default {@link DEFAULT_RECEIVE_LIMITS} */
  readonly limits?: Partial<ReceiveLimits>
  /**
   * Queues trust messages to send in the batch's transaction (the caller's outbox). ATM plans
   * them when a key the message made known (`learnedKeys`) inherits a decision made on this
   * endpoint about its twin (D-12: `keysDiscovered`'s `outgoing`); they commit with the keys or
   * not at all. Without it they are not sent (a caller that sends nothing, e.g. a test).
   */
  readonly queueOutgoing?: (tx: AccountTrustStore, outgoing: readonly OutgoingTrustMessage[]) => Promise<void>
}

export function receivePipeline(init: ReceivePipelineInit): ReceivePipeline {
  const account = init.store.account
  const { atm } = init
  const maxProcessed = init.maxProcessedIds ?? 5000
  const limits: ReceiveLimits = { ...DEFAULT_RECEIVE_LIMITS, ...init.limits }
  const backends = new Map<string, EncryptionBackend>()
  for (const b of init.backends) backends.set(b.namespace, b)

  const toError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)))

  /** a copy's outcome before ATM ran (a trust message still to apply) */
  type Pending =
    | Exclude<ReceiveOutcome, { kind: 'trust' }>
    | { readonly kind: 'apply'; readonly content: DecryptedContent; readonly input: ReceivedTrustMessage }

  async function one(
    tx: AccountTrustStore,
    copy: ReceivedCopy,
    allowRetry: boolean,
    processed: Set<string>,
  ): Promise<Pending> {
    const keys = copy.dedupKeys
    if (keys.some((k) => processed.has(k)) || (keys.length > 0 && (await isProcessed(tx, keys))))
      return { kind: 'duplicate', keys }
    const done = (): void => {
      for (const k of keys) processed.add(k)
    }
    const candidates = chooseEncrypted(copy.encrypted, init.backends)
    if (candidates.length === 0) {
      // plaintext (or a protocol we do not run): never a trust message (X2)
      done()
      return { kind: 'done' }
    }
    const overLimit = checkEncrypted(candidates, limits)
    if (overLimit !== undefined) {
      done()
      return { kind: 'rejected', error: overLimit }
    }
    const options = {
      now: copy.referenceTime,
      store: tx,
      ...(copy.expectedTo === undefined ? {} : { expectedTo: copy.expectedTo }),
      ...(copy.groupChat === true ? { groupChat: true } : {}),
      ...(copy.fromCatchUp === true ? { fromCatchUp: true } : {}),
    }
    let content: DecryptedContent | undefined
    let firstError: unknown
    let nothingToRead: DecryptionError | undefined
    for (const { el, backend } of candidates) {
      try {
        content = await backend.decrypt(el, { from: copy.from, to: copy.to }, options)
        break
      } catch (e) {
        if (isStoreFailure(e)) throw e
        // reported: the first failure of an element that may carry something for us
        if (isNothingToRead(e)) nothingToRead ??= e
        else firstError ??= e
      }
    }
    if (content === undefined && firstError === undefined && nothingToRead !== undefined) {
      // neither a key refresh nor a retry can make it readable, and there is nothing to lose
      done()
      return { kind: 'skipped', error: nothingToRead }
    }
    if (content === undefined) {
      if (allowRetry && firstError instanceof Error && firstError.name === 'DecryptionError')
        return { kind: 'retry', error: firstError }
      done()
      return { kind: 'rejected', error: toError(firstError) }
    }
    done()
    // keys this message made known (a key exchange from a new device): ATM decides their level
    if (content.learnedKeys !== undefined && content.learnedKeys.length > 0) {
      const found = await atm.keysDiscovered(content.carrier, content.senderJid, content.learnedKeys, {
        store: tx,
      })
      if (found.outgoing.length > 0) await init.queueOutgoing?.(tx, found.outgoing)
    }
    if (content.sessionOnly === true) return { kind: 'done' }
    const time = content.time ?? copy.referenceTime

    if (content.payload.some((p) => p.name === 'trust-message')) {
      try {
        // D-9: a protocol that protects a sending time must have protected this one; the reference
        // time stands in only for protocols without an envelope (OMEMO 0.3)
        if (
          content.time === undefined &&
          backends.get(content.carrier)?.capabilities.protectsEnvelope === true
        )
          throw new DecryptionError(
            'TM-18',
            'a trust message without a protected <time/> cannot be ordered (D-9)',
          )
        const container = xml('message', { xmlns: 'jabber:client' })
        for (const p of content.payload) container.cnode(p)
        const parsed = findTrustMessage(container, {
          keyIdLength: (e) => backends.get(e)?.capabilities.keyIdLength,
        })
        if (!content.signed) throw new DecryptionError('TM-2', 'a trust message must be signed')
        return {
          kind: 'apply',
          content,
          input: {
            message: parsed.message,
            senderJid: copy.from,
            senderKey: content.senderKey,
            carrier: content.carrier,
            encrypted: content.encrypted,
            signed: content.signed,
            sceTime: time.getTime(),
          },
        }
      } catch (e) {
        if (isStoreFailure(e)) throw e
        return { kind: 'rejected', error: toError(e) }
      }
    }
    const body = content.payload.find((p) => p.name === 'body')
    if (body === undefined) return { kind: 'done' }
    const trustLevel: TrustLevel = content.signed
      ? await senderTrust(tx, content, content.senderKey)
      : 'undecided'
    return { kind: 'chat', content, body, trustLevel, time }
  }

  /**
   * The trust of the key that sent a message, as the store holds it: for copies from our own
   * account too (another own device is not trusted because it says it is ours), except our own
   * key itself (OX: every own endpoint shares it), which is ours.
   */
  async function senderTrust(
    tx: AccountTrustStore,
    content: DecryptedContent,
    key: KeyId,
  ): Promise<TrustLevel> {
    if (content.senderJid === account && (await tx.getOwnKey(content.carrier)) === key) return 'authenticated'
    return tx.getTrustLevel(content.carrier, content.senderJid, key)
  }

  async function receive(
    batch: readonly ReceivedCopy[],
    options: ReceiveOptions = {},
  ): Promise<readonly ReceiveOutcome[]> {
    const allowRetry = options.allowRetry ?? false
    return init.store.transaction(async (tx) => {
      const processed = new Set<string>()
      const pending: Pending[] = []
      for (const copy of batch) pending.push(await one(tx, copy, allowRetry, processed))
      const inputs = pending.flatMap((p) => (p.kind === 'apply' ? [p.input] : []))
      const results = inputs.length > 0 ? await atm.handleTrustMessages(inputs, { store: tx }) : []
      if (processed.size > 0) await markProcessed(tx, [...processed], maxProcessed)
      if (options.commit !== undefined && !pending.some((p) => p.kind === 'retry')) await options.commit(tx)
      let i = 0
      return pending.map((p): ReceiveOutcome => {
        if (p.kind !== 'apply') return p
        const result = results[i++] as ReceiveResult
        return result.outcome === 'rejected'
          ? { kind: 'rejected', error: result.error ?? new Error('rejected') }
          : { kind: 'trust', content: p.content, result }
      })
    })
  }

  return { receive }
}
