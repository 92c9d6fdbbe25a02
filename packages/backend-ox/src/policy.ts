/**
 * The OX receiver and sender policy (STYLE rule 9): typed, safe by default, passed per call.
 * Which level a new key gets is not here: ATM's `keysDiscovered` applies the security policy
 * (`OxPolicy.securityPolicy` was removed with the backend's own copy of TOAKAFA).
 */
import type { TrustLevel } from '@vouch/tm-core'
import { ACCEPTED_FOR_ENCRYPTION } from '@vouch/tm-core'

export interface OxPolicy {
  /** Levels whose keys we encrypt to (chat default; trust messages pass `['authenticated']`). */
  readonly acceptedLevels: readonly TrustLevel[]
  /** How old the protected `<time/>` (and the signature) may be, in seconds. Default one week. */
  readonly maxAgeSeconds: number
  /**
   * How far in the future `<time/>` and the signature creation time may be (clock skew), in
   * seconds. Default 600, what GnuPG accepts; OpenPGP.js alone accepts none.
   */
  readonly futureSkewSeconds: number
  /**
   * How far before the clock the reference time (`DecryptOptions.now`: our own server's stamp of
   * an offline or archived copy) may lie, in seconds: the XMPP binding's bound on such a stamp.
   * Default 30 days. With `maxAgeSeconds` and `futureSkewSeconds` it sets how long, measured on
   * the clock, a message is remembered against replay: no reference time within this bound can
   * make an older message pass `OX-TIME`.
   */
  readonly maxReferenceAgeSeconds: number
  /**
   * Cap on the number of messages remembered against replay (per account). Beyond it the oldest
   * are forgotten and anything signed at or before them is rejected as `REPLAY`. Default 100 000.
   */
  readonly maxReplayEntries: number
  /** Cap on the Base64-decoded `<openpgp/>` payload in bytes. Default 256 KiB. */
  readonly maxMessageBytes: number
  /** Cap on the decompressed plaintext in bytes (GnuPG compresses). Default 1 MiB. */
  readonly maxDecompressedBytes: number
  /** Cap on the number of `<to/>` elements and `<pubkey-metadata/>` entries. Default 64. */
  readonly maxEntries: number
}

export const DEFAULT_OX_POLICY: OxPolicy = Object.freeze({
  acceptedLevels: ACCEPTED_FOR_ENCRYPTION,
  maxAgeSeconds: 7 * 24 * 3600,
  futureSkewSeconds: 600,
  maxReferenceAgeSeconds: 30 * 24 * 3600,
  maxReplayEntries: 100_000,
  maxMessageBytes: 256 * 1024,
  maxDecompressedBytes: 1024 * 1024,
  maxEntries: 64,
})

/** Merges overrides over a base policy (later wins; `undefined` members are ignored). */
export function resolvePolicy(...layers: readonly (Partial<OxPolicy> | undefined)[]): OxPolicy {
  const out: Record<string, unknown> = { ...DEFAULT_OX_POLICY }
  for (const layer of layers) {
    if (layer === undefined) continue
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v
  }
  const p = out as unknown as OxPolicy
  for (const k of [
    'maxAgeSeconds',
    'futureSkewSeconds',
    'maxReferenceAgeSeconds',
    'maxMessageBytes',
    'maxDecompressedBytes',
    'maxEntries',
  ] as const) {
    if (!Number.isFinite(p[k]) || p[k] < 0)
      throw new RangeError(`OxPolicy.${k} must be a non-negative number`)
  }
  if (!Number.isSafeInteger(p.maxReplayEntries) || p.maxReplayEntries < 1)
    throw new RangeError('OxPolicy.maxReplayEntries must be a positive integer')
  return p
}
