/**
 * XEP-0434: Trust Messages — implements v0.6.0
 * https://xmpp.org/extensions/xep-0434.html
 *
 * The JSON form of a trust message (the CLI's `vouch tm parse|build`, the protocol-case
 * fixtures). Key ids are always canonical Base64, also when read from a hex legacy draft;
 * `namespace` is the namespace the message was read from.
 */
import type { TrustMessage } from '../contracts/trust-message.ts'
import { InvalidTrustMessageError } from '../contracts/errors.ts'
import type { ParsedTrustMessage, TrustMessageOptions } from './model.ts'
import { NS_TM_1, trustMessageNamespace } from './namespaces.ts'
import { checkModel } from './trust-message.ts'

/** `{"namespace", "usage", "encryption", "keyOwners": [{"jid", "trust", "distrust"}]}` */
export interface TrustMessageJson {
  readonly namespace: string
  readonly usage: string
  readonly encryption: string
  readonly keyOwners: readonly {
    readonly jid: string
    readonly trust: readonly string[]
    readonly distrust: readonly string[]
  }[]
}

const ALLOWED = Object.freeze({
  message: new Set(['namespace', 'usage', 'encryption', 'keyOwners']),
  owner: new Set(['jid', 'trust', 'distrust']),
})

/** The JSON form of a parsed trust message (plain data, ready for `JSON.stringify`). */
export function trustMessageToJson(parsed: ParsedTrustMessage): TrustMessageJson {
  const m: TrustMessage = parsed.message
  return {
    namespace: parsed.namespace,
    usage: m.usage,
    encryption: m.encryption,
    keyOwners: m.keyOwners.map((o) => ({ jid: o.jid, trust: [...o.trust], distrust: [...o.distrust] })),
  }
}

/**
 * Reads the JSON form (already `JSON.parse`d; `value` is untrusted) with the same rules and
 * typed errors as the XML reader. `namespace` may be left out (`urn:xmpp:tm:1`); a legacy
 * namespace needs `legacy: true`. `trust`/`distrust` may be left out (empty). Unknown properties
 * are rejected (a typo must not silently drop data). Key ids are Base64 whatever the namespace.
 *
 * @throws InvalidTrustMessageError  JSON (not an object, unknown property), TM-4 … TM-10 as in XML
 * @throws InvalidJidError  TM-8
 * @throws InvalidKeyIdError  TM-10, TM-11
 * @throws LimitExceededError  LIMIT
 */
export function trustMessageFromJson(value: unknown, options: TrustMessageOptions = {}): ParsedTrustMessage {
  const ns: unknown =
    typeof value === 'object' && value !== null ? (value as { namespace?: unknown }).namespace : undefined
  if (ns !== undefined && typeof ns !== 'string')
    throw new InvalidTrustMessageError('TM-4', 'namespace must be a string')
  const entry = trustMessageNamespace(ns ?? NS_TM_1, options.legacy === true)
  const message = checkModel(value, options, ALLOWED)
  return { namespace: entry.namespace, legacy: entry.legacy, message }
}
