/**
 * What the binding keeps in the store's backend state (namespace `vouch-xmpp`), so it survives
 * restarts: the last archive id seen (MAM catch-up starts after it), the processed stanza ids
 * (bounded: the oldest are forgotten first) and the outbox of trust messages not yet sent.
 */
import type { AccountTrustStore } from '@vouch/tm-core'

export const XMPP_STATE_NAMESPACE = 'vouch-xmpp'
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

/** True when any of `keys` was recorded as processed. */
export async function isProcessed(s: AccountTrustStore, keys: readonly string[]): Promise<boolean> {
  for (const k of keys) if ((await s.getState(XMPP_STATE_NAMESPACE, `seen:${k}`)) !== undefined) return true
  return false
}

/**
 * Records `keys` as processed. At most `max` keys are kept: beyond that the oldest are
 * forgotten (a copy older than that many messages may be processed again; the engine's replay
 * check (D-9) still refuses to apply a decision twice).
 */
export async function markProcessed(
  s: AccountTrustStore,
  keys: readonly string[],
  max: number,
): Promise<void> {
  let next = Number((await getText(s, 'seen-next')) ?? '0')
  let low = Number((await getText(s, 'seen-low')) ?? '0')
  for (const k of keys) {
    if ((await s.getState(XMPP_STATE_NAMESPACE, `seen:${k}`)) !== undefined) continue
    await setText(s, `seen:${k}`, String(next))
    await setText(s, `seenq:${pad(next)}`, k)
    next++
    while (next - low > max) {
      const old = await getText(s, `seenq:${pad(low)}`)
      if (old !== undefined) await s.deleteState(XMPP_STATE_NAMESPACE, `seen:${old}`)
      await s.deleteState(XMPP_STATE_NAMESPACE, `seenq:${pad(low)}`)
      low++
    }
  }
  await setText(s, 'seen-next', String(next))
  await setText(s, 'seen-low', String(low))
}

/** Number of processed ids kept now. */
export async function processedCount(s: AccountTrustStore): Promise<number> {
  return (await s.listState(XMPP_STATE_NAMESPACE, 'seenq:')).length
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
