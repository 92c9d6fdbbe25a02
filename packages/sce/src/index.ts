/**
 * @packageDocumentation
 * `@vouch/sce`: XEP-0420 Stanza Content Encryption envelopes (v0.5.0). Builds envelopes with the
 * affixes XEP-0434 requires of trust messages (random `<rpad/>`, `<time/>`, bare `<from/>` and
 * `<to/>`) and opens received ones with strict receiver checks (SCE-1 … SCE-4, TM-17 … TM-20).
 */
export type {
  BuildEnvelopeInit,
  EnvelopeJson,
  EnvelopeRequirements,
  OpenedEnvelope,
  OpenEnvelopeOptions,
  RandomSource,
  SceDialect,
} from './xep0420.ts'
export type { AffixProfile, SceAffixes } from './profiles.ts'
export {
  OMEMO2_CHAT_PROFILE,
  OMEMO2_GROUPCHAT_PROFILE,
  requireAffixes,
  TRUST_MESSAGE_PROFILE,
} from './profiles.ts'
export {
  buildEnvelope,
  DEFAULT_RPAD,
  DEFAULT_SCE_MARGIN_SECONDS,
  envelopeToJson,
  MAX_RPAD_LENGTH,
  NS_SCE,
  NS_SCE_LEGACY,
  openEnvelope,
  SCE_DIALECTS,
  serializeEnvelope,
} from './xep0420.ts'
/** The SCE-1 window (`OpenEnvelopeOptions.window`): tm-core's one freshness rule */
export type { TimeWindow } from '@vouch/tm-core'
/** XEP-0082 DateTime, implemented once in `@vouch/tm-core` and re-exported under the same names */
export type { DateTimeResult } from '@vouch/tm-core'
export { formatDateTime, parseDateTime } from '@vouch/tm-core'
