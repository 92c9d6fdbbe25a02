/**
 * XEP-0434: Trust Messages — implements v0.6.0
 * https://xmpp.org/extensions/xep-0434.html
 *
 * The rule checks shared by every way into the model (XML, JSON, a model handed to the
 * serializer), so each rule is written once and fails with the same typed error everywhere.
 */
import { InvalidKeyIdError, InvalidTrustMessageError, LimitExceededError } from '../contracts/errors.ts'
import type { BareJid, KeyId } from '../contracts/ids.ts'
import type { KeyOwner, TrustMessage, TrustMessageLimits } from '../contracts/trust-message.ts'
import { DEFAULT_TRUST_MESSAGE_LIMITS } from '../contracts/trust-message.ts'
import { isPlainBareJid, parseBareJid } from '../jid.ts'
import type { TrustMessageNamespace } from './namespaces.ts'
import { clip } from './util.ts'

/** Options of every trust-message reader (XML, JSON, containers). */
export interface TrustMessageOptions {
  /**
   * Also read the older drafts' namespaces (`urn:xmpp:tm:0`, `urn:xmpp:trust-messages:0` with
   * hex key ids; SCE `urn:xmpp:sce:0`). Off by default (TM-4).
   */
  readonly legacy?: boolean
  /** Resource caps; missing members fall back to {@link DEFAULT_TRUST_MESSAGE_LIMITS}. */
  readonly limits?: Partial<TrustMessageLimits>
  /**
   * TM-11: the byte length key ids of the given `encryption` must have (32 for OMEMO 2, 20 for
   * OX), or `undefined` to accept any length (within `maxKeyIdBytes`). Usually wired to the
   * backends' `capabilities.keyIdLength`.
   */
  readonly keyIdLength?: (encryption: string) => number | undefined
}

/** A trust message as read, with the namespace it was read from. */
export interface ParsedTrustMessage {
  /** the namespace of the `<trust-message/>` as read (`urn:xmpp:tm:1` unless legacy) */
  readonly namespace: string
  /** true when read from a legacy namespace */
  readonly legacy: boolean
  readonly message: TrustMessage
  /**
   * `true` when the element had no `usage` and the namespace table supplied the one its draft
   * implies (`urn:xmpp:trust-messages:0` → `urn:xmpp:atm:0`); absent otherwise.
   */
  readonly usageImplied?: true
}

/**
 * Longest `usage`/`encryption` value accepted. Namespaces in use are under 40 characters; the
 * cap only bounds what a hostile message can make us store.
 */
export const MAX_NAMESPACE_CHARS = 1024

// XML whitespace and controls: a namespace name never contains them
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls are exactly what we reject
const NOT_A_NAME = /[\s\u0000-\u001f\u007f]/

/**
 * {@link parseBareJid} with rule TM-8, skipping the parse for plain ASCII JIDs that are
 * canonical as they are. The property test `test/xep0434-fast-paths.test.ts` checks the two agree.
 */
export function bareJidTm8(value: string): BareJid {
  return isPlainBareJid(value) ? (value as BareJid) : parseBareJid(value, 'TM-8')
}

/** The effective caps: defaults overridden by the given members. */
export function resolveLimits(limits: Partial<TrustMessageLimits> | undefined): TrustMessageLimits {
  return limits === undefined ? DEFAULT_TRUST_MESSAGE_LIMITS : { ...DEFAULT_TRUST_MESSAGE_LIMITS, ...limits }
}

/**
 * TM-5 (`usage`) / TM-6 (`encryption`), D-7 (EME namespace): required, non-empty, a namespace name.
 * @throws InvalidTrustMessageError, LimitExceededError
 */
export function readNamespaceName(value: unknown, rule: string, attr: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidTrustMessageError(rule, `the ${attr} attribute is required and must not be empty`)
  if (value.length > MAX_NAMESPACE_CHARS)
    throw new LimitExceededError('LIMIT', `${attr} characters`, MAX_NAMESPACE_CHARS, value.length)
  if (NOT_A_NAME.test(value))
    throw new InvalidTrustMessageError(rule, `${attr} "${clip(value)}" is not a namespace name`)
  return value
}

/**
 * TM-7 and the key-owner cap.
 * @throws InvalidTrustMessageError, LimitExceededError
 */
export function checkOwnerCount(count: number, limits: TrustMessageLimits): void {
  if (count > limits.maxKeyOwners)
    throw new LimitExceededError('LIMIT', 'key owners per trust message', limits.maxKeyOwners, count)
  if (count === 0) throw new InvalidTrustMessageError('TM-7', 'a trust message needs at least one key-owner')
}

/**
 * TM-9 and the per-owner key-id cap.
 * @throws InvalidTrustMessageError, LimitExceededError
 */
export function checkKeyIdCount(count: number, limits: TrustMessageLimits): void {
  if (count > limits.maxKeyIdsPerOwner)
    throw new LimitExceededError('LIMIT', 'key ids per key owner', limits.maxKeyIdsPerOwner, count)
  if (count === 0)
    throw new InvalidTrustMessageError('TM-9', 'a key-owner needs at least one trust or distrust element')
}

/**
 * A list that refuses duplicates: a linear scan while short (no allocation: trust messages list
 * a handful of ids), a Set once it grows (so a capped-size hostile message stays linear).
 */
export interface UniqueList<T extends string> {
  readonly items: T[]
  set: Set<string> | undefined
}
export const uniqueList = <T extends string>(): UniqueList<T> => ({ items: [], set: undefined })
const SCAN_MAX = 16

/** Adds `value`; false (and nothing added) when it is already there. */
export function addUnique<T extends string>(list: UniqueList<T>, value: T): boolean {
  const { items } = list
  if (items.length < SCAN_MAX) {
    if (items.includes(value)) return false
  } else {
    list.set ??= new Set(items)
    if (list.set.has(value)) return false
    list.set.add(value)
  }
  items.push(value)
  return true
}

/**
 * TM-8: the key owner's JID is present, within the length cap, bare; normalised. A second
 * key-owner for the same (normalised) JID is rejected: merging would hide which element said what.
 * @throws InvalidTrustMessageError, InvalidJidError (rule TM-8), LimitExceededError
 */
export function readOwnerJid(value: unknown, limits: TrustMessageLimits, seen: UniqueList<BareJid>): BareJid {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidTrustMessageError('TM-8', 'a key-owner needs a jid')
  if (value.length > limits.maxJidLength)
    throw new LimitExceededError('LIMIT', 'key-owner JID characters', limits.maxJidLength, value.length)
  const jid = bareJidTm8(value)
  if (!addUnique(seen, jid))
    throw new InvalidTrustMessageError('TM-8', `more than one key-owner for ${clip(jid)}`)
  return jid
}

/** Per-message key-id reading context: the encoding and the size rules. */
export interface KeyIdRules {
  readonly encoding: TrustMessageNamespace
  readonly maxBytes: number
  readonly maxChars: number
  /** TM-11 expected length in bytes, if the caller knows it for this encryption */
  readonly expectedBytes: number | undefined
}

export function keyIdRules(
  encoding: TrustMessageNamespace,
  encryption: string,
  limits: TrustMessageLimits,
  options: TrustMessageOptions,
): KeyIdRules {
  return {
    encoding,
    maxBytes: limits.maxKeyIdBytes,
    maxChars: encoding.encodedLength(limits.maxKeyIdBytes),
    expectedBytes: options.keyIdLength?.(encryption),
  }
}

/** Decoded length of a canonical, padded Base64 string. */
function base64Bytes(id: string): number {
  const pad = id.endsWith('==') ? 2 : id.endsWith('=') ? 1 : 0
  return (id.length / 4) * 3 - pad
}

/**
 * TM-10 / TM-11: one key identifier, decoded through the namespace's encoding into a canonical
 * Base64 key id, appended to `list`. The size cap is checked on the text before decoding. A key id listed twice
 * with the same polarity for one owner is rejected (the same id under trust and distrust is kept:
 * the engine resolves it, distrust wins, D-8).
 * @throws InvalidKeyIdError (TM-10, TM-11), LimitExceededError
 */
export function readKeyId(raw: string, rules: KeyIdRules, list: UniqueList<KeyId>, polarity: string): void {
  const text = raw.trim()
  if (text.length > rules.maxChars)
    throw new LimitExceededError('LIMIT', 'key id characters', rules.maxChars, text.length)
  const id = rules.encoding.decodeKeyId(text)
  const bytes = base64Bytes(id)
  if (bytes > rules.maxBytes) throw new LimitExceededError('LIMIT', 'key id bytes', rules.maxBytes, bytes)
  if (rules.expectedBytes !== undefined && bytes !== rules.expectedBytes)
    throw new InvalidKeyIdError(
      'TM-11',
      `key id ${clip(id)} has ${bytes} bytes; this encryption's key ids have ${rules.expectedBytes}`,
    )
  if (!addUnique(list, id))
    throw new InvalidKeyIdError('TM-10', `key id ${clip(id)} is listed twice as ${polarity}`)
}

/** Builds a key owner (readonly by type; not frozen, which costs a quarter of the parse time). */
export function makeOwner(jid: BareJid, trust: KeyId[], distrust: KeyId[]): KeyOwner {
  return { jid, trust, distrust }
}

/** Builds a trust message (fresh objects on every call, never shared). */
export function makeMessage(usage: string, encryption: string, keyOwners: KeyOwner[]): TrustMessage {
  return { usage, encryption, keyOwners }
}
