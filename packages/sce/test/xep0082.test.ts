import { describe, expect, it } from 'vitest'
import { formatDateTime, parseDateTime } from '../src/index.ts'

const iso = (s: string): string | false => {
  const r = parseDateTime(s)
  return r.ok && r.date.toISOString()
}

describe('XEP-0082 DateTime (used by SCE-1 and D-2)', () => {
  it('D-2: a stamp without a zone is UTC, and reports that it had none', () => {
    expect(parseDateTime('2020-01-01T00:00:00')).toEqual({
      ok: true,
      date: new Date('2020-01-01T00:00:00Z'),
      zoned: false,
    })
    expect(parseDateTime('2020-01-01T00:00:00Z')).toMatchObject({ ok: true, zoned: true })
  })

  it('SCE-1: leap years follow the Gregorian rules', () => {
    expect(iso('2000-02-29T00:00:00Z')).toBe('2000-02-29T00:00:00.000Z')
    expect(iso('2024-02-29T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z')
    expect(iso('1900-02-29T00:00:00Z')).toBe(false)
    expect(iso('2100-02-29T00:00:00Z')).toBe(false)
  })

  it('SCE-1: years 0001–0099 are not shifted to 1901–1999', () => {
    expect(iso('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000Z')
    expect(iso('0099-12-31T23:59:59Z')).toBe('0099-12-31T23:59:59.000Z')
  })

  it('SCE-1: offsets move the instant across day and year boundaries', () => {
    expect(iso('2024-01-01T00:30:00+01:00')).toBe('2023-12-31T23:30:00.000Z')
    expect(iso('2023-12-31T23:30:00-01:00')).toBe('2024-01-01T00:30:00.000Z')
  })

  it('D-2: formatDateTime writes Z, drops zero milliseconds, refuses what XEP-0082 cannot hold', () => {
    expect(formatDateTime(new Date('2024-05-01T12:00:00.000Z'))).toBe('2024-05-01T12:00:00Z')
    expect(formatDateTime(new Date('2024-05-01T12:00:00.007Z'))).toBe('2024-05-01T12:00:00.007Z')
    expect(formatDateTime(new Date(Number.NaN))).toBeUndefined()
    expect(formatDateTime(new Date('+010000-01-01T00:00:00Z'))).toBeUndefined()
  })
})
