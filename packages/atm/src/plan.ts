/**
 * ATM-S1 … S6 (XEP-0450 §Use Cases, sending): which trust messages a local decision sends, to
 * whom, and for which keys they may be encrypted. Pure functions over the state before the
 * decision (read by the caller): no store, no clock, no I/O. The engine's `decide` reads that
 * state in its transaction and calls {@link planMessages} and {@link allowedKeys}; the same
 * pieces composed over the state before alone are {@link planDecision}.
 */
import type {
  BareJid,
  EncryptionNamespace,
  KeyId,
  KeyOwner,
  KeyRef,
  TrustLevel,
  TrustMessage,
} from '@vouch/tm-core'
import type { OutgoingTrustMessage } from './types.ts'
import { NS_ATM } from './types.ts'

const AUTHENTICATED: TrustLevel = 'authenticated'
const MANUALLY_DISTRUSTED: TrustLevel = 'manually-distrusted'
const sorted = <T extends string>(xs: Iterable<T>): T[] => [...xs].sort()

/** One stored key and its level (a `KeyRecord` will do). */
export interface PlanKey {
  readonly owner: BareJid
  readonly keyId: KeyId
  readonly level: TrustLevel
}

/** What planning needs to know about one account and encryption before a decision. */
export interface PlanState {
  /** our own bare JID */
  readonly account: BareJid
  readonly encryption: EncryptionNamespace
  /** the backend's `oneKeyPerIdentity` (OX): ATM-4, X16 */
  readonly oneKeyPerIdentity: boolean
  /** this endpoint's own key: never listed, never a recipient (X8) */
  readonly ownKey: KeyId | undefined
  /**
   * The stored keys of `encryption` before the decision. Only `authenticated` and
   * `manually-distrusted` keys count; others are ignored, so the caller may pass just those.
   */
  readonly keys: readonly PlanKey[]
  /**
   * D-12: the protocol that carries the messages when `encryption` cannot (a `bodyOnly` backend,
   * OMEMO 0.3), with its own state before the decision. Who receives a message (the endpoints
   * "with an authenticated key") and the keys it may be encrypted for are then read here; what
   * the messages say is still read from `keys`. Absent: `encryption` carries its own messages.
   */
  readonly carrier?: CarrierState
}

/** The carrier of cross-protocol messages: its namespace and state before the decision. */
export interface CarrierState {
  readonly encryption: EncryptionNamespace
  readonly oneKeyPerIdentity: boolean
  /** this endpoint's own key in the carrier (never a recipient) */
  readonly ownKey: KeyId | undefined
  /** stored keys of the carrier before the decision (`authenticated` ones count) */
  readonly keys: readonly PlanKey[]
  /**
   * D-12 identity linking: the ids in `encryption` (the listed keys' protocol) of the same key
   * pair as a carrier key id. A reader is then never told about itself across protocols either
   * ({@link allowedKeys}). Absent: no link (or `linkIdentities: false`).
   */
  readonly twins?: (carrierKeyId: KeyId) => readonly KeyId[]
}

/** The state recipients and allowed keys are read from: the carrier's, or the listed keys' own. */
const recipientsOf = (state: Omit<PlanState, 'keys'> & { readonly keys?: readonly PlanKey[] }) =>
  state.carrier ?? state

/**
 * A local decision about one owner's keys, as it changes the store: the keys whose level becomes
 * `authenticated` and those that become `manually-distrusted` (keys already at that level, our
 * own key and, for D-8, keys listed in both are left out by the caller).
 */
export interface LocalChange {
  readonly owner: BareJid
  readonly authenticate: readonly KeyId[]
  readonly distrust: readonly KeyId[]
}

/** A trust message to send, before its recipients' keys are known. */
export interface PlannedTrustMessage {
  /** bare JID to address the stanza to (own endpoints are reached by Carbons) */
  readonly to: BareJid
  readonly message: TrustMessage
}

/**
 * ATM-S1 … S6 for one local decision, in sending order: the messages and where they go, from the
 * state before the decision. Nothing when the change is empty (QXmpp 8, D-5: only decisions made
 * on this endpoint are sent, by the caller's choice of calling this).
 */
export function planMessages(state: PlanState, change: LocalChange): PlannedTrustMessage[] {
  const { account, encryption, ownKey } = state
  const { owner, authenticate: toAuth, distrust: toDist } = change
  if (toAuth.length === 0 && toDist.length === 0) return []
  // State before the decision (QXmpp's manual algorithm, §3.3), our own key left out (X8).
  const ownAuthPre: KeyId[] = []
  const ownDistPre: KeyId[] = []
  const contactsAuthPre = new Map<BareJid, KeyId[]>()
  const contactsDistPre = new Map<BareJid, KeyId[]>()
  for (const r of state.keys) {
    const own = r.owner === account
    if (own && r.keyId === ownKey) continue
    if (r.level === AUTHENTICATED) {
      if (own) ownAuthPre.push(r.keyId)
      else push(contactsAuthPre, r.owner, r.keyId)
    } else if (r.level === MANUALLY_DISTRUSTED) {
      if (own) ownDistPre.push(r.keyId)
      else push(contactsDistPre, r.owner, r.keyId)
    }
  }
  const changedOwner: KeyOwner = { jid: owner, trust: sorted(toAuth), distrust: sorted(toDist) }
  // Recipients: endpoints with authenticated keys in the carrier (the listed keys' own protocol
  // unless it cannot carry a trust message, D-12).
  let ownAuthRecipients = ownAuthPre.length
  let contactRecipients: BareJid[] = sorted(contactsAuthPre.keys())
  if (state.carrier !== undefined) {
    const c = state.carrier
    ownAuthRecipients = 0
    const contacts = new Set<BareJid>()
    for (const r of c.keys) {
      if (r.level !== AUTHENTICATED) continue
      if (r.owner === account) {
        if (r.keyId !== c.ownKey) ownAuthRecipients++
      } else contacts.add(r.owner)
    }
    contactRecipients = sorted(contacts)
    // ATM-4: with one key per identity our own endpoints share the carrier's own key
    if (c.oneKeyPerIdentity && c.ownKey !== undefined) ownAuthRecipients = Math.max(ownAuthRecipients, 1)
  }

  const plans: { to: BareJid; owners: KeyOwner[] }[] = []
  const ownOwnerPre = (): KeyOwner | undefined => {
    const trust = sorted(ownAuthPre.filter((id) => !(owner === account && toDist.includes(id))))
    const distrust = sorted(ownDistPre)
    return trust.length + distrust.length > 0 ? { jid: account, trust, distrust } : undefined
  }

  if (state.oneKeyPerIdentity) {
    // ATM-4, ATM-S1/S6 (OOK): always to own endpoints, which share our key.
    plans.push({ to: account, owners: [changedOwner] })
  } else if (owner === account) {
    // ATM-S3, ATM-S5: the changed own keys to every contact with authenticated keys (own
    // endpoints get a Carbon copy), or to own bare JID when no contact has one.
    for (const contact of contactRecipients) plans.push({ to: contact, owners: [changedOwner] })
    if (contactRecipients.length === 0 && ownAuthRecipients > 0)
      plans.push({ to: account, owners: [changedOwner] })
  } else if (ownAuthRecipients > 0) {
    // ATM-S1, ATM-S6: the changed contact keys to own endpoints with authenticated keys.
    plans.push({ to: account, owners: [changedOwner] })
  }

  if (!state.oneKeyPerIdentity && toAuth.length > 0) {
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
  return plans.map((p) => ({ to: p.to, message: { usage: NS_ATM, encryption, keyOwners: p.owners } }))
}

/**
 * The stored owners whose authenticated keys {@link allowedKeys} reads for a message to `to`
 * (`undefined`: none are needed, a one-key-per-identity message to our own account).
 */
export function recipientOwners(state: Omit<PlanState, 'keys'>, to: BareJid): BareJid[] | undefined {
  if (recipientsOf(state).oneKeyPerIdentity && to === state.account) return undefined
  return to === state.account ? [state.account] : [to, state.account]
}

/**
 * TM-15, TM-21: the keys a trust message to `planned.to` may be encrypted for, given the keys in
 * the state after the decision (`after`; only `authenticated` ones of `to` and of our account
 * count): authenticated keys of `to` and our own other authenticated keys, minus our own key and
 * minus the keys the message itself authenticates (a key is never told about itself, so ATM-S3
 * reaches exactly the endpoints "with an already authenticated key" and ATM-S4 exactly the newly
 * authenticated ones). ATM-4, X16: a one-key-per-identity message to our own account is for our
 * own (shared) key. Order: that of `after`.
 */
export function allowedKeys(
  state: Omit<PlanState, 'keys'>,
  planned: PlannedTrustMessage,
  after: readonly PlanKey[],
): KeyRef[] {
  const { account } = state
  // D-12: with a carrier, its keys (the caller reads `after` in the carrier's namespace)
  const { encryption, ownKey, oneKeyPerIdentity } = recipientsOf(state)
  const to = planned.to
  if (oneKeyPerIdentity && to === account)
    return ownKey === undefined ? [] : [{ encryption, owner: account, keyId: ownKey }]
  const vouched = new Set(planned.message.keyOwners.flatMap((o) => o.trust.map((id) => `${o.jid} ${id}`)))
  // over a carrier the listed ids are of another protocol: the same key pair's carrier id is the
  // endpoint the message tells about (D-12 identity linking)
  const twins = state.carrier?.twins
  const told = (r: PlanKey): boolean =>
    vouched.has(`${r.owner} ${r.keyId}`) ||
    twins?.(r.keyId).some((id) => vouched.has(`${r.owner} ${id}`)) === true
  const out: KeyRef[] = []
  for (const r of after) {
    if (r.level !== AUTHENTICATED || !(r.owner === to || r.owner === account)) continue
    if (r.owner === account && r.keyId === ownKey) continue
    if (told(r)) continue
    out.push({ encryption, owner: r.owner, keyId: r.keyId })
  }
  return out
}

/**
 * D-12 identity linking: the level changes a local decision made in other protocols (the twins
 * `setLevel` gave the same decision), as one {@link LocalChange} per protocol, in the order met.
 * Each is planned like a decision of its own in its protocol ({@link planMessages} over that
 * protocol's state before the decision): ATM-S1 … S6 are not written a second time.
 */
export function linkedChanges(
  owner: BareJid,
  changed: readonly (PlanKey & { readonly encryption: EncryptionNamespace })[],
): Map<EncryptionNamespace, LocalChange> {
  const out = new Map<EncryptionNamespace, { owner: BareJid; authenticate: KeyId[]; distrust: KeyId[] }>()
  for (const r of changed) {
    if (r.owner !== owner || (r.level !== AUTHENTICATED && r.level !== MANUALLY_DISTRUSTED)) continue
    const c = out.get(r.encryption) ?? { owner, authenticate: [], distrust: [] }
    out.set(r.encryption, c)
    ;(r.level === AUTHENTICATED ? c.authenticate : c.distrust).push(r.keyId)
  }
  return out
}

/** The keys of `state` once `change` is applied (levels of the changed keys replaced or added). */
export function keysAfter(state: PlanState, change: LocalChange): PlanKey[] {
  const level = new Map<KeyId, TrustLevel>()
  for (const id of change.authenticate) level.set(id, AUTHENTICATED)
  for (const id of change.distrust) level.set(id, MANUALLY_DISTRUSTED)
  const out: PlanKey[] = []
  for (const r of state.keys) {
    const l = r.owner === change.owner ? level.get(r.keyId) : undefined
    if (l === undefined) out.push(r)
    else {
      out.push({ owner: r.owner, keyId: r.keyId, level: l })
      level.delete(r.keyId)
    }
  }
  for (const [keyId, l] of level) out.push({ owner: change.owner, keyId, level: l })
  return out
}

/**
 * ATM-S1 … S6 with their keys, from the state before the decision alone: {@link planMessages},
 * each with {@link allowedKeys} in the state after it (`after`, by default {@link keysAfter}, or
 * the carrier's keys as they were when there is a carrier);
 * messages nobody could read are left out. The engine passes the state after as the store holds
 * it, which differs only when the decision also released postponed decisions (ATM-P1) that changed
 * keys of a recipient.
 */
export function planDecision(
  state: PlanState,
  change: LocalChange,
  after: readonly PlanKey[] = state.carrier?.keys ?? keysAfter(state, change),
): OutgoingTrustMessage[] {
  const out: OutgoingTrustMessage[] = []
  for (const planned of planMessages(state, change)) {
    const keys = allowedKeys(state, planned, after)
    if (readable(planned, keys, state.account)) out.push(outgoing(state, planned, keys))
  }
  return out
}

/**
 * Whether a planned message with these allowed keys is worth sending: somebody can read it, and
 * a message to a contact can be read by that contact (D-12: over a carrier in which the contact
 * has no authenticated key — a pure OMEMO 0.3 client — only our own endpoints could, and they
 * learn nothing from it). Within one protocol every planned message passes.
 */
export function readable(
  planned: PlannedTrustMessage,
  allowed: readonly KeyRef[],
  account: BareJid,
): boolean {
  if (allowed.length === 0) return false
  return planned.to === account || allowed.some((k) => k.owner === planned.to)
}

/** A planned message with its allowed keys, naming its carrier when that is not `encryption` (D-12). */
export function outgoing(
  state: Omit<PlanState, 'keys'>,
  planned: PlannedTrustMessage,
  allowed: readonly KeyRef[],
): OutgoingTrustMessage {
  const base = { to: planned.to, message: planned.message, allowedKeys: allowed }
  return state.carrier === undefined ? base : { ...base, carrier: state.carrier.encryption }
}

function push(m: Map<BareJid, KeyId[]>, owner: BareJid, keyId: KeyId): void {
  const list = m.get(owner)
  if (list === undefined) m.set(owner, [keyId])
  else list.push(keyId)
}
