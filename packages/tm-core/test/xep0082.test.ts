/** XEP-0082 v1.1.1 DateTime: the one implementation, used by `@vouch/sce` and `@vouch/backend-ox`. */
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

  it('D-2a: an offset without the colon (±hhmm, as Profanity 0.13.1 writes it) names the same instant', () => {
    // Profanity 0.13.1's OX <time/>, as it sent it over Prosody (tooling/profanity test)
    expect(parseDateTime('2026-12-04T15:49:13+0000')).toEqual({
      ok: true,
      date: new Date('2026-12-04T15:49:13Z'),
      zoned: true,
    })
    expect(iso('2024-01-01T00:30:00+0100')).toBe(iso('2024-01-01T00:30:00+01:00'))
    expect(iso('2023-12-31T23:30:00-0130')).toBe('2024-01-01T01:00:00.000Z')
    expect(iso('2024-01-01T00:00:00+1400')).toBe('2023-12-31T10:00:00.000Z')
    // never written that way
    expect(formatDateTime(new Date('2026-12-04T15:49:13Z'))).toBe('2026-12-04T15:49:13Z')
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

  it('SCE-1 / OX: fractions are truncated to milliseconds, offsets with minutes, years 0001–0099 across a boundary', () => {
    // the vectors backend-ox kept for its own copy of the parser, now on the one implementation
    expect(iso('2024-02-29T23:59:59.1234+01:30')).toBe('2024-02-29T22:29:59.123Z')
    const r = parseDateTime('0050-01-01T00:00:00Z')
    expect(r.ok && r.date.getUTCFullYear()).toBe(50)
    expect(iso('0099-12-31T23:00:00-02:00')).toBe('0100-01-01T01:00:00.000Z')
    expect(iso('2023-02-29T00:00:00Z')).toBe(false)
  })

  it('SCE-1: refuses what the strict grammar, the calendar or the zone rules exclude, with a reason', () => {
    for (const s of [
      '',
      '2024-01-01',
      '2024-01-01 00:00:00Z',
      '2024-01-01t00:00:00Z',
      '2024-01-01T00:00:00z',
      ' 2024-01-01T00:00:00Z',
      '2024-01-01T00:00:00Z ',
      '24-01-01T00:00:00Z',
      '+2024-01-01T00:00:00Z',
      '2024-01-01T00:00:00.Z',
      '2024-01-01T00:00Z',
      '2024-01-01T00:00:00+010',
      '2024-01-01T00:00:00+01',
      '2024-01-01T00:00:00+01:0',
      '2024-01-01T00:00:00+0160',
      '2024-01-01T00:00:00+1401',
      '0000-01-01T00:00:00Z',
      '2024-00-01T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-01-00T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T00:60:00Z',
      '2024-12-31T23:59:60Z',
      '2024-01-01T00:00:00+14:01',
      '2024-01-01T00:00:00-15:00',
      '2024-01-01T00:00:00+01:60',
    ]) {
      const r = parseDateTime(s)
      expect(r.ok, s).toBe(false)
      expect(r.ok || r.reason.length > 0, s).toBe(true)
    }
    expect(iso('2024-01-01T00:00:00+14:00')).toBe('2023-12-31T10:00:00.000Z')
    expect(iso('2024-01-01T00:00:00-14:00')).toBe('2024-01-01T14:00:00.000Z')
  })
})
