/**
 * PRECIS (RFC 8264) with the two RFC 8265 profiles that RFC 7622 uses for JIDs:
 * UsernameCaseMapped (localpart) and OpaqueString (resourcepart).
 *
 * The derived property of a code point (RFC 8264 §8) is computed from the Unicode data of the
 * running JavaScript engine (`\p{…}` classes, `String.prototype.normalize`, `toLowerCase`), so
 * it follows the engine's Unicode version. The Bidi Rule (RFC 5893) uses the Bidi_Class tables
 * of `tr46`, which JavaScript regular expressions cannot query. Stricter than RFC 8264 in one
 * point: the joiners U+200C/U+200D (CONTEXTJ) are always rejected, as jid.ts rejects every
 * format character (they make two JIDs look the same).
 */
// @ts-expect-error tr46 ships no types for its generated tables (typed by BidiTables below)
import tables from 'tr46/lib/regexes.js'

/**
 * The RFC 5893 (Bidi Rule) tables `tr46` generates from the Unicode Bidi_Class data and ships in
 * `lib/regexes.js` (tr46 is pinned to an exact version; test/rfc7622-vectors.test.ts runs each).
 */
interface BidiTables {
  /** a code point of Bidi_Class R, AL or AN */
  readonly bidiDomain: RegExp
  /** rule 1: an L first code point / an R or AL first code point */
  readonly bidiS1LTR: RegExp
  readonly bidiS1RTL: RegExp
  /** rule 2 (anchored): only R, AL, AN, EN, ES, CS, ET, ON, BN, NSM */
  readonly bidiS2: RegExp
  /** rule 3: ends in R, AL, EN or AN, then NSMs */
  readonly bidiS3: RegExp
  /** rule 4: an EN code point / an AN code point */
  readonly bidiS4EN: RegExp
  readonly bidiS4AN: RegExp
  /** rule 5 (anchored): only L, EN, ES, CS, ET, ON, BN, NSM */
  readonly bidiS5: RegExp
  /** rule 6: ends in L or EN, then NSMs */
  readonly bidiS6: RegExp
}
const bidi: BidiTables = tables

/** The strings a PRECIS class lets through: IdentifierClass or FreeformClass (RFC 8264 §4). */
type StringClass = 'identifier' | 'freeform'

// RFC 8264 §9 categories, in the order of the §8 algorithm
const EXCEPTION_PVALID = /[\u00DF\u03C2\u06FD\u06FE\u0F0B\u3007]/u
const EXCEPTION_CONTEXTO = /[\u00B7\u0375\u05F3\u05F4\u30FB\u0660-\u0669\u06F0-\u06F9]/u
const EXCEPTION_DISALLOWED = /[\u0640\u07FA\u302E\u302F\u3031-\u3035\u303B]/u
const UNASSIGNED = /(?!\p{Noncharacter_Code_Point})\p{Cn}/u
const ASCII7 = /[\x21-\x7E]/u
const JOIN_CONTROL = /\p{Join_Control}/u
/** Hangul_Syllable_Type L, V and T: the Hangul Jamo block plus the extended L and V/T ranges */
const OLD_HANGUL_JAMO = /[\u1100-\u11FF\uA960-\uA97C\uD7B0-\uD7C6\uD7CB-\uD7FB]/u
const PRECIS_IGNORABLE = /[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u
const CONTROLS = /\p{Cc}/u
const LETTER_DIGITS = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u
/** OtherLetterDigits, Spaces, Symbols, Punctuation: FreeformClass only (ID_DIS or FREE_PVAL) */
const FREEFORM_ONLY = /[\p{Lt}\p{Nl}\p{No}\p{Me}\p{Zs}\p{Sm}\p{Sc}\p{Sk}\p{So}\p{P}]/u

type Derived = 'PVALID' | 'CONTEXTO' | 'FREE_PVAL' | 'DISALLOWED'

/** RFC 8264 §8 (CONTEXTJ reported as DISALLOWED, see the module comment). */
function derivedProperty(ch: string): Derived {
  if (EXCEPTION_PVALID.test(ch)) return 'PVALID'
  if (EXCEPTION_CONTEXTO.test(ch)) return 'CONTEXTO'
  if (EXCEPTION_DISALLOWED.test(ch)) return 'DISALLOWED'
  if (UNASSIGNED.test(ch)) return 'DISALLOWED'
  if (ASCII7.test(ch)) return 'PVALID'
  if (JOIN_CONTROL.test(ch)) return 'DISALLOWED'
  if (OLD_HANGUL_JAMO.test(ch) || PRECIS_IGNORABLE.test(ch) || CONTROLS.test(ch)) return 'DISALLOWED'
  if (ch.normalize('NFKC') !== ch) return 'FREE_PVAL' // HasCompat
  if (LETTER_DIGITS.test(ch)) return 'PVALID'
  if (FREEFORM_ONLY.test(ch)) return 'FREE_PVAL'
  return 'DISALLOWED'
}

const GREEK = /\p{Script=Greek}/u
const HEBREW = /\p{Script=Hebrew}/u
const KANA_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u
const ARABIC_INDIC = /[\u0660-\u0669]/u
const EXTENDED_ARABIC_INDIC = /[\u06F0-\u06F9]/u

/** The CONTEXTO rules of RFC 5892 Appendix A.3–A.9 for `cps[i]`. */
function contextOk(cps: readonly string[], i: number): boolean {
  const before = cps[i - 1] ?? ''
  const after = cps[i + 1] ?? ''
  switch (cps[i]) {
    case '\u00B7': // MIDDLE DOT: between two l (Catalan)
      return before === 'l' && after === 'l'
    case '\u0375': // GREEK LOWER NUMERAL SIGN: before a Greek letter
      return GREEK.test(after)
    case '\u05F3': // HEBREW PUNCTUATION GERESH / GERSHAYIM: after a Hebrew letter
    case '\u05F4':
      return HEBREW.test(before)
    case '\u30FB': // KATAKANA MIDDLE DOT: with Hiragana, Katakana or Han in the string
      return cps.some((c) => KANA_HAN.test(c))
    default: // the two sets of Arabic-Indic digits do not mix
      return ARABIC_INDIC.test(cps[i] ?? '')
        ? !cps.some((c) => EXTENDED_ARABIC_INDIC.test(c))
        : !cps.some((c) => ARABIC_INDIC.test(c))
  }
}

/** The first code point of `s` that `cls` does not allow, or undefined. */
function firstDisallowed(s: string, cls: StringClass): string | undefined {
  const cps = Array.from(s)
  for (const [i, ch] of cps.entries()) {
    const p = derivedProperty(ch)
    if (p === 'PVALID' || (p === 'FREE_PVAL' && cls === 'freeform')) continue
    if (p === 'CONTEXTO' && contextOk(cps, i)) continue
    return ch
  }
  return undefined
}

/** RFC 5893 §2, applied when the string has a right-to-left code point (R, AL or AN). */
function violatesBidiRule(s: string): boolean {
  if (!bidi.bidiDomain.test(s)) return false
  const first = String.fromCodePoint(s.codePointAt(0) ?? 0)
  if (bidi.bidiS1RTL.test(first))
    return !bidi.bidiS2.test(s) || !bidi.bidiS3.test(s) || (bidi.bidiS4EN.test(s) && bidi.bidiS4AN.test(s))
  if (bidi.bidiS1LTR.test(first)) return !bidi.bidiS5.test(s) || !bidi.bidiS6.test(s)
  return true
}

const codePoint = (ch: string): string =>
  `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`

/** Why a string fails a profile (for the caller's typed error), or the enforced string. */
export type PrecisResult =
  | { readonly value: string; readonly error?: never }
  | { readonly value?: never; readonly error: string }

// RFC 8265 §3.3.1: fullwidth and halfwidth forms map to their <wide>/<narrow> decompositions
const WIDE_NARROW = /[\u3000\uFF01-\uFFEE]/gu
const widthMap = (s: string): string => s.replace(WIDE_NARROW, (c) => c.normalize('NFKD'))
const usernameRules = (s: string): string => widthMap(s).toLowerCase().normalize('NFC')
// RFC 8265 §4.2.1: non-ASCII spaces map to U+0020
const NON_ASCII_SPACE = /(?! )\p{Zs}/gu
const opaqueRules = (s: string): string => s.replace(NON_ASCII_SPACE, ' ').normalize('NFC')

/**
 * Enforces a profile: the input (width-mapped for UsernameCaseMapped) must be in the class, the
 * rules are applied, and the result must be non-empty, in the class and stable (applying the
 * rules again changes nothing; RFC 8264 §7).
 */
function enforce(
  input: string,
  cls: StringClass,
  prepare: (s: string) => string,
  rules: (s: string) => string,
): PrecisResult {
  const bad = firstDisallowed(prepare(input), cls)
  if (bad !== undefined) return { error: `${codePoint(bad)} is not allowed` }
  const value = rules(input)
  if (value.length === 0) return { error: 'empty after PRECIS enforcement' }
  const badOut = firstDisallowed(value, cls)
  if (badOut !== undefined) return { error: `${codePoint(badOut)} is not allowed` }
  if (rules(value) !== value) return { error: 'not stable under PRECIS enforcement' }
  return { value }
}

/** RFC 8265 §3.3 UsernameCaseMapped: width mapping, lower case, NFC, IdentifierClass, Bidi Rule. */
export function usernameCaseMapped(input: string): PrecisResult {
  const r = enforce(input, 'identifier', widthMap, usernameRules)
  if (r.value !== undefined && violatesBidiRule(r.value))
    return { error: 'violates the Bidi Rule (RFC 5893)' }
  return r
}

/** RFC 8265 §4.2 OpaqueString: non-ASCII spaces to U+0020, NFC, FreeformClass; case is kept. */
export function opaqueString(input: string): PrecisResult {
  return enforce(input, 'freeform', (s) => s, opaqueRules)
}
