/** `@vouch/sce` keeps its XEP-0082 names: they are `@vouch/tm-core`'s one implementation. */
import * as core from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import type { DateTimeResult } from '../src/index.ts'
import { formatDateTime, parseDateTime } from '../src/index.ts'

describe('XEP-0082 DateTime from @vouch/sce', () => {
  it('re-exports the tm-core functions themselves (no second copy)', () => {
    expect(parseDateTime).toBe(core.parseDateTime)
    expect(formatDateTime).toBe(core.formatDateTime)
  })

  it('keeps the DateTimeResult shape (D-2: zone-less is UTC)', () => {
    const r: DateTimeResult = parseDateTime('2020-01-01T00:00:00')
    expect(r).toEqual({ ok: true, date: new Date('2020-01-01T00:00:00Z'), zoned: false })
    expect(parseDateTime('2020-02-30T00:00:00Z')).toMatchObject({ ok: false })
  })
})
