/**
 * The receive flow of the binding: turns received stanzas (live, Carbons, archive) into the
 * pipeline's copies, receives them through `@vouch/pipeline` (one transaction per copy or MAM
 * page), turns its outcomes into events, refreshes the sender's keys and receives again what a
 * key may cure, holds what still lacks the sender's keys (`held.ts`) and receives it again when
 * a key arrives. Which encrypted element a stanza is judged by is the pipeline's choice
 * (`chooseEncrypted`), for all of these.
 */
import type {
  AccountTrustStore,
  BareJid,
  DecryptionError,
  EncryptionNamespace,
  FullJid,
  XmlLimits,
} from '@vouch/tm-core'
import { isStoreFailure, parseXml } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
import {
  chooseEncrypted,
  type EncryptedCandidate,
  type ReceiveOutcome,
  type ReceivedCopy,
  type ReceivePipeline,
} from '@vouch/pipeline'
import type { BindingContext, MessageSource, ReceivedChat, VouchXmppEvents } from './binding-types.ts'
import { holdMessage, MAX_ATTEMPTS, newKeyArrived, readHeld, releaseHeld } from './held.ts'
import type { KeyRefresh } from './keys.ts'
import type { Outbox } from './outbox.ts'
import { referenceTime } from './reference-time.ts'
import { setArchivePosition } from './state.ts'
import { DEFAULT_STANZA_LIMITS } from './stream-parser.ts'
import { bareOf, childElements } from './util.ts'
import { dedupKeys, stanzaIdBy } from './xep0359-ids.ts'

/**
 * A held message is read again from its text: with the stream's caps on elements and depth
 * (what the stream parser let through reads again), and room for the escapes serializing adds.
 */
const HELD_XML_LIMITS: Partial<XmlLimits> = {
  maxChars: DEFAULT_STANZA_LIMITS.maxStanzaBytes * 8,
  maxDepth: DEFAULT_STANZA_LIMITS.maxDepth,
  maxElements: DEFAULT_STANZA_LIMITS.maxElements,
}

/** One received copy of a message, and where it came from. */
export interface Incoming {
  readonly message: Element
  readonly source: MessageSource
  /** our archive's id of an archived copy */
  readonly archiveId?: string
  /** our archive's stamp of an archived copy */
  readonly stamp?: Date | undefined
}

/** Where the archive pointer moves when a batch commits. */
export interface ArchivePosition {
  readonly id: string
  readonly stamp: Date
}

export interface ReceiveFlow {
  /**
   * Receives `received` (one live copy, or one MAM page) in one transaction with the archive
   * pointer's move to `position`; see `receiveBatch` below.
   */
  receiveBatch(
    received: readonly Incoming[],
    position?: ArchivePosition,
    allowRetry?: boolean,
    keysError?: Error,
  ): Promise<void>
  /** Receives again the held messages of `sender` a new key may open (one retry at a time). */
  retryHeld(sender: BareJid): Promise<void>
  /** Reports a received message that failed a check (`rejected`). */
  emitRejected(inc: Incoming, error: Error, held: boolean, keysError?: Error, final?: boolean): void
  /** The encrypted element the pipeline tries first (`chooseEncrypted`), if any. */
  chosenEncrypted(message: Element): EncryptedCandidate | undefined
  /**
   * `held` is set when applying a received message failed in the store: the archive pointer
   * then stays where it is (before that message) until a catch-up has read the archive again.
   */
  readonly pointer: { held: boolean }
}

export function receiveFlow(
  ctx: BindingContext,
  deps: {
    readonly pipeline: ReceivePipeline
    readonly keys: Pick<KeyRefresh, 'ensureKeys' | 'refreshKeys'>
    readonly sending: Pick<Outbox, 'flushQueued'>
  },
): ReceiveFlow {
  const { xmpp, init, account, now, backends, directories, pep, emit, fail, maxStampAgeSeconds } = ctx
  /** the pipeline; what it queued in a batch's transaction (D-12) is sent once that committed */
  const pipeline: ReceivePipeline = {
    async receive(batch, options) {
      try {
        return await deps.pipeline.receive(batch, options)
      } finally {
        await deps.sending.flushQueued()
      }
    },
  }
  const { ensureKeys, refreshKeys } = deps.keys
  const pointer = { held: false }

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
      ...(inc.source === 'archive' ? { fromCatchUp: true } : {}),
    }
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
      if (isStoreFailure(e)) pointer.held = true
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
      } else if (o.kind === 'skipped') emitSkipped(inc, o.error)
      else if (o.kind === 'retry') retries.push(inc)
      else if (o.kind === 'trust')
        emit('trust-message', { from, outcome: o.result.outcome, reason: o.result.reason, source })
      else if (o.kind === 'chat') emit('message', chatOf(inc, o))
    }
    for (const inc of retries) await receiveAfterRefresh(inc)
    if (retries.length > 0 && position !== undefined && !pointer.held)
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
      let message: Element
      try {
        message = parseXml(h.xml, HELD_XML_LIMITS)
      } catch (e) {
        // cannot be read again: given up (said on `error`), so the others still get their turn
        await releaseHeld(init.store, h.seq)
        fail(e)
        continue
      }
      const inc: Incoming = {
        message,
        source: h.source,
        ...(h.archiveId === undefined ? {} : { archiveId: h.archiveId }),
      }
      // no dedup keys: the first copy marked them processed; the release commits with this receipt.
      // Not read in a catch-up (whose end deletes what it kept): a pre key it uses is not kept.
      const { fromCatchUp: _read, ...base } = copyOf(inc)
      const copy: ReceivedCopy = { ...base, dedupKeys: [], referenceTime: new Date(h.referenceTime) }
      const [o] = await pipeline.receive([copy], { commit: (tx) => releaseHeld(tx, h.seq) })
      if (o === undefined) continue
      if (o.kind === 'rejected') {
        const attempts = h.attempts + 1
        const final = attempts >= MAX_ATTEMPTS
        if (!final) {
          const { seq: _seq, ...rest } = h
          await holdMessage(init.store, { ...rest, knownKeys: await backend.keysOf(sender), attempts })
        } else emitRejected(inc, o.error, false, undefined, true)
      } else if (o.kind === 'skipped') emitSkipped(inc, o.error)
      else if (o.kind === 'trust') {
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
      ...reportOf(inc, error),
      error,
      held,
      ...(keysError === undefined ? {} : { keysError }),
      ...(final === undefined ? {} : { final }),
    })
  }

  /**
   * A copy not addressed to us that carries nothing to read (`nothingToRead`: an OMEMO empty
   * message for another device): said quietly, never as `rejected` (nothing of it is lost).
   */
  function emitSkipped(inc: Incoming, error: DecryptionError): void {
    emit('skipped', { ...reportOf(inc, error), reason: error.message })
  }

  /** What `rejected` and `skipped` say about a copy and the error it met. */
  function reportOf(
    inc: Incoming,
    error: Error,
  ): Pick<VouchXmppEvents['rejected'], 'from' | 'sender' | 'rule' | 'source' | 'archiveId'> {
    const rule = (error as { rule?: unknown }).rule
    return {
      from: String(inc.message.attrs.from ?? ''),
      sender: bareOf(inc.message.attrs.from as string | undefined),
      rule: rule !== undefined ? String(rule) : error.name,
      source: inc.source,
      // an archived copy's MAM id; a live copy's is the stanza-id our server gave it (XEP-0359)
      archiveId: inc.archiveId ?? stanzaIdBy(inc.message, account),
    }
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

  return { receiveBatch, retryHeld, emitRejected, chosenEncrypted, pointer }
}
