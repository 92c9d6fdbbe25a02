/**
 * What the binding keeps in the store's backend state (namespace `vouch-xmpp`), so it survives
 * restarts: the last archive id seen and its stamp (MAM catch-up starts after it) and the outbox
 * of trust messages not yet sent. (The processed stanza ids are the receive pipeline's, under the
 * same namespace: `@vouch/pipeline`.)
 */
import { PROCESSED_STATE_NAMESPACE } from '@vouch/pipeline'
import type { AccountTrustStore } from '@vouch/tm-core'

/** the pipeline's namespace: one name for everything the binding keeps (as before the split) */
export const XMPP_STATE_NAMESPACE = PROCESSED_STATE_NAMESPACE
const enc = new TextEncoder()
const dec = new TextDecoder()
const pad = (n: number): string => String(n).padStart(15, '0')

async function getText(s: AccountTrustStore, key: string): Promise<string | undefined> {
  const v = await s.getState(XMPP_STATE_NAMESPACE, key)
  return v === undefined ? undefined : dec.decode(v)
}
const setText = (s: AccountTrustStore, key: string, value: string): Promise<void> =>
  s.setState(XMPP_STATE_NAMESPACE, key, enc.encode(value))

export const getLastArchiveId = (s: AccountTrustStore): Promise<string | undefined> => getText(s, 'mam:last')

/** The stamp of the message at the archive pointer (or when the pointer last moved). */
export async function getLastArchiveStamp(s: AccountTrustStore): Promise<Date | undefined> {
  const t = await getText(s, 'mam:last-stamp')
  const d = t === undefined ? undefined : new Date(t)
  return d === undefined || Number.isNaN(d.getTime()) ? undefined : d
}

/** Moves the archive pointer: the last archive id seen and its stamp. */
export async function setArchivePosition(s: AccountTrustStore, id: string, stamp: Date): Promise<void> {
  await setText(s, 'mam:last', id)
  await setText(s, 'mam:last-stamp', stamp.toISOString())
}

/** An outgoing trust message waiting to be sent (written in the decision's transaction). */
export interface OutboxEntry {
  readonly seq: string
  /** stanza id and origin-id (the same on every retry: receivers drop the copies) */
  readonly id: string
  readonly to: string
  /** serialized `<trust-message/>` */
  readonly xml: string
  readonly encryption: string
  /** `encryption owner keyId` of every key the message may be encrypted for */
  readonly allowedKeys: readonly { encryption: string; owner: string; keyId: string }[]
}

export async function addToOutbox(s: AccountTrustStore, entry: Omit<OutboxEntry, 'seq'>): Promise<void> {
  const next = Number((await getText(s, 'outbox-next')) ?? '0')
  await setText(s, 'outbox-next', String(next + 1))
  await setText(s, `outbox:${pad(next)}`, JSON.stringify({ ...entry, seq: pad(next) }))
}

export async function readOutbox(s: AccountTrustStore): Promise<OutboxEntry[]> {
  const out: OutboxEntry[] = []
  for (const key of await s.listState(XMPP_STATE_NAMESPACE, 'outbox:')) {
    const text = await getText(s, key)
    if (text !== undefined) out.push(JSON.parse(text) as OutboxEntry)
  }
  return out
}

export const removeFromOutbox = (s: AccountTrustStore, seq: string): Promise<void> =>
  s.deleteState(XMPP_STATE_NAMESPACE, `outbox:${seq}`)
