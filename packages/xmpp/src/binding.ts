/**
 * The binding: plugs the ATM engine, the trust store and the encryption backends into one
 * `@xmpp/client` connection (xmpp.js style: middleware, iqCaller/iqCallee, no second stack).
 * This module is the composition root; its parts are `receive.ts` (received stanzas through
 * the pipeline, retries, held messages), `keys.ts` (key directory refresh, PEP), `outbox.ts`
 * (sending chat and trust messages), `catch-up.ts` (MAM) and `binding-types.ts` (the API).
 *
 * After every fresh session: Carbons (XEP-0280), presence with caps (XEP-0115, so the server
 * learns our `+notify` features), own keys published to PEP, MAM catch-up (XEP-0313, paged, from
 * the last archive id seen), then the outbox. After a resumed session (XEP-0198): the outbox.
 *
 * `synced()` always settles: it resolves when a catch-up finished and rejects with
 * {@link SyncError} when that catch-up failed, the connection was lost or stopped first, the
 * binding was closed, or nothing finished within the timeout.
 */
import { createAtm } from '@vouch/atm'
import { receivePipeline } from '@vouch/pipeline'
import type { EncryptionBackend, EncryptionNamespace, KeyDirectory } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import xml, { type Element } from '@xmpp/xml'
import {
  type BindingContext,
  type MessageSource,
  SyncError,
  type VouchXmpp,
  type VouchXmppEventName,
  type VouchXmppEvents,
  type VouchXmppInit,
} from './binding-types.ts'
import { catchUpFlow } from './catch-up.ts'
import { readHeld } from './held.ts'
import { pepAccess } from './key-directory.ts'
import { keyRefresh } from './keys.ts'
import { outbox } from './outbox.ts'
import { type ReceiveFlow, receiveFlow } from './receive.ts'
import { DEFAULT_MAX_STAMP_AGE_SECONDS } from './reference-time.ts'
import { type ContactEvents, contactsOf } from './roster.ts'
import { stanzaLimitError } from './stream-parser.ts'
import { child } from './util.ts'
import { capsElement, type DiscoInfo, discoResponder } from './xep0030-disco.ts'
import { notifyFeature } from './xep0060-pep.ts'
import { fixStreamManagementCounter, smEvents } from './xep0198-sm.ts'
import { enableCarbons, unwrapCarbon } from './xep0280-carbons.ts'
import { mamClient } from './xep0313-mam.ts'
import { stanzaIdBy } from './xep0359-ids.ts'

export type * from './binding-types.ts'
export { SyncError } from './binding-types.ts'

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
  const maxProcessed = init.maxProcessedIds ?? 5000
  const capsNode = init.capsNode ?? DEFAULT_CAPS_NODE
  const syncTimeoutMs = init.syncTimeoutMs ?? 60_000
  const maxStampAgeSeconds = init.maxStampAgeSeconds ?? DEFAULT_MAX_STAMP_AGE_SECONDS
  fixStreamManagementCounter(xmpp)
  const pep = pepAccess(xmpp)
  const mam = mamClient(xmpp, account)

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
  const ctx: BindingContext = {
    xmpp,
    init,
    account,
    now,
    backends,
    directories,
    maxStampAgeSeconds,
    pep,
    emit,
    fail,
  }
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
  const offAtm = atm.on('level-changed', (e) => emit('trust-changed', { key: e.key, from: e.from, to: e.to }))

  // ---- the parts: key directories, the receive flow, sending, the catch-up
  // (a new key retries held messages: the flow is built right after the keys)
  // (sending refreshes keys, a new key may queue trust messages: D-12 — both late-bound)
  let flow: ReceiveFlow | undefined
  const keys = keyRefresh(ctx, {
    atm,
    contacts: roster.contacts,
    onKeysArrived: (owner) => flow?.retryHeld(owner) ?? Promise.resolve(),
    discovered: (run) => sending.discovered(run),
  })
  const { refreshKeys, publishKeys, handlePepEvent } = keys
  const sending = outbox(ctx, { keys })
  const { sendChat, replaceSessions, flushOutbox, decided } = sending
  const pipeline = receivePipeline({
    store: init.store,
    atm,
    backends: init.backends,
    maxProcessedIds: maxProcessed,
    ...(init.receiveLimits === undefined ? {} : { limits: init.receiveLimits }),
    // keys a message made known (D-12): ATM's messages for them join the receive transaction
    queueOutgoing: sending.queue,
  })
  flow = receiveFlow(ctx, { pipeline, keys, sending })
  const { receiveBatch, retryHeld, emitRejected, chosenEncrypted, pointer } = flow

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
      const position = caughtUp && !pointer.held && sid !== undefined ? { id: sid, stamp: now() } : undefined
      return receiveBatch([{ message: stanza, source: 'live' }], position)
    })
    return undefined
  })

  const catchUp = catchUpFlow(ctx, { mam, flow, enqueue, isPepEvent })

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
  const sm = smEvents(xmpp)
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
    replaceSessions,
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
      sending.close()
      sm.removeListener?.('resumed', resumed as unknown as (s: Element) => void)
    },
  }
}
