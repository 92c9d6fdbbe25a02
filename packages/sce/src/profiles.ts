/**
 * Affix profiles: which XEP-0420 affixes a message of a given kind must carry, and the rule id a
 * missing one is rejected under. A profile is data; {@link requireAffixes} is the one check.
 *
 * | profile            | `<rpad/>`         | `<time/>` | `<from/>` | `<to/>`     | source |
 * |--------------------|-------------------|-----------|-----------|-------------|--------|
 * | `trust-message`    | TM-17             | TM-18     | TM-19     | TM-20       | XEP-0434 v0.6.0 §5.2.1, XEP-0450 (D-9: no `<time/>`, no order) |
 * | `omemo2-chat`      | OMEMO-SCE-RPAD    | MAY       | SHOULD    | MAY         | XEP-0384 v0.9.1 §"Stanza Content Encryption" |
 * | `omemo2-groupchat` | OMEMO-SCE-RPAD    | MAY       | SHOULD    | OMEMO-SCE-TO | XEP-0384 v0.9.1 (group chats) |
 *
 * An affix that is present is checked whatever the profile (`openEnvelope`): `<time/>` against the
 * window (SCE-1), `<to/>` (SCE-2) and `<from/>` (SCE-3) against the stanza.
 */
import { InvalidEnvelopeError } from '@vouch/tm-core'

/** Which of the four affixes an envelope carried. */
export interface SceAffixes {
  readonly rpad: boolean
  readonly time: boolean
  readonly from: boolean
  readonly to: boolean
}

/** A profile: for each affix, the rule id it is required under, or `null` when optional. */
export interface AffixProfile {
  readonly name: string
  /** where the requirements come from */
  readonly source: string
  readonly rpad: string | null
  readonly time: string | null
  readonly from: string | null
  readonly to: string | null
}

/** Trust messages (XEP-0434 / XEP-0450): every affix is a MUST (TM-17 … TM-20). */
export const TRUST_MESSAGE_PROFILE: AffixProfile = Object.freeze({
  name: 'trust-message',
  source: 'XEP-0434 v0.6.0 §5.2.1, XEP-0450 v0.4 (D-9)',
  rpad: 'TM-17',
  time: 'TM-18',
  from: 'TM-19',
  to: 'TM-20',
})

/**
 * One-to-one chat over OMEMO 2 (XEP-0384 v0.9.1's SCE profile): `<rpad/>` MUST, `<time/>` MAY,
 * `<from/>` SHOULD, `<to/>` MUST only in group chats. Converse.js 14 sends exactly `<rpad/>` and
 * `<from/>`.
 */
export const OMEMO2_CHAT_PROFILE: AffixProfile = Object.freeze({
  name: 'omemo2-chat',
  source: 'XEP-0384 v0.9.1 §"Stanza Content Encryption"',
  rpad: 'OMEMO-SCE-RPAD',
  time: null,
  from: null,
  to: null,
})

/** Group chat over OMEMO 2: as {@link OMEMO2_CHAT_PROFILE}, and `<to/>` (the room) is a MUST. */
export const OMEMO2_GROUPCHAT_PROFILE: AffixProfile = Object.freeze({
  ...OMEMO2_CHAT_PROFILE,
  name: 'omemo2-groupchat',
  to: 'OMEMO-SCE-TO',
})

const AFFIXES = ['rpad', 'time', 'from', 'to'] as const

/**
 * Throws for the first affix `profile` requires that `affixes` lacks (in the order rpad, time,
 * from, to), under the profile's rule id for it.
 * @throws InvalidEnvelopeError
 */
export function requireAffixes(affixes: SceAffixes, profile: AffixProfile): void {
  for (const a of AFFIXES) {
    const rule = profile[a]
    if (rule !== null && !affixes[a])
      throw new InvalidEnvelopeError(rule, `no <${a}/> affix (required by the ${profile.name} profile)`)
  }
}
