/**
 * Received trust messages (internal): the checks made before the store is touched
 * ({@link check}: TM-24, TM-5, X2, X3, the codec's rules), then, in a transaction, qualification
 * of the sender (X7, X8, X9, ATM-4), D-8 within the message, and postpone (ATM-P1, ATM-P2) or
 * apply (ATM-R1 … R6, apply.ts) and release (release.ts). One message ({@link handleOne}) or a
 * batch with one savepoint per message ({@link handleBatch}).
 */
import type { BareJid, KeyId, KeyRef, Polarity, PostponedDecision, TrustMessage } from '@vouch/tm-core'
import { applyAutomatic } from './apply.ts'
import { TxCache } from './cache.ts'
import {
  AUTHENTICATED,
  type AutoDecision,
  type Engine,
  isStoreError,
  type OpContext,
  opContext,
  run,
  storeOf,
  unique,
} from './context.ts'
import { release } from './release.ts'
import type {
  AtmBackend,
  IgnoreReason,
  ReceivedTrustMessage,
  ReceiveResult,
  SkippedDecision,
  SkipReason,
  TransactionOptions,
} from './types.ts'
import { NS_ATM } from './types.ts'
import { canonicalMessage } from './validate.ts'

export function ignored(reason: IgnoreReason, skipped: readonly SkippedDecision[] = []): ReceiveResult {
  return { outcome: 'ignored', reason, changes: [], postponed: [], evicted: [], skipped, outgoing: [] }
}

export function rejected(error: unknown): ReceiveResult {
  const e = error instanceof Error ? error : new Error(String(error))
  return { outcome: 'rejected', error: e, changes: [], postponed: [], evicted: [], skipped: [], outgoing: [] }
}

/** A received message that passed the checks made before the store is touched. */
export interface Checked {
  readonly input: ReceivedTrustMessage
  /** the codec's validated copy of `input.message`: the only one read from here on */
  readonly message: TrustMessage
  readonly carrier: AtmBackend
  readonly keyBackend: AtmBackend
  readonly senderJid: BareJid
}

/**
 * The checks of a received message that need no store (TM-24, the sender's JID, the codec's
 * TM-5 … TM-11 and caps (X10) on the model, TM-5 usage, X2, X3): an `ignored` result, or what
 * {@link receive} needs. Throws the typed input errors.
 */
export function check(engine: Engine, input: ReceivedTrustMessage): Checked | ReceiveResult {
  // TM-24: our own message reflected (Carbons, MAM) — discarded before anything else.
  if (engine.ownFullJid !== undefined && input.senderJid === engine.ownFullJid) return ignored('own-full-jid')
  // the stanza sender must be a JID; its bare form is the sender's identity (X9)
  const senderJid = engine.bareJidOf(input.senderJid)
  // X10 and TM-5 … TM-11 on the model itself (a caller may hand us one it built), canonical
  const message = canonicalMessage(input.message, engine.codec)
  if (message.usage !== NS_ATM) return ignored('wrong-usage') // TM-5
  const carrier = engine.backends.get(input.carrier)
  if (carrier === undefined) return ignored('unknown-encryption')
  // TM-2, TM-3, TM-14, X2: encrypted, or signed by a backend that can sign.
  if (!input.encrypted && !(input.signed === true && carrier.capabilities.signsTrustMessages === true))
    return ignored('plaintext')
  const keyBackend = engine.backends.get(message.encryption)
  if (keyBackend === undefined) return ignored('unknown-encryption')
  if (message.encryption !== input.carrier && !engine.policy.allowCrossProtocol)
    return ignored('protocol-mismatch') // X3
  return { input, message, carrier, keyBackend, senderJid }
}

export const isChecked = (c: Checked | ReceiveResult): c is Checked => 'input' in c

/** `Atm.handleTrustMessage`: one message, one transaction (or savepoint of the caller's). */
export async function handleOne(
  engine: Engine,
  input: ReceivedTrustMessage,
  options?: TransactionOptions,
): Promise<ReceiveResult> {
  const checked = check(engine, input)
  if (!isChecked(checked)) return checked
  return run(engine, options, (ctx) => receive(engine, ctx, checked))
}

/**
 * `Atm.handleTrustMessages`: one transaction (or savepoint of the caller's) for the whole batch,
 * one savepoint (nested transaction) per message: the results and the final state are those of
 * `handleTrustMessage` called once per message, in order. A message that throws anything but a
 * `StoreError` (a typed input error, a throwing ATM-UI3 hook) gets an `outcome: 'rejected'`
 * result with the error, and nothing of it is stored; a `StoreError` rejects the whole batch, and
 * nothing of the batch is stored.
 */
export async function handleBatch(
  engine: Engine,
  inputs: readonly ReceivedTrustMessage[],
  options?: TransactionOptions,
): Promise<readonly ReceiveResult[]> {
  // every slot is filled: by the checks, by the message's savepoint, or by its error
  const results = new Array<ReceiveResult>(inputs.length)
  const todo: { readonly index: number; readonly checked: Checked }[] = []
  inputs.forEach((input, index) => {
    let c: Checked | ReceiveResult
    try {
      c = check(engine, input)
    } catch (error) {
      c = rejected(error)
    }
    if (isChecked(c)) todo.push({ index, checked: c })
    else results[index] = c
  })
  if (todo.length === 0) return results
  const emits: (() => void)[] = []
  await storeOf(engine, options).transaction(async (tx) => {
    const cache = new TxCache()
    for (const { index, checked } of todo) {
      let ctx: OpContext | undefined
      try {
        results[index] = await tx.transaction(async (sp) => {
          ctx = opContext(engine, sp, cache.child())
          const r = await receive(engine, ctx, checked)
          ctx.view.cache.commit()
          return r
        })
        if (ctx !== undefined) emits.push(...ctx.emits)
      } catch (error) {
        if (isStoreError(error)) throw error
        results[index] = rejected(error)
      }
    }
  })
  for (const e of emits) e()
  return results
}

/** ATM-R1 … R6, ATM-P1, ATM-P2 for one checked message, inside a transaction. */
export async function receive(engine: Engine, ctx: OpContext, checked: Checked): Promise<ReceiveResult> {
  const { input, message, carrier, keyBackend, senderJid } = checked
  const { account, emitter } = engine
  const enc = message.encryption
  const { tx, view } = ctx
  const isOwnSender = senderJid === account
  const ownCarrierKey = await view.ownKey(input.carrier)
  const ownSenderKey = input.senderKey === ownCarrierKey
  // X7: our own message replayed under another resource. With a one-key-per-identity carrier,
  // every own endpoint shares our key: that is an own endpoint, trusted as ourselves.
  if (ownSenderKey && !(carrier.capabilities.oneKeyPerIdentity && isOwnSender)) return ignored('own-key')

  const ownKey = await view.ownKey(enc)
  const skipped: SkippedDecision[] = []
  const decisions: AutoDecision[] = []
  for (const o of message.keyOwners) {
    const distrust = unique(o.distrust)
    const trust = unique(o.trust).filter((id) => !distrust.includes(id)) // D-8
    const entries: [KeyId, Polarity][] = [
      ...trust.map((id): [KeyId, Polarity] => [id, 'trust']),
      ...distrust.map((id): [KeyId, Polarity] => [id, 'distrust']),
    ]
    for (const [keyId, polarity] of entries) {
      const key: KeyRef = { encryption: enc, owner: o.jid, keyId }
      let reason: SkipReason | undefined
      if (!(isOwnSender || o.jid === senderJid))
        reason = 'unqualified-sender' // X9
      else if (o.jid === account && keyBackend.capabilities.oneKeyPerIdentity) reason = 'ook-own-account'
      else if (o.jid === account && keyId === ownKey) reason = 'own-key' // X8
      if (reason !== undefined) skipped.push({ key, polarity, reason })
      else decisions.push({ key, polarity, sceTime: input.sceTime, senderJid, senderKey: input.senderKey })
    }
  }
  const firstSkip = skipped[0]
  if (decisions.length === 0) return ignored(firstSkip?.reason ?? 'unqualified-sender', skipped)

  // The sender's key and the keys decided about: one read when they share a namespace (the
  // decisions below then read no key again).
  const decided = decisions.map((d) => d.key)
  let senderAuthenticated = true
  if (!ownSenderKey) {
    const sender = { owner: senderJid, keyId: input.senderKey }
    await view.loadKeys(input.carrier, input.carrier === enc ? [sender, ...decided] : [sender])
    senderAuthenticated = (await view.key(input.carrier, senderJid, input.senderKey))?.level === AUTHENTICATED
  }

  if (!senderAuthenticated) {
    // ATM-P1, ATM-P2: keep until the sender key is authenticated (D-8 keying, store-bounded).
    const toStore: PostponedDecision[] = decisions.map((d) => ({
      encryption: enc,
      senderKey: input.senderKey,
      senderJid,
      owner: d.key.owner,
      keyId: d.key.keyId,
      polarity: d.polarity,
      sceTime: input.sceTime,
      receivedAt: ctx.at,
    }))
    const res = await tx.addPostponed(toStore)
    view.notePostponed(res.stored)
    for (const p of res.ignored)
      skipped.push({
        key: { encryption: p.encryption, owner: p.owner, keyId: p.keyId },
        polarity: p.polarity,
        reason: 'replay',
      })
    for (const p of res.stored) ctx.emits.push(() => emitter.emit('decision-postponed', { decision: p }))
    for (const p of res.evicted) ctx.emits.push(() => emitter.emit('postponed-evicted', { decision: p }))
    if (res.stored.length === 0) return { ...ignored('replay', skipped), evicted: res.evicted }
    return {
      outcome: 'postponed',
      changes: [],
      postponed: res.stored,
      evicted: res.evicted,
      skipped,
      outgoing: [],
    }
  }

  // ATM-R1 … R6: apply now, then release what the newly authenticated keys had sent.
  await view.loadKeys(enc, decided) // already read above unless the namespaces differ
  const applied: AutoDecision[] = []
  const newly = await applyAutomatic(engine, ctx, decisions, skipped, applied)
  const direct = skipped.length
  await release(engine, ctx, newly, skipped)
  const directSkips = skipped.slice(0, direct)
  if (applied.length === 0)
    return { ...ignored(directSkips[0]?.reason ?? 'replay', skipped), changes: ctx.changes }
  return {
    outcome: directSkips.length === 0 ? 'applied' : 'partially-applied',
    changes: ctx.changes,
    postponed: [],
    evicted: [],
    skipped,
    outgoing: [], // D-5
  }
}
