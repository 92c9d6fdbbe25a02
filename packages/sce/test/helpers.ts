import { expect } from 'vitest'

/** Runs `fn` and returns what it threw; fails the test when it returns normally. */
export function thrown(fn: () => unknown): Error & { rule?: unknown } {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(Error)
    return e as Error & { rule?: unknown }
  }
  expect.fail('expected a throw, but the call returned')
}

/** Asserts `fn` throws a Vouch error with this `name` and `rule` (never `instanceof`). */
export function expectRejected(fn: () => unknown, name: string, rule: string, why?: string): Error {
  const e = thrown(fn)
  expect({ name: e.name, rule: e.rule }, why ?? e.message).toEqual({ name, rule })
  expect(e.message.startsWith(`${rule}: `)).toBe(true)
  return e
}

/** A deterministic byte source for tests only (xorshift32 from a seed): not for production. */
export function seededRandom(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1
  return (n) => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      s ^= s << 13
      s >>>= 0
      s ^= s >>> 17
      s ^= s << 5
      s >>>= 0
      out[i] = s & 0xff
    }
    return out
  }
}
