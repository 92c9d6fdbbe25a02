/**
 * XEP-0082: XMPP Date and Time Profiles — implements v1.1.1 (2021-08-31; the DateTime profile is
 * that of v1.1), the DateTime profile only. https://xmpp.org/extensions/xep-0082.html
 *
 * The one implementation in Vouch: `@vouch/sce` re-exports it, `@vouch/backend-ox` uses it.
 *
 * `CCYY-MM-DDThh:mm:ss[.sss]TZD`, TZD = `Z` | `±hh:mm`. Project decision D-2: we emit `Z`, and
 * read a stamp without a zone as UTC. Leniency D-2a, next to it: we also read an offset without
 * the colon, `±hhmm`, as deployed clients write it (Profanity 0.13 writes
 * `2026-12-04T15:49:13+0000` in OX `<time/>`, from strftime's `%z`); it is never emitted, and the
 * instant it names goes through the same time window as any other. Everything else is strict:
 * four-digit years from 0001,
 * real calendar dates (leap years), no leap second, no `24:00`, upper-case `T` and `Z`, no
 * surrounding whitespace, offsets up to ±14:00 (XML Schema `dateTime`).
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,32}))?(Z|[+-]\d{2}:?\d{2})?$/

/** The outcome of {@link parseDateTime}: the instant, or why the text is not a DateTime. */
export type DateTimeResult =
  | { readonly ok: true; readonly date: Date; readonly zoned: boolean }
  | { readonly ok: false; readonly reason: string }

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const

/**
 * Reads an XEP-0082 DateTime. Fractional seconds beyond milliseconds are truncated (a JS `Date`
 * holds milliseconds). Never throws: callers turn `reason` into their own typed error.
 */
export function parseDateTime(text: string): DateTimeResult {
  if (typeof text !== 'string') return { ok: false, reason: 'stamp is not text' }
  const m = DATE_TIME.exec(text)
  if (m === null) return { ok: false, reason: 'not CCYY-MM-DDThh:mm:ss[.sss][TZD]' }
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m
  const year = Number(ys)
  const month = Number(mos)
  const day = Number(ds)
  const hour = Number(hs)
  const minute = Number(mis)
  const second = Number(ss)
  if (year < 1) return { ok: false, reason: 'year 0000 does not exist' }
  if (month < 1 || month > 12) return { ok: false, reason: `month ${mos} out of range` }
  const monthDays = month === 2 && isLeap(year) ? 29 : (DAYS[month - 1] ?? 0)
  if (day < 1 || day > monthDays) return { ok: false, reason: `day ${ds} out of range for ${ys}-${mos}` }
  if (hour > 23) return { ok: false, reason: `hour ${hs} out of range` }
  if (minute > 59) return { ok: false, reason: `minute ${mis} out of range` }
  if (second > 59) return { ok: false, reason: `second ${ss} out of range` }
  let offsetMinutes = 0
  if (zone !== undefined && zone !== 'Z') {
    const oh = Number(zone.slice(1, 3))
    const om = Number(zone.slice(-2)) // `±hh:mm`, or `±hhmm` (D-2a)
    if (om > 59 || oh > 14 || (oh === 14 && om > 0))
      return { ok: false, reason: `zone offset ${zone} out of range` }
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'))
  const zoned = zone !== undefined
  // Date.UTC maps the years 0–99 to 1900–1999: only from 100 on is it the one-call path
  if (year >= 100)
    return {
      ok: true,
      date: new Date(Date.UTC(year, month - 1, day, hour, minute - offsetMinutes, second, ms)),
      zoned,
    }
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(hour, minute - offsetMinutes, second, ms)
  return { ok: true, date: d, zoned }
}

/**
 * Writes an XEP-0082 DateTime in UTC with `Z` (D-2), with milliseconds only when they are not 0.
 * Returns `undefined` for an invalid date or a year outside 0001–9999.
 */
export function formatDateTime(date: Date): string | undefined {
  const t = date.getTime()
  if (!Number.isFinite(t)) return undefined
  const year = date.getUTCFullYear()
  if (year < 1 || year > 9999) return undefined
  const iso = date.toISOString() // YYYY-MM-DDTHH:mm:ss.sssZ for years 0000–9999
  return date.getUTCMilliseconds() === 0 ? `${iso.slice(0, 19)}Z` : iso
}
