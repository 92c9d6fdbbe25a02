/**
 * A deterministic XMPP network for ATM (XEP-0450) simulations: accounts with several endpoints,
 * each with its own trust store, key and `createAtm` engine; Carbons and MAM semantics; a message
 * queue on virtual time; adversarial delivery driven by a seed; injected attacker keys; and a
 * stand-in for encryption that records who could read which trust message (TM-15, TM-21).
 *
 * Delivery model:
 * - A trust message is sent to a bare JID. Carbons: it reaches every endpoint of that account and
 *   the sender's other endpoints (never the sender itself). MAM: it is archived for the
 *   recipient account and for the sender's account.
 * - An endpoint that is offline receives nothing live; when it comes online it fetches the device
 *   lists again and catches up from its account's archive (every archived message since it was
 *   created that it has not received yet, deduplicated by stanza id as a client would).
 * - Receiving runs the production receive pipeline (`@vouch/pipeline`, the one `@vouch/xmpp`
 *   runs): dedup by stanza id, decrypt, parse, ATM, in one transaction. Only the encryption is a
 *   stand-in backend: a message is encrypted exactly for the `allowedKeys` the engine chose; an
 *   endpoint whose key is not among them cannot decrypt it ("unreadable"); one whose key is among
 *   them gets the trust message with the sender's key and the SCE time. Every (message, reader)
 *   pair is recorded in {@link Network.reads}.
 * - Wire format: unless `wire: false`, every message goes through the XEP-0434 codec
 *   (`serializeTrustMessage` → string → `parseXml` → `parseTrustMessage`).
 * - Adversary (seeded): random delays (reordering), duplicated deliveries (replays under a new
 *   stanza id, so they bypass stanza-id deduplication), and lost live copies whose archived copy
 *   is delivered later.
 */
import type {
  Atm,
  AtmBackend,
  AtmPolicy,
  DecisionResult,
  KeysDiscoveredResult,
  OutgoingTrustMessage,
  ReceiveResult,
} from '@vouch/atm'
import { createAtm } from '@vouch/atm'
import { type ReceivePipeline, receivePipeline } from '@vouch/pipeline'
import { memoryStore } from '@vouch/store-memory'
import type {
  AccountTrustStore,
  BareJid,
  DecryptedContent,
  EncryptionBackend,
  EncryptionNamespace,
  FullJid,
  KeyId,
  KeyRef,
  TrustLevel,
  TrustMessage,
  TrustStore,
} from '@vouch/tm-core'
import {
  DecryptionError,
  Element,
  keyIdFromBytes,
  NS_OMEMO_2,
  parseBareJid,
  parseFullJid,
  parseXml,
  serializeTrustMessage,
  toBareJid,
} from '@vouch/tm-core'
import { createRng, type Rng } from './prng.ts'

/** Which endpoint a store is made for. */
export interface EndpointSpec {
  /** `alice/1` */
  readonly label: string
  readonly account: BareJid
  /** `alice` */
  readonly accountLabel: string
  readonly resource: string
}

/** Makes the trust store of one endpoint (default: `memoryStore()`). */
export type StoreFactory = (endpoint: EndpointSpec) => TrustStore | Promise<TrustStore>

export interface AdversaryOptions {
  /** random extra delay (0 … `maxDelay` ms) on every delivery, so deliveries are reordered */
  readonly reorder: boolean
  /** probability that a delivery is replayed once more later (a duplicate) */
  readonly duplicate: number
  /** probability that a live copy is lost; its archived copy is delivered later (MAM) */
  readonly dropToArchive: number
  /** upper bound of the random delays, ms */
  readonly maxDelay: number
}

export const NO_ADVERSARY: AdversaryOptions = Object.freeze({
  reorder: false,
  duplicate: 0,
  dropToArchive: 0,
  maxDelay: 5_000,
})

export interface NetworkInit {
  /** seeds keys and adversarial delivery (default 1) */
  readonly seed?: number
  /** encryption protocol of every key (default OMEMO 2, 32-byte key ids) */
  readonly encryption?: EncryptionNamespace
  readonly keyIdLength?: number
  readonly store?: StoreFactory
  readonly adversary?: Partial<AdversaryOptions>
  /** domain of account names given without one (default `example.org`) */
  readonly domain?: string
  /** virtual start time, ms since the epoch (default 2020-01-01T12:00:00Z, as the XEP examples) */
  readonly startTime?: number
  readonly policy?: Partial<AtmPolicy>
  /** pass every message through the XEP-0434 codec (default true) */
  readonly wire?: boolean
  /** endpoints fetch device lists (own account and contacts) automatically (default true) */
  readonly autoDiscover?: boolean
  /**
   * Further protocols every engine knows beside the simulated one (D-12), e.g. OMEMO 0.3
   * (`bodyOnly`) for contacts on clients without ATM: their keys are not simulated endpoints (no
   * one sends in them); the simulated protocol carries the trust messages about them.
   */
  readonly extraBackends?: readonly AtmBackend[]
}

export interface AddEndpointOptions {
  /** resource (default: the account's endpoint count + 1) */
  readonly resource?: string
  /** key id (default: 32 seeded pseudo-random bytes) */
  readonly key?: KeyId
  /** default true */
  readonly online?: boolean
}

export interface SimEndpoint {
  /** `alice/1` */
  readonly label: string
  readonly account: BareJid
  readonly accountLabel: string
  readonly resource: string
  readonly jid: FullJid
  readonly key: KeyId
  /** a device the account's owner never had (see {@link Network.injectKey}) */
  readonly injected: boolean
  readonly atm: Atm
  readonly store: AccountTrustStore
  readonly online: boolean
}

/** One trust message put on the wire. */
export interface SimMessage {
  /** stanza id, `m1`, `m2`, … */
  readonly id: string
  /** sending endpoint label */
  readonly from: string
  readonly fromJid: FullJid
  readonly senderKey: KeyId
  readonly to: BareJid
  readonly message: TrustMessage
  /** the keys it is encrypted for (stand-in encryption) */
  readonly allowedKeys: readonly KeyRef[]
  /** the serialized `<trust-message/>` (undefined with `wire: false`) */
  readonly wire: string | undefined
  readonly sceTime: number
  /** sent by an attacker endpoint rather than chosen by an engine */
  readonly forged: boolean
  /** index of the manual step that caused it */
  readonly step: number
}

export type Via = 'live' | 'archive' | 'replay'

export interface DeliveryRecord {
  readonly messageId: string
  readonly to: string
  readonly via: Via
  readonly at: number
  /** false: the recipient's key is not among the message's allowed keys */
  readonly readable: boolean
  readonly outcome?: ReceiveResult['outcome']
  readonly reason?: string
}

/** A (message, reader) pair: the reader decrypted the message. */
export interface ReadRecord {
  readonly messageId: string
  readonly reader: string
  readonly readerAccount: BareJid
  readonly readerKey: KeyId
  readonly readerInjected: boolean
}

export type ManualAction = 'authenticate' | 'distrust'

export type TraceEvent =
  | {
      readonly kind: 'manual'
      readonly step: number
      readonly at: number
      readonly by: string
      readonly action: ManualAction
      readonly target: string
    }
  | { readonly kind: 'send'; readonly at: number; readonly message: SimMessage }
  | ({ readonly kind: 'deliver' } & DeliveryRecord)
  | { readonly kind: 'lost'; readonly at: number; readonly messageId: string; readonly to: string }
  | { readonly kind: 'online' | 'offline'; readonly at: number; readonly endpoint: string }
  | { readonly kind: 'endpoint'; readonly at: number; readonly endpoint: string; readonly injected: boolean }

export interface NetworkStats {
  readonly manualDecisions: number
  readonly messagesSent: number
  readonly deliveries: number
  readonly reads: number
  readonly unreadable: number
  readonly lost: number
}

/** `row → column → level`: the level the row endpoint holds for the column endpoint's key. */
export type TrustMatrix = Record<string, Record<string, TrustLevel | 'own'>>

export interface Network {
  readonly encryption: EncryptionNamespace
  readonly rng: Rng
  /** virtual time, ms */
  readonly now: number
  readonly endpoints: readonly SimEndpoint[]
  readonly messages: readonly SimMessage[]
  readonly reads: readonly ReadRecord[]
  readonly deliveries: readonly DeliveryRecord[]
  readonly trace: readonly TraceEvent[]
  readonly stats: NetworkStats
  /** pending deliveries */
  readonly pending: number

  /** `alice` → `alice@example.org`; a bare JID is kept */
  accountJid(name: string): BareJid
  addEndpoint(account: string, options?: AddEndpointOptions): Promise<SimEndpoint>
  /** An attacker's device in `account`'s device list: every endpoint discovers its key. */
  injectKey(account: string, options?: AddEndpointOptions): Promise<SimEndpoint>
  endpoint(label: string): SimEndpoint
  /** The endpoint label owning (owner, key), or `owner/?` */
  keyLabel(owner: BareJid, keyId: KeyId): string

  /** A person on `by` authenticates `target`'s key; the trust messages are sent. */
  authenticate(by: string, target: string): Promise<DecisionResult>
  distrust(by: string, target: string): Promise<DecisionResult>
  /** Both authenticate each other (a mutual QR-code scan): two manual decisions. */
  authenticateMutually(a: string, b: string): Promise<void>
  /** Sends what a direct engine call returned. */
  sendOutgoing(by: string, outgoing: readonly OutgoingTrustMessage[]): void
  /** An attacker endpoint sends a message of its choice, encrypted for `allowedKeys` (default: every key of `to` and of its own account). */
  forge(by: string, to: BareJid, message: TrustMessage, allowedKeys?: readonly KeyRef[]): SimMessage

  setOnline(label: string, online: boolean): Promise<void>
  /** Fetches the device lists of the endpoint's account and contacts (`keysDiscovered`). */
  discover(label: string): Promise<void>
  /**
   * `owner`'s device list of `encryption` reaches endpoint `label`: its engine stores the keys
   * (`keysDiscovered`), and the trust messages it plans for a key that inherits a decision made
   * there about its twin (D-12) are sent, as a client's outbox would.
   */
  keysDiscovered(
    label: string,
    encryption: EncryptionNamespace,
    owner: BareJid,
    keys: readonly KeyId[],
  ): Promise<KeysDiscoveredResult>
  /** Advances virtual time by `ms` without delivering. */
  advance(ms: number): void
  /** Delivers everything due up to `now + ms`. */
  runFor(ms: number): Promise<void>
  /** Delivers until the queue is empty; returns the number of deliveries made. */
  run(maxDeliveries?: number): Promise<number>

  level(reader: string, target: string): Promise<TrustLevel | 'own'>
  matrix(labels?: readonly string[]): Promise<TrustMatrix>
  /** every off-diagonal cell among honest endpoints (or `labels`) is `authenticated` */
  converged(labels?: readonly string[]): Promise<boolean>
  close(): Promise<void>
}

interface Queued {
  readonly at: number
  readonly seq: number
  readonly messageId: string
  readonly to: string
  readonly via: Via
  /** online session of the recipient the live copy was meant for */
  readonly epoch: number
}

interface EndpointState {
  ep: SimEndpoint
  trustStore: TrustStore
  /** the production receive pipeline over this endpoint's store, engine and stand-in backend */
  pipeline: ReceivePipeline
  online: boolean
  epoch: number
  /** archive index at creation: catch-up starts there */
  archiveFrom: number
  received: Set<string>
  /** messages made while offline, sent when the endpoint reconnects */
  outbox: SimMessage[]
}

const XEP_EXAMPLE_TIME = Date.UTC(2020, 0, 1, 12, 0, 0)

export async function createNetwork(init: NetworkInit = {}): Promise<Network> {
  const rng = createRng(init.seed ?? 1)
  const encryption = init.encryption ?? NS_OMEMO_2
  const keyIdLength = init.keyIdLength ?? 32
  const backend: AtmBackend = {
    namespace: encryption,
    capabilities: { oneKeyPerIdentity: false, keyIdLength },
  }
  const adversary: AdversaryOptions = { ...NO_ADVERSARY, ...stripUndefined(init.adversary ?? {}) }
  const storeFactory: StoreFactory = init.store ?? (() => memoryStore())
  const domain = init.domain ?? 'example.org'
  const wire = init.wire ?? true
  const autoDiscover = init.autoDiscover ?? true

  let clock = init.startTime ?? XEP_EXAMPLE_TIME
  let seq = 0
  let step = 0
  const states = new Map<string, EndpointState>()
  const order: EndpointState[] = []
  const accounts = new Map<BareJid, { label: string; endpoints: EndpointState[]; archive: string[] }>()
  const byKey = new Map<string, string>()
  const messages: SimMessage[] = []
  const messageById = new Map<string, SimMessage>()
  const reads: ReadRecord[] = []
  const deliveries: DeliveryRecord[] = []
  const trace: TraceEvent[] = []
  const heap: Queued[] = []
  const stats = { manualDecisions: 0, messagesSent: 0, deliveries: 0, reads: 0, unreadable: 0, lost: 0 }

  const refKey = (owner: BareJid, keyId: KeyId): string => `${owner} ${keyId}`

  function accountJid(name: string): BareJid {
    return parseBareJid(name.includes('@') ? name : `${name}@${domain}`)
  }

  function state(label: string): EndpointState {
    const s = states.get(label)
    if (s === undefined) throw new RangeError(`no endpoint ${label}`)
    return s
  }

  function account(jid: BareJid) {
    let a = accounts.get(jid)
    if (a === undefined) {
      a = { label: jid.split('@')[0] ?? jid, endpoints: [], archive: [] }
      accounts.set(jid, a)
    }
    return a
  }

  async function add(name: string, options: AddEndpointOptions, injected: boolean): Promise<SimEndpoint> {
    const jid = accountJid(name)
    const acc = account(jid)
    const resource = options.resource ?? String(acc.endpoints.length + 1)
    const label = `${acc.label}/${resource}`
    if (states.has(label)) throw new RangeError(`endpoint ${label} exists`)
    const key = options.key ?? keyIdFromBytes(rng.bytes(keyIdLength))
    if (byKey.has(refKey(jid, key))) throw new RangeError(`key ${key} of ${jid} exists`)
    const spec: EndpointSpec = { label, account: jid, accountLabel: acc.label, resource }
    const trustStore = await storeFactory(spec)
    const store = trustStore.forAccount(jid)
    await store.setOwnKey(encryption, key)
    const fullJid = parseFullJid(`${jid}/${resource}`)
    const atm = createAtm({
      account: jid,
      ownFullJid: fullJid,
      store,
      backends: [backend, ...(init.extraBackends ?? [])],
      now: () => clock,
      ...(init.policy === undefined ? {} : { policy: init.policy }),
    })
    const st: EndpointState = {
      ep: undefined as unknown as SimEndpoint,
      trustStore,
      pipeline: undefined as unknown as ReceivePipeline,
      online: options.online ?? true,
      epoch: 0,
      archiveFrom: acc.archive.length,
      received: new Set(),
      outbox: [],
    }
    const ep: SimEndpoint = {
      label,
      account: jid,
      accountLabel: acc.label,
      resource,
      jid: fullJid,
      key,
      injected,
      atm,
      store,
      get online() {
        return st.online
      },
    }
    st.ep = ep
    st.pipeline = receivePipeline({ store, atm, backends: [standInBackend(st)] })
    states.set(label, st)
    order.push(st)
    acc.endpoints.push(st)
    byKey.set(refKey(jid, key), label)
    trace.push({ kind: 'endpoint', at: clock, endpoint: label, injected })
    if (autoDiscover) {
      // a device-list (PEP) notification: every online endpoint of the account and of its
      // contacts fetches the new bundle; the new endpoint fetches every device list
      for (const other of order)
        if (other !== st && other.online) await keysDiscovered(other.ep.label, encryption, jid, [key])
      if (st.online) await discover(label)
    }
    return ep
  }

  async function discover(label: string): Promise<void> {
    const st = state(label)
    for (const [jid, acc] of accounts) {
      const keys = acc.endpoints
        .map((e) => e.ep.key)
        .filter((k) => !(jid === st.ep.account && k === st.ep.key))
      if (keys.length > 0) await keysDiscovered(label, encryption, jid, keys)
    }
  }

  async function keysDiscovered(
    label: string,
    enc: EncryptionNamespace,
    owner: BareJid,
    keys: readonly KeyId[],
  ): Promise<KeysDiscoveredResult> {
    const r = await state(label).ep.atm.keysDiscovered(enc, owner, keys)
    sendOutgoing(label, r.outgoing) // D-12: a key that inherited a decision made here
    return r
  }

  // ------------------------------------------------------------ queue (binary heap on (at, seq))

  const before = (a: Queued, b: Queued): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq)

  function push(q: Omit<Queued, 'seq'>): void {
    const item = { ...q, seq: seq++ }
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(heap[i] as Queued, heap[p] as Queued)) break
      ;[heap[i], heap[p]] = [heap[p] as Queued, heap[i] as Queued]
      i = p
    }
  }

  function pop(): Queued | undefined {
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    heap[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && before(heap[l] as Queued, heap[m] as Queued)) m = l
      if (r < heap.length && before(heap[r] as Queued, heap[m] as Queued)) m = r
      if (m === i) break
      ;[heap[i], heap[m]] = [heap[m] as Queued, heap[i] as Queued]
      i = m
    }
    return top
  }

  const latency = (): number => 10 + (adversary.reorder ? rng.int(adversary.maxDelay + 1) : 0)

  function schedule(messageId: string, st: EndpointState): void {
    const at = clock + latency()
    if (rng.chance(adversary.dropToArchive)) {
      // the live copy is lost; the endpoint fetches the archived one later (reconnect + MAM)
      push({
        at: at + adversary.maxDelay + rng.int(adversary.maxDelay + 1),
        messageId,
        to: st.ep.label,
        via: 'archive',
        epoch: -1,
      })
    } else {
      push({ at, messageId, to: st.ep.label, via: 'live', epoch: st.epoch })
    }
    if (rng.chance(adversary.duplicate))
      push({
        at: clock + latency() + rng.int(adversary.maxDelay + 1),
        messageId,
        to: st.ep.label,
        via: 'replay',
        epoch: -1,
      })
  }

  // ------------------------------------------------------------ sending

  function put(
    from: EndpointState,
    to: BareJid,
    message: TrustMessage,
    allowedKeys: readonly KeyRef[],
    forged: boolean,
  ): SimMessage {
    clock += 1 // strictly increasing SCE times
    const id = `m${messages.length + 1}`
    const m: SimMessage = {
      id,
      from: from.ep.label,
      fromJid: from.ep.jid,
      senderKey: from.ep.key,
      to,
      message,
      allowedKeys: allowedKeys.map((k) => ({ encryption: k.encryption, owner: k.owner, keyId: k.keyId })),
      wire: wire ? serializeTrustMessage(message).toString() : undefined,
      sceTime: clock,
      forged,
      step,
    }
    messages.push(m)
    messageById.set(id, m)
    stats.messagesSent++
    trace.push({ kind: 'send', at: clock, message: m })
    if (from.online) route(from, m)
    else from.outbox.push(m) // a client queues stanzas until it reconnects
    return m
  }

  function route(from: EndpointState, m: SimMessage): void {
    const { id, to } = m
    // MAM: archived for the recipient account and the sender's account
    const recipients = new Set<EndpointState>()
    for (const jid of new Set([to, from.ep.account])) {
      const acc = account(jid)
      acc.archive.push(id)
      for (const st of acc.endpoints) if (st !== from) recipients.add(st)
    }
    // Carbons: every endpoint of `to` and the sender's other endpoints; offline ones catch up later
    for (const st of recipients) if (st.online) schedule(id, st)
  }

  function sendOutgoing(by: string, outgoing: readonly OutgoingTrustMessage[]): void {
    const st = state(by)
    for (const o of outgoing) put(st, o.to, o.message, o.allowedKeys, false)
  }

  async function manual(by: string, target: string, action: ManualAction): Promise<DecisionResult> {
    const st = state(by)
    const t = state(target)
    // virtual time moves on by 1 ms; whatever was due by then arrives first (causality), the rest
    // is still in flight when the person decides
    await runUntil(clock + 1, Number.POSITIVE_INFINITY)
    clock += 1
    step++
    stats.manualDecisions++
    trace.push({ kind: 'manual', step, at: clock, by, action, target })
    const r =
      action === 'authenticate'
        ? await st.ep.atm.authenticate(encryption, t.ep.account, [t.ep.key])
        : await st.ep.atm.distrust(encryption, t.ep.account, [t.ep.key])
    sendOutgoing(by, r.outgoing)
    return r
  }

  // ------------------------------------------------------------ receiving

  /**
   * The stand-in encryption of one endpoint: the "ciphertext" names the message; it decrypts only
   * for an endpoint whose key is among the message's allowed keys (TM-15, TM-21).
   */
  function standInBackend(st: EndpointState): EncryptionBackend {
    return {
      namespace: encryption,
      capabilities: { oneKeyPerIdentity: false, keyIdLength, protectsEnvelope: true },
      ownKeys: async () => [st.ep.key],
      keysOf: async (owner) => account(owner).endpoints.map((e) => e.ep.key),
      encrypt: () => Promise.reject(new Error('the simulator sends through its network')),
      async decrypt(el): Promise<DecryptedContent> {
        const m = messageById.get(String(el.attrs.id))
        if (m === undefined) throw new DecryptionError('SIM-CIPHERTEXT', 'no such message')
        const readable = m.allowedKeys.some(
          (k) => k.encryption === encryption && k.owner === st.ep.account && k.keyId === st.ep.key,
        )
        if (!readable)
          throw new DecryptionError('SIM-NOT-FOR-US', `the key of ${st.ep.label} is not a recipient (TM-21)`)
        const tm = m.wire === undefined ? serializeTrustMessage(m.message) : parseXml(m.wire)
        return {
          content: tm,
          payload: [tm],
          senderJid: toBareJid(m.fromJid),
          senderFullJid: m.fromJid,
          carrier: encryption,
          encrypted: true,
          mode: 'signcrypt',
          time: new Date(m.sceTime),
          to: [m.to],
          rpadLength: 0,
          signed: true,
          senderKey: m.senderKey,
        }
      },
    }
  }

  async function deliver(q: Queued): Promise<void> {
    const st = state(q.to)
    const m = messageById.get(q.messageId)
    if (m === undefined) return
    if (!st.online || (q.via === 'live' && q.epoch !== st.epoch)) {
      stats.lost++
      trace.push({ kind: 'lost', at: clock, messageId: m.id, to: st.ep.label })
      return
    }
    const [outcome] = await st.pipeline.receive([
      {
        encrypted: new Element('encrypted', { xmlns: encryption, id: m.id }),
        from: m.fromJid,
        to: m.to,
        // live and archived copies carry the archive's stanza id; a replay comes under a new one
        dedupKeys: q.via === 'replay' ? [] : [`sid:${m.id}`],
        referenceTime: new Date(clock),
      },
    ])
    if (outcome === undefined || outcome.kind === 'duplicate') return
    st.received.add(m.id)
    stats.deliveries++
    const unreadable =
      outcome.kind === 'rejected' && (outcome.error as { rule?: string }).rule === 'SIM-NOT-FOR-US'
    if (unreadable) {
      stats.unreadable++
      const rec: DeliveryRecord = { messageId: m.id, to: st.ep.label, via: q.via, at: clock, readable: false }
      deliveries.push(rec)
      trace.push({ kind: 'deliver', ...rec })
      return
    }
    stats.reads++
    reads.push({
      messageId: m.id,
      reader: st.ep.label,
      readerAccount: st.ep.account,
      readerKey: st.ep.key,
      readerInjected: st.ep.injected,
    })
    if (outcome.kind !== 'trust' && outcome.kind !== 'rejected')
      throw new Error(`a trust message was received as ${outcome.kind}`)
    const rec: DeliveryRecord = {
      messageId: m.id,
      to: st.ep.label,
      via: q.via,
      at: clock,
      readable: true,
      ...(outcome.kind === 'trust'
        ? {
            outcome: outcome.result.outcome,
            ...(outcome.result.reason === undefined ? {} : { reason: outcome.result.reason }),
          }
        : {
            outcome: 'rejected' as const,
            reason: (outcome.error as { rule?: string }).rule ?? outcome.error.name,
          }),
    }
    deliveries.push(rec)
    trace.push({ kind: 'deliver', ...rec })
    // D-5: received decisions are never re-broadcast; the engine returns nothing to send
    if (outcome.kind === 'trust' && outcome.result.outgoing.length > 0)
      sendOutgoing(st.ep.label, outcome.result.outgoing)
  }

  async function runUntil(limit: number, maxDeliveries: number): Promise<number> {
    let n = 0
    while (heap.length > 0 && (heap[0] as Queued).at <= limit) {
      if (n >= maxDeliveries) throw new RangeError(`more than ${maxDeliveries} deliveries: no quiescence`)
      const q = pop() as Queued
      if (q.at > clock) clock = q.at
      await deliver(q)
      n++
    }
    return n
  }

  async function setOnline(label: string, online: boolean): Promise<void> {
    const st = state(label)
    if (st.online === online) return
    st.online = online
    st.epoch++
    trace.push({ kind: online ? 'online' : 'offline', at: clock, endpoint: label })
    if (!online) return
    for (const m of st.outbox.splice(0)) route(st, m)
    if (autoDiscover) await discover(label)
    // MAM catch-up: archived messages since creation not received yet, in archive order (the
    // server's order; live copies lost earlier by the adversary may still arrive in between)
    const acc = account(st.ep.account)
    let i = 0
    for (const id of acc.archive.slice(st.archiveFrom)) {
      const m = messageById.get(id)
      if (m === undefined || m.from === label || st.received.has(id)) continue
      push({ at: clock + 1 + i++, messageId: id, to: label, via: 'archive', epoch: -1 })
    }
  }

  async function level(reader: string, target: string): Promise<TrustLevel | 'own'> {
    const r = state(reader)
    const t = state(target)
    if (r === t) return 'own'
    return r.ep.store.getTrustLevel(encryption, t.ep.account, t.ep.key)
  }

  const honest = (): string[] => order.filter((s) => !s.ep.injected).map((s) => s.ep.label)

  async function matrix(labels: readonly string[] = order.map((s) => s.ep.label)): Promise<TrustMatrix> {
    const out: TrustMatrix = {}
    for (const r of labels) {
      const row: Record<string, TrustLevel | 'own'> = {}
      for (const c of labels) row[c] = await level(r, c)
      out[r] = row
    }
    return out
  }

  return {
    encryption,
    rng,
    get now() {
      return clock
    },
    get endpoints() {
      return order.map((s) => s.ep)
    },
    messages,
    reads,
    deliveries,
    trace,
    get stats() {
      return { ...stats }
    },
    get pending() {
      return heap.length
    },
    accountJid,
    addEndpoint: (name, options = {}) => add(name, options, false),
    injectKey: (name, options = {}) => add(name, { resource: 'evil', ...options }, true),
    endpoint: (label) => state(label).ep,
    keyLabel: (owner, keyId) => byKey.get(refKey(owner, keyId)) ?? `${owner}/?`,
    authenticate: (by, target) => manual(by, target, 'authenticate'),
    distrust: (by, target) => manual(by, target, 'distrust'),
    authenticateMutually: async (a, b) => {
      await manual(a, b, 'authenticate')
      await manual(b, a, 'authenticate')
    },
    sendOutgoing,
    forge: (by, to, message, allowedKeys) => {
      const st = state(by)
      const keys =
        allowedKeys ??
        order
          .filter((s) => s !== st && (s.ep.account === to || s.ep.account === st.ep.account))
          .map((s) => ({ encryption, owner: s.ep.account, keyId: s.ep.key }))
      return put(st, to, message, keys, true)
    },
    setOnline,
    discover,
    keysDiscovered,
    advance: (ms) => {
      clock += ms
    },
    runFor: async (ms) => {
      const limit = clock + ms
      await runUntil(limit, Number.POSITIVE_INFINITY)
      if (clock < limit) clock = limit
    },
    run: (maxDeliveries = 10_000_000) => runUntil(Number.POSITIVE_INFINITY, maxDeliveries),
    level,
    matrix,
    converged: async (labels = honest()) => {
      for (const r of labels)
        for (const c of labels) if (r !== c && (await level(r, c)) !== 'authenticated') return false
      return true
    },
    close: async () => {
      for (const s of order) await s.trustStore.close()
    },
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
