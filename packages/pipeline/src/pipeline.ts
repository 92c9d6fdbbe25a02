/**
 * The receive pipeline: what happens to a received encrypted message, with no network code.
 * `@vouch/xmpp` feeds it from an `@xmpp/client` connection, the simulator from its simulated
 * network; both run exactly this code.
 *
 * One batch (one live copy, or one MAM page) is received in ONE store transaction:
 * deduplication (by the caller's dedup keys: stanza ids, origin ids), decryption by the backend
 * that owns the element (its state, e.g. an OMEMO ratchet step or OX's replay memory, is written
 * in the same transaction), the keys the message made known handed to ATM (`keysDiscovered`),
 * parsing, ATM (`handleTrustMessages`, in order), the processed ids, and whatever the caller
 * commits with the batch (e.g. the archive pointer). Everything commits together or not at all.
 *
 * The time of a message: the protected `<time/>` when the backend protects an envelope
 * (`protectsEnvelope`: SCE, OX `<signcrypt/>`), checked by the backend against the caller's
 * reference time. A protocol without one (OMEMO 0.3) gets the reference time itself (ours: the
 * clock or our server's stamp): D-9 then orders that sender's decisions by arrival, and SCE-1
 * has nothing to check, so a replay within the ratchet's own protection is the only bound.
 */
import type { Atm, ReceivedTrustMessage, ReceiveResult } from '@vouch/atm'
import type {
  AccountTrustStore,
  BareJid,
  DecryptedContent,
  EncryptionBackend,
  FullJid,
  KeyId,
  TrustLevel,
} from '@vouch/tm-core'
import { DecryptionError, findTrustMessage, isStoreFailure } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { isProcessed, markProcessed } from './processed.ts'

/** One received copy of an encrypted message, as the transport saw it. */
export interface ReceivedCopy {
  /** the encrypted element (OMEMO `<encrypted/>`, OX `<openpgp/>`); `undefined`: plaintext */
  readonly encrypted: Element | undefined
  /** stanza `from` and `to` */
  readonly from: FullJid | BareJid
  readonly to: FullJid | BareJid
  /** the copy's dedup keys (stanza ids, origin ids); a copy with none is never a duplicate */
  readonly dedupKeys: readonly string[]
  /** the reference time of the freshness checks (ours: see `@vouch/xmpp`) */
  readonly referenceTime: Date
  /** for our own sent copies: the partner the protected `<to/>` must name */
  readonly expectedTo?: BareJid
}

/** What became of one copy. */
export type ReceiveOutcome =
  | { readonly kind: 'duplicate'; readonly keys: readonly string[] }
  /** processed, nothing to report: plaintext, a session-only message, no body */
  | { readonly kind: 'done' }
  /** decryption failed in a way a key refresh may cure; nothing of it was written */
  | { readonly kind: 'retry'; readonly error: Error }
  | { readonly kind: 'rejected'; readonly error: Error }
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

export interface ReceivePipelineInit {
  /** the account's store (transactions are opened on it) */
  readonly store: AccountTrustStore
  readonly atm: Atm
  readonly backends: readonly EncryptionBackend[]
  /** processed dedup keys kept; default 5000 */
  readonly maxProcessedIds?: number
}

export function receivePipeline(init: ReceivePipelineInit): ReceivePipeline {
  const account = init.store.account
  const { atm } = init
  const maxProcessed = init.maxProcessedIds ?? 5000
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
    const backend =
      copy.encrypted === undefined ? undefined : backends.get(String(copy.encrypted.attrs.xmlns))
    if (copy.encrypted === undefined || backend === undefined) {
      // plaintext (or a protocol we do not run): never a trust message (X2)
      done()
      return { kind: 'done' }
    }
    let content: DecryptedContent
    try {
      content = await backend.decrypt(
        copy.encrypted,
        { from: copy.from, to: copy.to },
        copy.expectedTo === undefined
          ? { now: copy.referenceTime, store: tx }
          : { now: copy.referenceTime, expectedTo: copy.expectedTo, store: tx },
      )
    } catch (e) {
      if (isStoreFailure(e)) throw e
      if (allowRetry && e instanceof Error && e.name === 'DecryptionError') return { kind: 'retry', error: e }
      done()
      return { kind: 'rejected', error: toError(e) }
    }
    done()
    // keys this message made known (a key exchange from a new device): ATM decides their level
    if (content.learnedKeys !== undefined && content.learnedKeys.length > 0)
      await atm.keysDiscovered(content.carrier, content.senderJid, content.learnedKeys, { store: tx })
    if (content.sessionOnly === true) return { kind: 'done' }
    const time = content.time ?? copy.referenceTime

    if (content.payload.some((p) => p.name === 'trust-message')) {
      try {
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
