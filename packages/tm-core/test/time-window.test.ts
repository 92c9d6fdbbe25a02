import { describe, expect, it } from 'vitest'
import { outsideTimeWindow } from '../src/index.ts'

const ref = new Date('2026-12-04T12:00:00Z')
const at = (s: number): Date => new Date(ref.getTime() + s * 1000)
const w = { maxAgeSeconds: 600, futureSkewSeconds: 10 }

describe('SCE-1 / OX-TIME: the one time-window rule', () => {
  it('accepts the bounds inclusively', () => {
    expect(outsideTimeWindow(at(-600), ref, w)).toBeUndefined()
    expect(outsideTimeWindow(at(10), ref, w)).toBeUndefined()
    expect(outsideTimeWindow(ref, ref, w)).toBeUndefined()
  })
  it('rejects a time older than maxAgeSeconds and one further than futureSkewSeconds ahead', () => {
    expect(outsideTimeWindow(at(-601), ref, w)).toBe('is 601 s old, over 600 s')
    expect(outsideTimeWindow(at(11), ref, w)).toBe('is dated 11 s in the future, over 10 s')
  })
})
