/**
 * XEP-0450: Automatic Trust Management (ATM) — implements v0.4.0 (`urn:xmpp:atm:1`)
 * https://xmpp.org/extensions/xep-0450.html
 *
 * Pure decision logic over the `AccountTrustStore` contract: no crypto, no network, no clock
 * except `init.now`. Every manual decision and every received trust message is one store
 * transaction (all or nothing); events are emitted after it commits.
 */
import type {
  AccountTrustStore,
  BareJid,
  EncryptionNamespace,
  KeyId,
  KeyOwner,
  KeyRecord,
  KeyRef,
  Polarity,
  PostponedDecision,
  Provenance,
  SecurityPolicy,
  TrustLevel,
  TrustMessage,
} from '@vouch/tm-core'
import {
  ConfirmationDeniedError,
  DEFAULT_SECURITY_POLICY,
  DEFAULT_TRUST_MESSAGE_LIMITS,
  InvalidJidError,
  InvalidTrustMessageError,
  toBareJid,
} from '@vouch/tm-core'
import { TxCache, TxView } from './cache.ts'
import { createEmitter, type Emitter } from './emitter.ts'
import type {
  ApplyUriOptions,
  Atm,
  AtmBackend,
  AtmInit,
  AtmLimits,
  DecisionInput,
  DecisionOrigin,
  DecisionResult,
  IgnoreReason,
  KeysDiscoveredResult,
  OutgoingTrustMessage,
  PendingAutomaticDecision,
  ReceivedTrustMessage,
  ReceiveResult,
  ResolvedAtmPolicy,
  SkippedDecision,
  SkipReason,
  TrustUri,
  UriDecisionSummary,
} from './types.ts'
import { DEFAULT_ATM_POLICY, NS_ATM } from './types.ts'
import { type CodecRules, canonicalBareJid, canonicalMessage, canonicalOwner } from './validate.ts'

const AUTHENTICATED: TrustLevel = 'authenticated'
const MANUALLY_DISTRUSTED: TrustLevel = 'manually-distrusted'

/** One automatic decision (from a received message or a released postponed one). */
interface AutoDecision {
  readonly key: KeyRef
  readonly polarity: Polarity
  readonly sceTime: number
  readonly senderJid: BareJid
  readonly senderKey: KeyId
  /** set when the decision comes from the postponed store */
  readonly postponed?: PostponedDecision
}

/** State of one operation (one transaction, or one message of a batch: a savepoint). */
interface OpContext {
  readonly tx: AccountTrustStore
  /** the same transaction through the cache: every read and write of the hot paths goes here */
  readonly view: TxView
  readonly at: number
  readonly changes: KeyRecord[]
  /** deferred event emissions, run after commit */
  readonly emits: (() => void)[]
}

const keyOf = (k: KeyRef): string => `${k.encryption}\u0000${k.owner}\u0000${k.keyId}`
const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)]
const sorted = <T extends string>(xs: Iterable<T>): T[] => [...xs].sort()

/**
 * Creates the XEP-0450 engine of one account.
 *
 * @throws InvalidTrustMessageError when two backends declare the same namespace
 * @throws InvalidJidError (rule JID) when `account` is not a canonical bare JID
 */
export function createAtm(init: AtmInit): Atm {
  const account = canonicalBareJid(init.account, 'JID')
  const store = init.store
  const now = init.now
  const explicitSecurityPolicy: SecurityPolicy | undefined = init.policy?.securityPolicy
  const policy: ResolvedAtmPolicy = Object.freeze({
    ...DEFAULT_ATM_POLICY,
    ...stripUndefined(init.policy ?? {}),
    securityPolicy: explicitSecurityPolicy,
  })
  const limits: AtmLimits = Object.freeze({
    ...DEFAULT_TRUST_MESSAGE_LIMITS,
    ...stripUndefined(init.limits ?? {}),
  })
  const backends = new Map<EncryptionNamespace, AtmBackend>()
  for (const b of init.backends) {
    if (backends.has(b.namespace))
      throw new InvalidTrustMessageError('TM-6', `two backends declare the namespace ${b.namespace}`)
    backends.set(b.namespace, b)
  }
  /** the codec's rules for every model and key list handed to the engine (TM-5 … TM-11, caps) */
  const codec: CodecRules = {
    limits,
    keyIdLength: (enc) => backends.get(enc)?.capabilities.keyIdLength,
  }
  const emitter: Emitter = createEmitter()
  /** validated bare JIDs of recent stanza senders: a handful of endpoints send nearly everything */
  const bareJids = new Map<string, BareJid>()

  /** `toBareJid` (which validates and throws `InvalidJidError`), remembered for 256 senders. */
  function bareJidOf(jid: string): BareJid {
    let bare = bareJids.get(jid)
    if (bare === undefined) {
      bare = toBareJid(jid)
      if (bareJids.size >= 256) bareJids.clear()
      bareJids.set(jid, bare)
    }
    return bare
  }

  // ---------------------------------------------------------------- helpers

  const isOok = (enc: EncryptionNamespace): boolean =>
    backends.get(enc)?.capabilities.oneKeyPerIdentity === true

  function requireBackend(enc: EncryptionNamespace): AtmBackend {
    const b = backends.get(enc)
    if (b === undefined) throw new InvalidTrustMessageError('TM-6', `no backend for the encryption ${enc}`)
    return b
  }

  /** One owner's keys given directly: the codec's checks for that backend, canonical (validate.ts). */
  function checkOwner(
    enc: EncryptionNamespace,
    owner: BareJid,
    trust: readonly KeyId[],
    distrust: readonly KeyId[],
  ): KeyOwner {
    return canonicalOwner(enc, NS_ATM, owner, trust, distrust, codec)
  }

  async function securityPolicyOf(view: TxView, enc: EncryptionNamespace): Promise<SecurityPolicy> {
    return explicitSecurityPolicy ?? (await view.securityPolicy(enc)) ?? DEFAULT_SECURITY_POLICY
  }

  function opContext(tx: AccountTrustStore, cache: TxCache): OpContext {
    return { tx, view: new TxView(tx, cache), at: now(), changes: [], emits: [] }
  }

  /** Runs `fn` in one transaction and emits its events once it committed. */
  async function run<T>(fn: (ctx: OpContext) => Promise<T>): Promise<T> {
    let ctx: OpContext | undefined
    const result = await store.transaction(async (tx) => {
      ctx = opContext(tx, new TxCache())
      return fn(ctx)
    })
    if (ctx !== undefined) for (const e of ctx.emits) e()
    return result
  }

  /**
   * Sets `level` on keys of one owner, records the changes and their events, and applies the
   * side effects every path shares: TOAKAFA demotion after an authentication (TOAK-2), deletion of
   * postponed data sent by a distrusted key (QXmpp §3.3 step 5).
   */
  async function setLevel(
    ctx: OpContext,
    enc: EncryptionNamespace,
    owner: BareJid,
    keyIds: readonly KeyId[],
    level: TrustLevel,
    provenance: Provenance,
  ): Promise<readonly KeyRecord[]> {
    if (keyIds.length === 0) return []
    const { tx, view, at } = ctx
    const before = new Map<KeyId, TrustLevel>()
    for (const id of keyIds) before.set(id, (await view.key(enc, owner, id))?.level ?? 'undecided')
    const changed = await tx.setTrustLevels(enc, [{ owner, keyIds, level }], { provenance, at })
    view.remember(changed)
    record(ctx, changed, (r) => before.get(r.keyId) ?? 'undecided')
    // TOAK-2; skipped when the owner is known to have no automatically trusted key left
    if (level === AUTHENTICATED && changed.length > 0 && !view.hasNoAutoTrusted(enc, owner)) {
      if ((await securityPolicyOf(view, enc)) === 'toakafa') {
        const policyProvenance: Provenance = { kind: 'policy', policy: 'toakafa' }
        const demoted = await tx.changeTrustLevels(
          enc,
          [owner],
          'automatically-trusted',
          'automatically-distrusted',
          { provenance: policyProvenance, at },
        )
        view.remember(demoted)
        view.markNoAutoTrusted(enc, owner)
        record(ctx, demoted, () => 'automatically-trusted')
      }
    }
    if (level === MANUALLY_DISTRUSTED && changed.length > 0) {
      const ids = changed.map((r) => r.keyId)
      for (const ns of senderNamespaces(enc)) await view.removePostponedBySenders(ns, ids)
    }
    return changed
  }

  function record(ctx: OpContext, records: readonly KeyRecord[], from: (r: KeyRecord) => TrustLevel): void {
    for (const r of records) {
      ctx.changes.push(r)
      const payload = {
        key: { encryption: r.encryption, owner: r.owner, keyId: r.keyId },
        from: from(r),
        to: r.level,
        provenance: r.provenance,
        at: ctx.at,
      }
      ctx.emits.push(() => emitter.emit('level-changed', payload))
    }
  }

  /**
   * Namespaces whose postponed data may have been sent by a key of `enc`: the decisions a sender
   * key made are stored under the namespace of the keys they are about, which differs from the
   * carrier's only with `allowCrossProtocol`.
   */
  function senderNamespaces(enc: EncryptionNamespace): EncryptionNamespace[] {
    if (!policy.allowCrossProtocol) return [enc]
    return unique([enc, ...backends.keys()])
  }

  /**
   * Applies automatic decisions (trusts first, then distrusts: D-8 across senders) and returns the
   * keys that became authenticated.
   */
  async function applyAutomatic(
    ctx: OpContext,
    decisions: readonly AutoDecision[],
    skipped: SkippedDecision[],
    applied: AutoDecision[],
  ): Promise<KeyRef[]> {
    const { view } = ctx
    const ordered = [
      ...decisions.filter((d) => d.polarity === 'trust'),
      ...decisions.filter((d) => d.polarity === 'distrust'),
    ]
    const authenticated: KeyRef[] = []
    for (const d of ordered) {
      const { encryption: enc, owner, keyId } = d.key
      const skip = (reason: SkipReason): void => {
        skipped.push({ key: d.key, polarity: d.polarity, reason })
      }
      const last = await view.lastApplied(enc, d.senderKey, owner, keyId)
      if (last !== undefined && d.sceTime <= last) {
        skip('replay')
        continue
      }
      const existing = await view.key(enc, owner, keyId)
      const from = existing?.level ?? 'undecided'
      const to = d.polarity === 'trust' ? AUTHENTICATED : MANUALLY_DISTRUSTED
      if (from !== to) {
        if (d.polarity === 'trust' && existing !== undefined && existing.level === MANUALLY_DISTRUSTED) {
          if (policy.manualDecisionsFinal && isManualDistrust(existing)) {
            skip('manual-final') // D-10 switch
            continue
          }
          if (isStaleTrust(existing, d)) {
            skip('stale') // D-9 across senders
            continue
          }
        }
        if (policy.requireConfirmation) {
          const pending: PendingAutomaticDecision = {
            key: d.key,
            polarity: d.polarity,
            from,
            to,
            senderJid: d.senderJid,
            senderKey: d.senderKey,
            sceTime: d.sceTime,
          }
          const ok = init.confirm === undefined ? false : await init.confirm(pending)
          if (!ok) {
            ctx.emits.push(() => emitter.emit('decision-vetoed', { decision: pending }))
            skip('vetoed')
            continue
          }
        }
        const provenance: Provenance = { kind: 'atm', senderJid: d.senderJid, senderKey: d.senderKey }
        const changed = await setLevel(ctx, enc, owner, [keyId], to, provenance)
        if (to === AUTHENTICATED && changed.length > 0) authenticated.push(d.key)
      }
      await view.setLastApplied(enc, d.senderKey, owner, keyId, d.sceTime)
      applied.push(d)
      const p = d.postponed
      if (p !== undefined) ctx.emits.push(() => emitter.emit('postponed-applied', { decision: p }))
    }
    return authenticated
  }

  /**
   * ATM-P1: releases the postponed decisions sent by newly authenticated keys, recursively (X13):
   * a key authenticated by a released decision releases its own postponed data in the next round.
   * Each sender's data is deleted when read, so chains cannot loop.
   */
  async function release(
    ctx: OpContext,
    frontier0: readonly KeyRef[],
    skipped: SkippedDecision[],
  ): Promise<void> {
    const { tx, view } = ctx
    const done = new Set<string>()
    let frontier = frontier0
    while (frontier.length > 0) {
      const collected: AutoDecision[] = []
      for (const sender of frontier) {
        const id = keyOf(sender)
        if (done.has(id)) continue
        done.add(id)
        for (const ns of senderNamespaces(sender.encryption)) {
          // skipped when this transaction already knows the sender has nothing postponed
          if (view.mayHavePostponed(ns, [sender.keyId]).length === 0) continue
          const pending = await tx.getPostponed(ns, { senderKeys: [sender.keyId] })
          if (pending.length > 0) await tx.removePostponedBySenders(ns, [sender.keyId])
          view.markNoPostponed(ns, [sender.keyId])
          for (const p of pending) {
            if (p.senderJid !== sender.owner) continue // recorded for another sender identity: junk
            if (!(p.senderJid === account || p.owner === p.senderJid)) continue // qualification (X9)
            if (p.owner === account) {
              if (isOok(p.encryption)) continue
              if (p.keyId === (await view.ownKey(p.encryption))) continue // X8
            }
            collected.push({
              key: { encryption: p.encryption, owner: p.owner, keyId: p.keyId },
              polarity: p.polarity,
              sceTime: p.sceTime,
              senderJid: p.senderJid,
              senderKey: p.senderKey,
              postponed: p,
            })
          }
        }
      }
      collected.sort((a, b) => a.sceTime - b.sceTime)
      const newly = await applyAutomatic(ctx, collected, skipped, [])
      const next: KeyRef[] = []
      for (const k of newly) {
        if ((await view.key(k.encryption, k.owner, k.keyId))?.level === AUTHENTICATED) next.push(k)
      }
      frontier = next
    }
  }

  // ---------------------------------------------------------------- local decisions

  async function decide(
    input: DecisionInput,
    origin: DecisionOrigin = { source: 'manual' },
  ): Promise<DecisionResult> {
    const enc = input.encryption
    const backend = requireBackend(enc)
    const checked = checkOwner(enc, input.owner, input.trust ?? [], input.distrust ?? [])
    const owner = checked.jid
    const trustIn = checked.trust
    const distrustIn = checked.distrust
    const ook = backend.capabilities.oneKeyPerIdentity
    if (ook && owner === account)
      throw new InvalidJidError(
        'ATM-4',
        `${enc} uses one key per identity: only keys of contacts can be authenticated or distrusted, not those of ${account}`,
      )
    const provenance: Provenance =
      origin.source === 'manual' ? { kind: 'manual' } : { kind: 'uri', source: origin.uriSource }

    return run(async (ctx) => {
      const { tx, view } = ctx
      const ownKey = await view.ownKey(enc)
      const notOwn = (id: KeyId): boolean => !(owner === account && id === ownKey) // X8
      const distrustSet = unique(distrustIn).filter(notOwn)
      const trustSet = unique(trustIn).filter((id) => notOwn(id) && !distrustSet.includes(id)) // D-8
      const toAuth: KeyId[] = []
      for (const id of trustSet)
        if ((await view.key(enc, owner, id))?.level !== AUTHENTICATED) toAuth.push(id)
      const toDist: KeyId[] = []
      for (const id of distrustSet)
        if ((await view.key(enc, owner, id))?.level !== MANUALLY_DISTRUSTED) toDist.push(id)
      if (toAuth.length === 0 && toDist.length === 0) return { changes: [], outgoing: [] } // QXmpp 8

      // State before the decision (QXmpp's manual algorithm, §3.3).
      const pre = (await tx.getKeys(enc, { levels: [AUTHENTICATED, MANUALLY_DISTRUSTED] })).filter(
        (r) => !(r.owner === account && r.keyId === ownKey),
      )
      const byOwner = (level: TrustLevel, own: boolean): Map<BareJid, KeyId[]> => {
        const m = new Map<BareJid, KeyId[]>()
        for (const r of pre) {
          if (r.level !== level || (r.owner === account) !== own) continue
          const list = m.get(r.owner) ?? []
          list.push(r.keyId)
          m.set(r.owner, list)
        }
        return m
      }
      const ownAuthPre = byOwner(AUTHENTICATED, true).get(account) ?? []
      const ownDistPre = byOwner(MANUALLY_DISTRUSTED, true).get(account) ?? []
      const contactsAuthPre = byOwner(AUTHENTICATED, false)
      const contactsDistPre = byOwner(MANUALLY_DISTRUSTED, false)
      const changedOwner: KeyOwner = { jid: owner, trust: sorted(toAuth), distrust: sorted(toDist) }

      const plans: { to: BareJid; owners: KeyOwner[] }[] = []
      const ownOwnerPre = (): KeyOwner | undefined => {
        const trust = sorted(ownAuthPre.filter((id) => !(owner === account && toDist.includes(id))))
        const distrust = sorted(ownDistPre)
        return trust.length + distrust.length > 0 ? { jid: account, trust, distrust } : undefined
      }

      if (ook) {
        // ATM-4, ATM-S1/S6 (OOK): always to own endpoints, which share our key.
        plans.push({ to: account, owners: [changedOwner] })
      } else if (owner === account) {
        // ATM-S3, ATM-S5: the changed own keys to every contact with authenticated keys (own
        // endpoints get a Carbon copy), or to own bare JID when no contact has one.
        for (const contact of sorted(contactsAuthPre.keys()))
          plans.push({ to: contact, owners: [changedOwner] })
        if (contactsAuthPre.size === 0 && ownAuthPre.length > 0)
          plans.push({ to: account, owners: [changedOwner] })
      } else if (ownAuthPre.length > 0) {
        // ATM-S1, ATM-S6: the changed contact keys to own endpoints with authenticated keys.
        plans.push({ to: account, owners: [changedOwner] })
      }

      const newlyAuthenticated = await setLevel(ctx, enc, owner, toAuth, AUTHENTICATED, provenance)
      await setLevel(ctx, enc, owner, toDist, MANUALLY_DISTRUSTED, provenance)

      if (!ook && toAuth.length > 0) {
        if (owner === account) {
          // ATM-S4: all authenticated (and, as QXmpp, manually distrusted) keys of all endpoints
          // to the own endpoints whose keys were just authenticated.
          const owners: KeyOwner[] = []
          for (const contact of sorted(new Set([...contactsAuthPre.keys(), ...contactsDistPre.keys()]))) {
            owners.push({
              jid: contact,
              trust: sorted(contactsAuthPre.get(contact) ?? []),
              distrust: sorted(contactsDistPre.get(contact) ?? []),
            })
          }
          const own = ownOwnerPre()
          if (own !== undefined) owners.push(own)
          if (owners.length > 0) plans.push({ to: account, owners })
        } else {
          // ATM-S2: own authenticated (and manually distrusted) keys to the contact.
          const own = ownOwnerPre()
          if (own !== undefined) plans.push({ to: owner, owners: [own] })
        }
      }

      // ATM-P1: postponed data of the newly authenticated keys (automatic, never re-broadcast: D-5).
      const releasedSkips: SkippedDecision[] = []
      await release(
        ctx,
        newlyAuthenticated.map((r) => ({ encryption: enc, owner: r.owner, keyId: r.keyId })),
        releasedSkips,
      )

      const outgoing: OutgoingTrustMessage[] = []
      for (const plan of plans) {
        const allowedKeys = await allowedKeysFor(tx, enc, plan.to, ownKey, ook, plan.owners)
        if (allowedKeys.length === 0) continue // nobody could read it
        const message: TrustMessage = { usage: NS_ATM, encryption: enc, keyOwners: plan.owners }
        outgoing.push({ to: plan.to, message, allowedKeys })
      }
      return { changes: ctx.changes, outgoing }
    })
  }

  /**
   * TM-15, TM-21: the keys a trust message to `to` may be encrypted for, in the state after the
   * decision: authenticated keys of `to` and our own other authenticated keys, minus our own key
   * and minus the keys the message itself authenticates (a key is never told about itself, so
   * ATM-S3 reaches exactly the endpoints "with an already authenticated key" and ATM-S4 exactly the
   * newly authenticated ones).
   */
  async function allowedKeysFor(
    tx: AccountTrustStore,
    enc: EncryptionNamespace,
    to: BareJid,
    ownKey: KeyId | undefined,
    ook: boolean,
    subject: readonly KeyOwner[],
  ): Promise<KeyRef[]> {
    if (ook && to === account)
      return ownKey === undefined ? [] : [{ encryption: enc, owner: account, keyId: ownKey }]
    const vouched = new Set(subject.flatMap((o) => o.trust.map((id) => `${o.jid} ${id}`)))
    const owners = to === account ? [account] : [to, account]
    const keys = await tx.getKeys(enc, { owners, levels: [AUTHENTICATED] })
    return keys
      .filter((r) => !(r.owner === account && r.keyId === ownKey) && !vouched.has(`${r.owner} ${r.keyId}`))
      .map((r) => ({ encryption: enc, owner: r.owner, keyId: r.keyId }))
  }

  // ---------------------------------------------------------------- received messages

  function ignored(reason: IgnoreReason, skipped: readonly SkippedDecision[] = []): ReceiveResult {
    return { outcome: 'ignored', reason, changes: [], postponed: [], evicted: [], skipped, outgoing: [] }
  }

  function rejected(error: unknown): ReceiveResult {
    const e = error instanceof Error ? error : new Error(String(error))
    return {
      outcome: 'rejected',
      error: e,
      changes: [],
      postponed: [],
      evicted: [],
      skipped: [],
      outgoing: [],
    }
  }

  /** A received message that passed the checks made before the store is touched. */
  interface Checked {
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
  function check(input: ReceivedTrustMessage): Checked | ReceiveResult {
    // TM-24: our own message reflected (Carbons, MAM) — discarded before anything else.
    if (init.ownFullJid !== undefined && input.senderJid === init.ownFullJid) return ignored('own-full-jid')
    // the stanza sender must be a JID; its bare form is the sender's identity (X9)
    const senderJid = bareJidOf(input.senderJid)
    // X10 and TM-5 … TM-11 on the model itself (a caller may hand us one it built), canonical
    const message = canonicalMessage(input.message, codec)
    if (message.usage !== NS_ATM) return ignored('wrong-usage') // TM-5
    const carrier = backends.get(input.carrier)
    if (carrier === undefined) return ignored('unknown-encryption')
    // TM-2, TM-3, TM-14, X2: encrypted, or signed by a backend that can sign.
    if (!input.encrypted && !(input.signed === true && carrier.capabilities.signsTrustMessages === true))
      return ignored('plaintext')
    const keyBackend = backends.get(message.encryption)
    if (keyBackend === undefined) return ignored('unknown-encryption')
    if (message.encryption !== input.carrier && !policy.allowCrossProtocol)
      return ignored('protocol-mismatch') // X3
    return { input, message, carrier, keyBackend, senderJid }
  }

  const isChecked = (c: Checked | ReceiveResult): c is Checked => 'input' in c

  async function handleTrustMessage(input: ReceivedTrustMessage): Promise<ReceiveResult> {
    const checked = check(input)
    if (!isChecked(checked)) return checked
    return run((ctx) => receive(ctx, checked))
  }

  /**
   * One transaction for the whole batch, one savepoint (nested transaction) per message: the
   * results and the final state are those of `handleTrustMessage` called once per message, in
   * order. A message that throws anything but a `StoreError` (a typed input error, a throwing
   * ATM-UI3 hook) gets an `outcome: 'rejected'` result with the error, and nothing of it is
   * stored; a `StoreError` rejects the whole batch, and nothing of the batch is stored.
   */
  async function handleTrustMessages(
    inputs: readonly ReceivedTrustMessage[],
  ): Promise<readonly ReceiveResult[]> {
    // every slot is filled: by the checks, by the message's savepoint, or by its error
    const results = new Array<ReceiveResult>(inputs.length)
    const todo: { readonly index: number; readonly checked: Checked }[] = []
    inputs.forEach((input, index) => {
      let c: Checked | ReceiveResult
      try {
        c = check(input)
      } catch (error) {
        c = rejected(error)
      }
      if (isChecked(c)) todo.push({ index, checked: c })
      else results[index] = c
    })
    if (todo.length === 0) return results
    const emits: (() => void)[] = []
    await store.transaction(async (tx) => {
      const cache = new TxCache()
      for (const { index, checked } of todo) {
        let ctx: OpContext | undefined
        try {
          results[index] = await tx.transaction(async (sp) => {
            ctx = opContext(sp, cache.child())
            const r = await receive(ctx, checked)
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
  async function receive(ctx: OpContext, checked: Checked): Promise<ReceiveResult> {
    const { input, message, carrier, keyBackend, senderJid } = checked
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
      senderAuthenticated =
        (await view.key(input.carrier, senderJid, input.senderKey))?.level === AUTHENTICATED
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
    const newly = await applyAutomatic(ctx, decisions, skipped, applied)
    const direct = skipped.length
    await release(ctx, newly, skipped)
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

  // ---------------------------------------------------------------- other entry points

  async function keysDiscovered(
    enc: EncryptionNamespace,
    ownerIn: BareJid,
    keyIds: readonly KeyId[],
  ): Promise<KeysDiscoveredResult> {
    const backend = requireBackend(enc)
    const { jid: owner, trust: discovered } = checkOwner(enc, ownerIn, keyIds, [])
    return run(async (ctx) => {
      const { tx, view, at } = ctx
      if (owner === account && backend.capabilities.oneKeyPerIdentity) return { added: [] }
      const ownKey = await view.ownKey(enc)
      const ids = discovered.filter((id) => !(owner === account && id === ownKey))
      if (ids.length === 0) return { added: [] }
      const securityPolicy = await securityPolicyOf(view, enc)
      // TOAK-1 … TOAK-3, D-11 (sticky per owner): blind trust only before the first authentication.
      const level: TrustLevel =
        securityPolicy === 'toakafa' && !(await tx.wasAuthenticatedOnce(enc, owner))
          ? 'automatically-trusted'
          : 'automatically-distrusted'
      const added = await tx.addKeys(
        enc,
        owner,
        ids,
        { provenance: { kind: 'policy', policy: securityPolicy }, at },
        level,
      )
      view.remember(added)
      record(ctx, added, () => 'undecided')
      return { added }
    })
  }

  async function applyUri(uri: TrustUri, options: ApplyUriOptions): Promise<DecisionResult> {
    const backend = requireBackend(uri.encryption)
    const checked = checkOwner(uri.encryption, uri.jid, uri.trust, uri.distrust)
    const jid = checked.jid
    if (backend.capabilities.oneKeyPerIdentity && jid === account)
      throw new InvalidJidError(
        'ATM-4',
        `${uri.encryption} uses one key per identity: a URI for ${account} has no effect`,
      )
    const ownKey = await store.getOwnKey(uri.encryption)
    const isOwn = (id: KeyId): boolean => jid === account && id === ownKey
    const distrust = checked.distrust
    const trust = checked.trust.filter((id) => !distrust.includes(id))
    const authenticate: KeyId[] = []
    const distrustNow: KeyId[] = []
    for (const id of trust)
      if (!isOwn(id) && (await store.getTrustLevel(uri.encryption, jid, id)) !== AUTHENTICATED)
        authenticate.push(id)
    for (const id of distrust)
      if (!isOwn(id) && (await store.getTrustLevel(uri.encryption, jid, id)) !== MANUALLY_DISTRUSTED)
        distrustNow.push(id)
    const summary: UriDecisionSummary = {
      jid,
      encryption: uri.encryption,
      uriSource: options.uriSource,
      authenticate,
      distrust: distrustNow,
      skippedOwnKeys: [...trust, ...distrust].filter(isOwn),
    }
    // URI-4, X15: nothing is stored and nothing is sent unless the user confirms.
    if (!(await options.confirm(summary)))
      throw new ConfirmationDeniedError('URI-4', `the Trust Message URI for ${jid} was not confirmed`)
    return decide(
      { encryption: uri.encryption, owner: jid, trust, distrust },
      { source: 'uri', uriSource: options.uriSource },
    )
  }

  return {
    account,
    policy,
    effectiveSecurityPolicy: async (encryption) =>
      explicitSecurityPolicy ?? (await store.getSecurityPolicy(encryption)) ?? DEFAULT_SECURITY_POLICY,
    decide,
    authenticate: (encryption, owner, keyIds, origin) => decide({ encryption, owner, trust: keyIds }, origin),
    distrust: (encryption, owner, keyIds, origin) => decide({ encryption, owner, distrust: keyIds }, origin),
    applyUri,
    handleTrustMessage,
    handleTrustMessages,
    keysDiscovered,
    resetToakafa: async (encryption, owner) =>
      store.resetAuthenticatedOnce(encryption, canonicalBareJid(owner)),
    on: (event, listener) => emitter.on(event, listener),
  }
}

/**
 * D-9 across senders (the cross-endpoint stale message): an automatic trust is not applied to a
 * key whose current level is a distrust decision (`manually-distrusted`: made here by a person or
 * a URI, or applied from another endpoint's trust message) that is not older than the trust
 * message. "Older" compares the trust message's SCE time (the sender's clock, within the SCE-1
 * margin of its sending time) with the key record's `changedAt` (this endpoint's clock when the
 * distrust was stored), so the comparison is only as exact as that margin; within it, ties and
 * doubt keep the distrust (the fail-safe direction). A distrust from the same sender key is left
 * to D-9's per-sender order, which already found the trust newer. `automatically-distrusted` is a
 * policy default, not a decision: trust messages still apply over it (ATM-P2, X12).
 */
function isStaleTrust(existing: KeyRecord, d: AutoDecision): boolean {
  const p = existing.provenance
  if (p.kind === 'atm' && p.senderKey === d.senderKey && p.senderJid === d.senderJid) return false
  return existing.changedAt >= d.sceTime
}

/** `StoreError` or `StoreBusyError`, checked by name (a package may be installed twice). */
function isStoreError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'StoreError' || e.name === 'StoreBusyError')
}

/** A distrust made by a person (here or by URI), as opposed to one made by ATM or the policy. */
function isManualDistrust(r: KeyRecord): boolean {
  return r.level === MANUALLY_DISTRUSTED && (r.provenance.kind === 'manual' || r.provenance.kind === 'uri')
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
