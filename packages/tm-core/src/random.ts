/**
 * The default CSPRNG of every Vouch package: Web Crypto's `getRandomValues`, which browsers,
 * Deno, Bun and Node (≥ 19, as `globalThis.crypto`) all provide. No `node:crypto` import, so the
 * packages that use it bundle for the browser unchanged.
 */

/** `getRandomValues` fills at most 65,536 bytes per call (Web Crypto §10.1.1, QuotaExceededError). */
const MAX_PER_CALL = 65_536

/** `n` cryptographically secure random bytes from `globalThis.crypto.getRandomValues`. */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += MAX_PER_CALL)
    globalThis.crypto.getRandomValues(out.subarray(i, i + MAX_PER_CALL))
  return out
}
