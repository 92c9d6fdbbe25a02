/**
 * The reference time of a received message: the time the freshness checks (SCE-1, OX-TIME)
 * measure the protected `<time/>` against, and OX's replay window.
 *
 * It is ours, never the sender's: a `<delay/>` (XEP-0203) written by the sender would let any
 * old message pass as fresh. So:
 * - a live stanza (and a carbon) is measured against the local clock, unless it carries a
 *   `<delay/>` that our own server added (offline storage: its `from` is our domain or our bare
 *   JID); of several such stamps the latest counts (the safe side: older messages look older);
 * - an archived copy is measured against the stamp of our own archive's result (the MAM client
 *   only takes results from our own archive);
 * - every stamp is bounded by the clock: never after it, never more than `maxStampAgeSeconds`
 *   before it. A message older than that bound plus the backend's window is refused as stale,
 *   however it is stamped.
 */
import type { BareJid } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
import { NS_DELAY } from './namespaces.ts'
import { bareOf, childElements } from './util.ts'

/** Default bound of a stamp before the clock: 30 days (an offline or archived copy). */
export const DEFAULT_MAX_STAMP_AGE_SECONDS = 30 * 24 * 3600

export interface ReferenceTimeInput {
  readonly clock: Date
  readonly account: BareJid
  /** the stamp of our own archive's result, for an archived copy */
  readonly archiveStamp?: Date | undefined
  /** the received `<message/>` (its `<delay/>` children are read) */
  readonly message: Element
  readonly maxStampAgeSeconds: number
}

export function referenceTime(input: ReferenceTimeInput): Date {
  const stamp = input.archiveStamp ?? ownServerDelay(input.message, input.account)
  if (stamp === undefined) return input.clock
  const clock = input.clock.getTime()
  const floor = clock - input.maxStampAgeSeconds * 1000
  return new Date(Math.min(clock, Math.max(floor, stamp.getTime())))
}

/** The latest `<delay/>` stamp set by our own server (`from` = our domain or our bare JID). */
export function ownServerDelay(message: Element, account: BareJid): Date | undefined {
  const domain = account.slice(account.indexOf('@') + 1)
  let latest: Date | undefined
  for (const c of childElements(message)) {
    if (c.name !== 'delay' || c.attrs.xmlns !== NS_DELAY) continue
    const from = bareOf(c.attrs.from as string | undefined)
    if (from !== domain && from !== account) continue
    const t = typeof c.attrs.stamp === 'string' ? new Date(c.attrs.stamp) : undefined
    if (t === undefined || Number.isNaN(t.getTime())) continue
    if (latest === undefined || t.getTime() > latest.getTime()) latest = t
  }
  return latest
}
