/**
 * The engine's own input checks (internal). Whatever a caller hands the engine — a received
 * `TrustMessage` model, the owner and key ids of a local decision, a discovered device list — gets
 * the XEP-0434 codec's validation (`validateTrustMessage` of `@vouch/tm-core`: TM-5 … TM-11 and
 * the caps on counts and sizes), with the errors the codec throws.
 *
 * On top of that, JIDs and key ids must already be in the codec's canonical form. The codec
 * normalises what it reads from XML (`Alice@Example.org` → `alice@example.org`), so a model that
 * came through it is canonical; a hand-built model or argument that is not is rejected
 * (`InvalidJidError` / `InvalidKeyIdError`, rules TM-8 / TM-10), never normalised here: a key owner
 * and a key id have exactly one spelling, so the engine's comparisons (own account X8, qualified
 * sender X9) and the store's keys cannot be split by spelling.
 */
import type { BareJid, KeyId, KeyOwner, TrustMessage, TrustMessageOptions } from '@vouch/tm-core'
import { InvalidJidError, InvalidKeyIdError, parseBareJid, validateTrustMessage } from '@vouch/tm-core'

/** The codec options the engine validates with (its limits, the backends' key id lengths). */
export type CodecRules = Omit<TrustMessageOptions, 'legacy'>

const clip = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s)

/**
 * A trust message handed to the engine: valid by the codec's rules and already canonical. Returns
 * the codec's copy (fresh plain objects), so later reads cannot see a changed or hostile model.
 *
 * @throws InvalidTrustMessageError, InvalidJidError, InvalidKeyIdError, LimitExceededError (as
 *   the codec), and InvalidJidError TM-8 / InvalidKeyIdError TM-10 for a non-canonical JID or id
 */
export function canonicalMessage(message: TrustMessage, rules: CodecRules): TrustMessage {
  const valid = validateTrustMessage(message, rules)
  // validateTrustMessage maps owners and ids one to one, in order (it rejects, never drops)
  valid.keyOwners.forEach((v, i) => {
    const given = message.keyOwners[i] as KeyOwner | undefined
    if (given?.jid !== v.jid)
      throw new InvalidJidError(
        'TM-8',
        `key owner "${clip(String(given?.jid))}" is not in canonical form (it would be "${clip(v.jid)}")`,
      )
    sameIds(given.trust ?? [], v.trust)
    sameIds(given.distrust ?? [], v.distrust)
  })
  return valid
}

function sameIds(given: readonly KeyId[], valid: readonly KeyId[]): void {
  for (let i = 0; i < valid.length; i++)
    if (given[i] !== valid[i])
      throw new InvalidKeyIdError('TM-10', `key id "${clip(String(given[i]))}" is not canonical Base64`)
}

/**
 * A JID that must already be a canonical bare JID (TM-8 for key owners).
 * @throws InvalidJidError
 */
export function canonicalBareJid(jid: string, rule = 'TM-8'): BareJid {
  const bare = parseBareJid(jid, rule) // malformed or full: the codec's TM-8 error
  if (bare !== jid)
    throw new InvalidJidError(rule, `"${clip(jid)}" is not in canonical form (it would be "${clip(bare)}")`)
  return bare
}

/**
 * One owner's key ids given to the engine directly (a local decision, a URI, discovered keys):
 * lists are sets (duplicates merged), then checked as the codec checks one `<key-owner/>`
 * (TM-8, TM-10, TM-11, ids per owner, bytes per id). An owner with no ids is checked alone.
 *
 * @throws as {@link canonicalMessage}
 */
export function canonicalOwner(
  encryption: string,
  usage: string,
  jid: BareJid,
  trust: readonly KeyId[],
  distrust: readonly KeyId[],
  rules: CodecRules,
): KeyOwner {
  const t = [...new Set(trust)]
  const d = [...new Set(distrust)]
  if (t.length + d.length === 0) return { jid: canonicalBareJid(jid), trust: t, distrust: d }
  const m = canonicalMessage({ usage, encryption, keyOwners: [{ jid, trust: t, distrust: d }] }, rules)
  return m.keyOwners[0] as KeyOwner
}
