/**
 * A small seeded PRNG (mulberry32) for the simulator: keys, adversarial delivery and fast-check
 * replays are all reproducible from one seed. Test-only randomness: never use it for crypto.
 */

export interface Rng {
  /** the seed this generator started from */
  readonly seed: number
  /** a float in [0, 1) */
  next(): number
  /** an integer in [0, n) (0 when n ≤ 0) */
  int(n: number): number
  /** true with probability p */
  chance(p: number): boolean
  /** n pseudo-random bytes */
  bytes(n: number): Uint8Array
  /** a copy of `xs` in a random order (Fisher–Yates) */
  shuffle<T>(xs: readonly T[]): T[]
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => (n <= 0 ? 0 : Math.floor(next() * n))
  return {
    seed,
    next,
    int,
    chance: (p) => p > 0 && next() < p,
    bytes: (n) => {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i++) out[i] = int(256)
      return out
    },
    shuffle: <T>(xs: readonly T[]): T[] => {
      const out = [...xs]
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1)
        const a = out[i] as T
        out[i] = out[j] as T
        out[j] = a
      }
      return out
    },
  }
}
