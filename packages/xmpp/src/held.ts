/**
 * Messages held for their sender's keys: a received message that failed to decrypt or verify
 * while we knew none (or not all) of the sender's keys — typically because the sender shows them
 * to contacts only and we were not a contact yet — is kept (in the store, namespace `vouch-xmpp`,
 * so it survives restarts) and received again once a key of that sender arrives that we did not
 * have when it was held, instead of being lost. The rejection itself was reported when it
 * happened (`rejected`, `held: true`).
 *
 * Bounded: at most {@link MAX_HELD} messages (the oldest goes first), each received again at most
 * {@link MAX_ATTEMPTS} times, and never after `maxStampAgeSeconds` (its time window would refuse
 * it anyway). A retry is measured against the reference time the message had when it arrived, so
 * waiting for a key never widens the time window.
 */
import type { AccountTrustStore, BareJid, EncryptionNamespace, KeyId } from '@vouch/tm-core'
import { XMPP_STATE_NAMESPACE } from './state.ts'

/** Held messages kept at most (all senders together). */
export const MAX_HELD = 200
/** How often a held message is received again at most. */
export const MAX_ATTEMPTS = 3

export interface HeldMessage {
  readonly seq: string
  /** the sender's bare JID (whose keys we wait for) */
  readonly sender: BareJid
  readonly encryption: EncryptionNamespace
  /** the `<message/>` as received */
  readonly xml: string
  readonly source: 'live' | 'carbon-sent' | 'carbon-received' | 'archive'
  readonly archiveId: string | undefined
  /** the reference time of the freshness checks when it arrived (ISO) */
  readonly referenceTime: string
  /** the sender's usable keys when it was held: only a key not among them triggers a retry */
  readonly knownKeys: readonly KeyId[]
  /** how often it was received again so far */
  readonly attempts: number
}

const enc = new TextEncoder()
const dec = new TextDecoder()
const PREFIX = 'held:'
const pad = (n: number): string => String(n).padStart(15, '0')

async function next(s: AccountTrustStore): Promise<number> {
  const v = await s.getState(XMPP_STATE_NAMESPACE, 'held-next')
  const n = v === undefined ? 0 : Number(dec.decode(v))
  await s.setState(XMPP_STATE_NAMESPACE, 'held-next', enc.encode(String(n + 1)))
  return n
}

/** Every held message, oldest first (optionally only `sender`'s). */
export async function readHeld(s: AccountTrustStore, sender?: BareJid): Promise<HeldMessage[]> {
  const out: HeldMessage[] = []
  for (const key of await s.listState(XMPP_STATE_NAMESPACE, PREFIX)) {
    const v = await s.getState(XMPP_STATE_NAMESPACE, key)
    if (v === undefined) continue
    const h = JSON.parse(dec.decode(v)) as HeldMessage
    if (sender === undefined || h.sender === sender) out.push(h)
  }
  return out.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
}

/** Holds a message (a new one, or one received again: `attempts` counts); drops the oldest over the cap. */
export async function holdMessage(s: AccountTrustStore, entry: Omit<HeldMessage, 'seq'>): Promise<void> {
  const seq = pad(await next(s))
  await s.setState(XMPP_STATE_NAMESPACE, `${PREFIX}${seq}`, enc.encode(JSON.stringify({ ...entry, seq })))
  const keys = await s.listState(XMPP_STATE_NAMESPACE, PREFIX)
  const over = [...keys].sort().slice(0, Math.max(0, keys.length - MAX_HELD))
  for (const k of over) await s.deleteState(XMPP_STATE_NAMESPACE, k)
}

export const releaseHeld = (s: AccountTrustStore, seq: string): Promise<void> =>
  s.deleteState(XMPP_STATE_NAMESPACE, `${PREFIX}${seq}`)

/** True when `current` holds a key that `held` was not waiting with (a key arrived since). */
export const newKeyArrived = (held: HeldMessage, current: readonly KeyId[]): boolean =>
  current.some((k) => !held.knownKeys.includes(k))
