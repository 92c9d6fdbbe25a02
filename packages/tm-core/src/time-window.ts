/**
 * The freshness rule of every protected sending time (SCE-1 for XEP-0420 envelopes, OX-TIME for
 * XEP-0373 `<signcrypt/>`): a time may lie at most `maxAgeSeconds` before the reference time and
 * at most `futureSkewSeconds` after it (clock skew). One home for the rule; each protocol throws
 * its own typed error with its own rule id.
 */

/** How far a protected time may lie from the reference time, in seconds (inclusive). */
export interface TimeWindow {
  readonly maxAgeSeconds: number
  readonly futureSkewSeconds: number
}

/**
 * `undefined` when `time` lies within `window` of `reference`; otherwise why not, as a phrase
 * (`"is 700 s old, over 600 s"`, `"is dated 30 s in the future, over 10 s"`).
 */
export function outsideTimeWindow(time: Date, reference: Date, window: TimeWindow): string | undefined {
  const delta = (time.getTime() - reference.getTime()) / 1000
  if (delta < -window.maxAgeSeconds) return `is ${Math.round(-delta)} s old, over ${window.maxAgeSeconds} s`
  if (delta > window.futureSkewSeconds)
    return `is dated ${Math.round(delta)} s in the future, over ${window.futureSkewSeconds} s`
  return undefined
}
