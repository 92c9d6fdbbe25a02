/**
 * The rules of the store contract every store implementation shares: the caps of
 * {@link TrustStoreLimits} and what `addPostponed` does with them (D-8 merge within one call,
 * replacement across calls, the caps in the contract's order, the oldest evicted first). A store
 * decides how to find and count the decisions of a group (a map scan, an index range); which
 * decision wins, which group is capped next and which decisions go are decided here, once.
 */
import type { AddPostponedResult, PostponedDecision, TrustStoreLimits } from './contracts/store.ts'
import { DEFAULT_TRUST_STORE_LIMITS } from './contracts/store.ts'
import { comparePostponed } from './store-order.ts'

/**
 * The limits a store runs with: {@link DEFAULT_TRUST_STORE_LIMITS} for the members not given,
 * frozen.
 *
 * @throws RangeError when a member is not a positive (safe) integer
 */
export function resolveTrustStoreLimits(partial: Partial<TrustStoreLimits> = {}): Required<TrustStoreLimits> {
  const limits: Required<TrustStoreLimits> = Object.freeze({ ...DEFAULT_TRUST_STORE_LIMITS, ...partial })
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`)
    }
  }
  return limits
}

/** The D-8 identity of a postponed decision, (encryption, senderKey, owner, keyId), as one string. */
export function postponedIdentity(d: PostponedDecision): string {
  return JSON.stringify([d.encryption, d.senderKey, d.owner, d.keyId])
}

/** A frozen copy with exactly the contract's fields (a store never keeps the caller's object). */
export function copyPostponed(d: PostponedDecision): PostponedDecision {
  return Object.freeze({
    encryption: d.encryption,
    senderKey: d.senderKey,
    senderJid: d.senderJid,
    owner: d.owner,
    keyId: d.keyId,
    polarity: d.polarity,
    sceTime: d.sceTime,
    receivedAt: d.receivedAt,
  })
}

/**
 * True if `a` wins over `b`, two decisions with the same D-8 identity given in one call:
 * distrust wins, then the newer sceTime, then the newer receivedAt; when all are equal, `a` (the
 * later one in the call) wins.
 */
export function winsInOneCall(a: PostponedDecision, b: PostponedDecision): boolean {
  if (a.polarity !== b.polarity) return a.polarity === 'distrust'
  if (a.sceTime !== b.sceTime) return a.sceTime > b.sceTime
  return a.receivedAt >= b.receivedAt
}

/** The decisions of one `addPostponed` call after the D-8 merge within the call. */
export interface MergedPostponed {
  /** one winner (a frozen copy) per D-8 identity ({@link postponedIdentity}), in first-seen order */
  readonly winners: Map<string, PostponedDecision>
  /** the losers of the merge (frozen copies), in no particular order */
  readonly ignored: PostponedDecision[]
}

/** Step 1 of `addPostponed`: one winner per D-8 identity within the call ({@link winsInOneCall}). */
export function mergeInOneCall(decisions: readonly PostponedDecision[]): MergedPostponed {
  const winners = new Map<string, PostponedDecision>()
  const ignored: PostponedDecision[] = []
  for (const given of decisions) {
    const d = copyPostponed(given)
    const k = postponedIdentity(d)
    const current = winners.get(k)
    if (current === undefined) winners.set(k, d)
    else if (winsInOneCall(d, current)) {
      ignored.push(current)
      winners.set(k, d)
    } else ignored.push(d)
  }
  return { winners, ignored }
}

/**
 * Step 2 of `addPostponed`, across calls: a decision replaces the stored one of the same D-8
 * identity unless the stored one has a newer sceTime (an equal sceTime replaces). A SQL store
 * says the same in its upsert (`where sce_time <= excluded.sce_time`).
 */
export function replacesStored(stored: PostponedDecision | undefined, incoming: PostponedDecision): boolean {
  return stored === undefined || stored.sceTime <= incoming.sceTime
}

/** The groups a cap counts: per (encryption, sender key), per (encryption, sender JID), per account. */
export type PostponedGroupKind = 'senderKey' | 'senderJid' | 'account'

/** One group of postponed decisions of an account. */
export interface PostponedGroup {
  readonly kind: PostponedGroupKind
  /** what identifies the group: [encryption, senderKey], [encryption, senderJid], or [] */
  readonly values: readonly string[]
}

/** One cap of {@link TrustStoreLimits}: the kind of group it applies to and its maximum. */
export interface PostponedCap {
  readonly kind: PostponedGroupKind
  readonly max: number
}

/** The caps, in the order the contract applies them (each on what the previous one left). */
export function postponedCaps(limits: Required<TrustStoreLimits>): readonly PostponedCap[] {
  return [
    { kind: 'senderKey', max: limits.maxPostponedPerSender },
    { kind: 'senderJid', max: limits.maxPostponedPerSenderJid },
    { kind: 'account', max: limits.maxPostponedPerAccount },
  ]
}

/** The group of kind `kind` that `d` belongs to. */
export function postponedGroupOf(kind: PostponedGroupKind, d: PostponedDecision): PostponedGroup {
  switch (kind) {
    case 'senderKey':
      return { kind, values: [d.encryption, d.senderKey] }
    case 'senderJid':
      return { kind, values: [d.encryption, d.senderJid] }
    case 'account':
      return { kind, values: [] }
  }
}

/** True if `d` is in `group`. */
export function inPostponedGroup(group: PostponedGroup, d: PostponedDecision): boolean {
  switch (group.kind) {
    case 'senderKey':
      return d.encryption === group.values[0] && d.senderKey === group.values[1]
    case 'senderJid':
      return d.encryption === group.values[0] && d.senderJid === group.values[1]
    case 'account':
      return true
  }
}

/**
 * The groups of kind `kind` that the decisions a call stored went into, each once, in first-seen
 * order: only those can be over their cap after the call.
 */
export function touchedGroups(
  kind: PostponedGroupKind,
  stored: Iterable<PostponedDecision>,
): PostponedGroup[] {
  const groups = new Map<string, PostponedGroup>()
  for (const d of stored) {
    const g = postponedGroupOf(kind, d)
    const k = JSON.stringify(g.values)
    if (!groups.has(k)) groups.set(k, g)
  }
  return [...groups.values()]
}

/**
 * The `count - max` decisions to evict from a group of `count` that is over its cap `max`, chosen
 * from `candidates` (the whole group, or any part of it that holds its oldest `count - max`):
 * the oldest in contract order ({@link comparePostponed}). Empty when the group is not over.
 * Sorts `candidates` in place.
 */
export function oldestToEvict(
  candidates: PostponedDecision[],
  count: number,
  max: number,
): PostponedDecision[] {
  if (count <= max) return []
  return candidates.sort(comparePostponed).slice(0, count - max)
}

/**
 * The result of `addPostponed` in contract order: `stored` without what the caps evicted again,
 * `ignored`, `evicted`.
 */
export function postponedResult(
  stored: Iterable<PostponedDecision>,
  ignored: PostponedDecision[],
  evicted: PostponedDecision[],
): AddPostponedResult {
  let kept: PostponedDecision[]
  if (evicted.length === 0) kept = [...stored]
  else {
    const gone = new Set(evicted.map(postponedIdentity))
    kept = []
    for (const d of stored) if (!gone.has(postponedIdentity(d))) kept.push(d)
  }
  return {
    stored: kept.sort(comparePostponed),
    ignored: ignored.sort(comparePostponed),
    evicted: evicted.sort(comparePostponed),
  }
}
