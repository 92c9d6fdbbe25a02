/**
 * One XEP-0450 round on real crypto, for any backend of the registry: endpoints with an ATM
 * engine each, the engine's outgoing trust messages serialized with the XEP-0434 codec and
 * encrypted by the backend for exactly the engine's `allowedKeys` (TM-15, TM-21), then
 * decrypted, parsed and handed to the receiving engine with the sender key from the decryption
 * — the path `@vouch/xmpp` takes, without the network.
 */
import type { Atm, OutgoingTrustMessage, ReceiveResult } from '@vouch/atm'
import { createAtm } from '@vouch/atm'
import type {
  BackendCapabilities,
  BareJid,
  DecryptedContent,
  Element,
  EncryptionNamespace,
  EncryptOptions,
  EncryptResult,
  KeyId,
  KeyRef,
  TrustLevel,
} from '@vouch/tm-core'
import { Element as XmlElement, findTrustMessage, NS_CLIENT, serializeTrustMessage } from '@vouch/tm-core'
import type { Endpoint } from '../src/index.ts'

/** An endpoint of the round with its engine. */
export interface Peer extends Endpoint {
  readonly name: string
  readonly atm: Atm
}

export function withAtm(name: string, e: Endpoint, caps: BackendCapabilities): Peer {
  const atm = createAtm({
    account: e.jid,
    ownFullJid: e.fullJid,
    store: e.store,
    backends: [{ namespace: e.backend.namespace, capabilities: caps }],
    now: () => Date.now(),
  })
  return { ...e, name, atm }
}

const refKey = (r: KeyRef): string => `${r.encryption} ${r.owner} ${r.keyId}`

/**
 * Encrypts `m` as `@vouch/xmpp` sends a trust message: accepted levels `authenticated`, the
 * explicit key list as `onlyKeys` (`EncryptOptions`), and fail closed when the backend reached
 * any key outside `allowedKeys` (its own key, which a backend may add, aside).
 */
export async function protect(sender: Peer, m: OutgoingTrustMessage): Promise<EncryptResult> {
  const options: EncryptOptions = {
    acceptedLevels: ['authenticated'],
    onlyKeys: m.allowedKeys,
  }
  const sent = await sender.backend.encrypt(serializeTrustMessage(m.message), [m.to], options)
  const allowed = new Set(m.allowedKeys.map(refKey))
  for (const k of await sender.backend.ownKeys())
    allowed.add(refKey({ encryption: sender.backend.namespace, owner: sender.jid, keyId: k }))
  const outside = sent.recipients.filter((r) => !allowed.has(refKey(r)))
  if (outside.length > 0)
    throw new Error(`encrypted for keys outside allowedKeys: ${outside.map(refKey).join(', ')}`)
  return sent
}

/** The peers other than `sender` whose own key is among `allowedKeys`: who may read `m`. */
export async function allowedReaders(
  peers: readonly Peer[],
  sender: Peer,
  m: OutgoingTrustMessage,
): Promise<string[]> {
  const allowed = new Set(m.allowedKeys.map(refKey))
  const out: string[] = []
  for (const p of peers) {
    if (p === sender) continue
    const own = await p.backend.ownKeys()
    if (own.some((k) => allowed.has(refKey({ encryption: p.backend.namespace, owner: p.jid, keyId: k }))))
      out.push(p.name)
  }
  return out
}

/** `receiver` decrypts `el` (sent by `sender` in a stanza to `to`). */
export function open(receiver: Peer, sender: Peer, el: Element, to: BareJid): Promise<DecryptedContent> {
  return receiver.backend.decrypt(el, { from: sender.fullJid, to })
}

/** Parses the decrypted payload with the codec and hands it to the receiver's engine. */
export async function deliver(
  receiver: Peer,
  decrypted: DecryptedContent,
  caps: BackendCapabilities,
): Promise<ReceiveResult> {
  if (!decrypted.signed) throw new Error('an unsigned trust message (TM-2)')
  const container = new XmlElement('message', { xmlns: NS_CLIENT })
  for (const p of decrypted.payload) container.cnode(p)
  const parsed = findTrustMessage(container, {
    keyIdLength: (e) => (e === decrypted.carrier ? caps.keyIdLength : undefined),
  })
  return receiver.atm.handleTrustMessage({
    message: parsed.message,
    senderJid: decrypted.senderFullJid ?? decrypted.senderJid,
    senderKey: decrypted.senderKey,
    carrier: decrypted.carrier,
    encrypted: decrypted.encrypted,
    signed: decrypted.signed,
    sceTime: (decrypted.time ?? new Date()).getTime(),
  })
}

/** Every key record and postponed decision of `p` for `ns`, for "nothing changed" checks. */
export async function snapshot(p: Peer, ns: EncryptionNamespace): Promise<string> {
  const keys = await p.store.getKeys(ns)
  const postponed = await p.store.getPostponed(ns)
  return JSON.stringify({ keys, postponed })
}

/** The level `viewer` holds for each of `target`'s own keys. */
export async function levelsOf(viewer: Peer, target: Peer): Promise<TrustLevel[]> {
  const ns = viewer.backend.namespace
  const ids: readonly KeyId[] = await target.backend.ownKeys()
  return Promise.all(ids.map((k) => viewer.store.getTrustLevel(ns, target.jid, k)))
}

/** A copy of `el` with one bit flipped in the middle of its longest Base64 text (the ciphertext). */
export function tamper(el: Element): Element {
  const copy = clone(el)
  let target = copy
  let best = -1
  const walk = (e: Element): void => {
    const len = textOf(e).length
    if (len > best) {
      best = len
      target = e
    }
    for (const c of e.children) if (typeof c !== 'string') walk(c)
  }
  walk(copy)
  const bytes = Buffer.from(textOf(target).replace(/\s+/g, ''), 'base64')
  const i = Math.floor(bytes.length / 2)
  bytes[i] = (bytes[i] ?? 0) ^ 0x01
  target.children = [bytes.toString('base64')]
  return copy
}

function textOf(e: Element): string {
  return e.children.filter((c): c is string => typeof c === 'string').join('')
}

function clone(el: Element): Element {
  const copy = new XmlElement(el.name, { ...el.attrs })
  for (const c of el.children) {
    if (typeof c === 'string') copy.t(c)
    else copy.cnode(clone(c))
  }
  return copy
}

/** The rejection of `p` (fails the test when `p` resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (e) {
    return e as Error
  }
  throw new Error('expected a rejection, but the call resolved')
}
