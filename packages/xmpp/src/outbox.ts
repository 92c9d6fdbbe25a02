/**
 * Sending: chat messages (the protocol chosen by `chat-protocol.ts` unless named), and the
 * outbox of trust messages. A local decision and its outgoing trust messages commit in one
 * transaction (`decided`); so do a newly discovered key and the messages ATM plans for it (D-12:
 * `discovered` for a key refresh, `queue` inside the receive pipeline's transaction); an outbox entry is encrypted for exactly the keys the engine allowed
 * (TM-15, TM-21: anything else fails closed) and deleted only once the server acknowledged the
 * stanza (XEP-0198), so a decision is never lost between "decided" and "sent".
 */
import type { OutgoingTrustMessage } from '@vouch/atm'
import type {
  AccountTrustStore,
  BareJid,
  EncryptionBackend,
  EncryptionNamespace,
  EncryptOptions,
  KeyRef,
  TrustLevel,
} from '@vouch/tm-core'
import { encryptedMessageStanza, parseXml, serializeTrustMessage, UntrustedKeyError } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import type { BindingContext, SentMessage } from './binding-types.ts'
import { type ChatProtocolChoice, chooseChatProtocol } from './chat-protocol.ts'
import type { KeyRefresh } from './keys.ts'
import { addToOutbox, type OutboxEntry, readOutbox, removeFromOutbox } from './state.ts'
import { randomId } from './util.ts'
import { smEvents } from './xep0198-sm.ts'
import { originIdElement } from './xep0359-ids.ts'

export interface Outbox {
  sendChat(
    to: BareJid,
    text: string,
    options?: { readonly encryption?: EncryptionNamespace },
  ): Promise<SentMessage>
  /**
   * XEP-0384 (v0.9 §6): replaces our sessions with `owner`'s devices in `encryption` (its key
   * directory's `replaceSessions`), for every key of `owner` not distrusted; resolves to the keys
   * whose session was replaced.
   */
  replaceSessions(encryption: EncryptionNamespace, owner: BareJid): Promise<readonly KeyRef[]>
  /** Sends the trust messages still in the outbox (not those waiting for their ack). */
  flushOutbox(): Promise<number>
  /** Runs a local decision and queues its trust messages in one transaction, then flushes. */
  decided<R extends Planned>(run: (tx: AccountTrustStore) => Promise<R>): Promise<R>
  /**
   * As {@link decided}, for work that may run while the outbox is being sent (a key refresh:
   * sending refreshes keys): flushes only when it queued something, and within a running flush
   * leaves the sending to that flush (it reads the outbox again) instead of waiting for it.
   */
  discovered<R extends Planned>(run: (tx: AccountTrustStore) => Promise<R>): Promise<R>
  /**
   * Queues trust messages in the caller's transaction (the receive pipeline's: keys a message made
   * known, D-12); {@link flushQueued} sends them once that transaction committed.
   */
  queue(tx: AccountTrustStore, outgoing: readonly OutgoingTrustMessage[]): Promise<void>
  /** Flushes the outbox as {@link discovered} does if {@link queue} queued something since the last call. */
  flushQueued(): Promise<void>
  /** Stops listening to the acks. */
  close(): void
}

/** What the engine planned to send: a decision's result, or `keysDiscovered`'s (D-12). */
export interface Planned {
  readonly outgoing: readonly OutgoingTrustMessage[]
}

const DISTRUSTED: readonly TrustLevel[] = ['automatically-distrusted', 'manually-distrusted']

export function outbox(ctx: BindingContext, deps: { readonly keys: Pick<KeyRefresh, 'ensureKeys'> }): Outbox {
  const { xmpp, init, account, backends, directories, pep, emit, fail } = ctx
  const { ensureKeys } = deps.keys

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
    await beforeEncrypt(backend, await reachableKeys(backend, [to, account]))
    const id = randomId()
    const res = await backend.encrypt([xml('body', { xmlns: 'jabber:client' }, text)], [to])
    await xmpp.send(outerStanza(backend, to, id, res.element))
    return { id, recipients: res.recipients, encryption: backend.namespace, unreached }
  }

  /**
   * The directory's last look before encrypting for `keys` (OMEMO: the current bundle of a device
   * without a session, whose stored pre keys may be used up). Best effort: a failure leaves the
   * stored keys and the message is encrypted with them.
   */
  async function beforeEncrypt(backend: EncryptionBackend, keys: readonly KeyRef[]): Promise<void> {
    const directory = directories.get(backend.namespace)
    if (directory?.beforeEncrypt === undefined || keys.length === 0) return
    await directory.beforeEncrypt(keys, pep).catch(() => undefined)
  }

  /** The keys of `owners` a chat message may go to: every known key not distrusted. */
  async function reachableKeys(backend: EncryptionBackend, owners: readonly BareJid[]): Promise<KeyRef[]> {
    const unique = [...new Set(owners)]
    // the distrusted ones in one query; a key the store has not seen reads `undecided` (kept)
    const distrusted = new Set(
      (await init.store.getKeys(backend.namespace, { owners: unique, levels: DISTRUSTED })).map(
        (r) => `${r.owner} ${r.keyId}`,
      ),
    )
    const out: KeyRef[] = []
    for (const owner of unique)
      for (const keyId of await backend.keysOf(owner))
        if (!distrusted.has(`${owner} ${keyId}`)) out.push({ encryption: backend.namespace, owner, keyId })
    return out
  }

  async function replaceSessions(
    encryption: EncryptionNamespace,
    owner: BareJid,
  ): Promise<readonly KeyRef[]> {
    const backend = backends.get(encryption)
    if (backend === undefined) throw new Error(`no backend for ${encryption}`)
    const directory = directories.get(encryption)
    if (directory?.replaceSessions === undefined)
      throw new Error(`the key directory of ${encryption} does not replace sessions`)
    await ensureKeys(encryption, owner)
    return directory.replaceSessions(await reachableKeys(backend, [owner]), pep, (stanza) =>
      xmpp.send(stanza),
    )
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
    await beforeEncrypt(backend, options.onlyKeys ?? [])
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
  const sm = smEvents(xmpp)
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
  /** a flush was asked for while one ran: it reads the outbox once more (entries queued meanwhile) */
  let again = false
  function flushOutbox(): Promise<number> {
    if (xmpp.status !== 'online') return Promise.resolve(0)
    if (flushing !== undefined) {
      again = true
      return flushing
    }
    flushing = (async () => {
      let sent = 0
      try {
        do {
          again = false
          for (const entry of await readOutbox(init.store)) {
            if (pendingAcks.has(entry.id)) continue
            await sendOutboxEntry(entry)
            sent++
          }
        } while (again)
      } finally {
        flushing = undefined
      }
      return sent
    })()
    return flushing
  }

  let queued = false
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

  /** The engine's work and its outbox entries commit together. */
  function commit<R extends Planned>(run: (tx: AccountTrustStore) => Promise<R>): Promise<R> {
    return init.store.transaction(async (tx) => {
      const r = await run(tx)
      await queueOutgoing(tx, r.outgoing)
      return r
    })
  }

  /** A local decision and its outbox entries commit together; then the outbox is flushed. */
  async function decided<R extends Planned>(run: (tx: AccountTrustStore) => Promise<R>): Promise<R> {
    const result = await commit(run)
    await flushOutbox().catch(fail)
    return result
  }

  async function discovered<R extends Planned>(run: (tx: AccountTrustStore) => Promise<R>): Promise<R> {
    const result = await commit(run)
    if (result.outgoing.length > 0) await flushAgain()
    return result
  }

  /**
   * Sends what was just queued. A running flush may be the caller (sending refreshes keys, which
   * may queue): it is told to read the outbox again, never awaited from inside itself.
   */
  async function flushAgain(): Promise<void> {
    if (flushing !== undefined) again = true
    else await flushOutbox().catch(fail)
  }

  return {
    sendChat,
    replaceSessions,
    flushOutbox,
    decided,
    discovered,
    async queue(tx, outgoing) {
      await queueOutgoing(tx, outgoing)
      if (outgoing.length > 0) queued = true
    },
    async flushQueued() {
      if (!queued) return
      queued = false
      await flushAgain()
    },
    close() {
      sm.removeListener?.('ack', onAck)
      sm.removeListener?.('fail', onSmFail)
    },
  }
}
