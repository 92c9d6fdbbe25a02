/**
 * Which received copies were processed, kept in the store's backend state so it survives
 * restarts (namespace `vouch-xmpp`, the keys the XMPP binding has always used): at most `max`
 * dedup keys, the oldest forgotten first.
 */
import type { AccountTrustStore } from '@vouch/tm-core'

export const PROCESSED_STATE_NAMESPACE = 'vouch-xmpp'
const enc = new TextEncoder()
const dec = new TextDecoder()
const pad = (n: number): string => String(n).padStart(15, '0')

async function getText(s: AccountTrustStore, key: string): Promise<string | undefined> {
  const v = await s.getState(PROCESSED_STATE_NAMESPACE, key)
  return v === undefined ? undefined : dec.decode(v)
}
const setText = (s: AccountTrustStore, key: string, value: string): Promise<void> =>
  s.setState(PROCESSED_STATE_NAMESPACE, key, enc.encode(value))

/** True when any of `keys` was recorded as processed. */
export async function isProcessed(s: AccountTrustStore, keys: readonly string[]): Promise<boolean> {
  for (const k of keys)
    if ((await s.getState(PROCESSED_STATE_NAMESPACE, `seen:${k}`)) !== undefined) return true
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
    if ((await s.getState(PROCESSED_STATE_NAMESPACE, `seen:${k}`)) !== undefined) continue
    await setText(s, `seen:${k}`, String(next))
    await setText(s, `seenq:${pad(next)}`, k)
    next++
    while (next - low > max) {
      const old = await getText(s, `seenq:${pad(low)}`)
      if (old !== undefined) await s.deleteState(PROCESSED_STATE_NAMESPACE, `seen:${old}`)
      await s.deleteState(PROCESSED_STATE_NAMESPACE, `seenq:${pad(low)}`)
      low++
    }
  }
  await setText(s, 'seen-next', String(next))
  await setText(s, 'seen-low', String(low))
}

/** Number of processed ids kept now. */
export async function processedCount(s: AccountTrustStore): Promise<number> {
  return (await s.listState(PROCESSED_STATE_NAMESPACE, 'seenq:')).length
}
