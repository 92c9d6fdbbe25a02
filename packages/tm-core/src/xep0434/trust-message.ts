/**
 * XEP-0434: Trust Messages — implements v0.6.0
 * https://xmpp.org/extensions/xep-0434.html  (§4 Trust Message Structure)
 *
 * `<trust-message/>` ⇄ {@link TrustMessage}. Reading is strict (every MUST of §4 is checked,
 * caps before work); writing always emits `urn:xmpp:tm:1`, all `<trust/>` then all
 * `<distrust/>` per owner (D-1).
 *
 * Decisions (documented in the README):
 * - `<trust/>`/`<distrust/>` may come in any order (D-1); the model keeps each list's order.
 * - Children in a foreign namespace are ignored (XMPP extensibility); unknown children in the
 *   trust-message namespace are rejected (v0.6.0 defines none). Text between elements is ignored.
 * - A second `<key-owner/>` for the same bare JID is rejected (TM-8), and so is a key id listed
 *   twice with the same polarity for one owner (TM-10). The same key id under `<trust/>` and
 *   `<distrust/>` is kept: the engine resolves it (distrust wins, D-8).
 */
import { Element, escapeXML } from '@xmpp/xml'
import { InvalidTrustMessageError } from '../contracts/errors.ts'
import type { BareJid, KeyId } from '../contracts/ids.ts'
import type { KeyOwner, TrustMessage, TrustMessageLimits } from '../contracts/trust-message.ts'
import type { KeyIdRules, ParsedTrustMessage, TrustMessageOptions, UniqueList } from './model.ts'
import {
  checkKeyIdCount,
  checkOwnerCount,
  keyIdRules,
  makeMessage,
  makeOwner,
  readKeyId,
  readNamespaceName,
  readOwnerJid,
  resolveLimits,
  uniqueList,
} from './model.ts'
import { NS_TM_1, TRUST_MESSAGE_NAMESPACES, trustMessageNamespace } from './namespaces.ts'
import { childNs, clip, localName, nsOf } from './util.ts'

const CURRENT = TRUST_MESSAGE_NAMESPACES.get(NS_TM_1)!

/**
 * Reads a `<trust-message/>` element.
 *
 * @throws InvalidTrustMessageError  TM-1 (not a `<trust-message/>`), TM-4, TM-5, TM-6, TM-7,
 *   TM-8 (missing or duplicate jid), TM-9, TM-10 (child elements in an id)
 * @throws InvalidJidError  TM-8 (malformed or full JID)
 * @throws InvalidKeyIdError  TM-10 (empty, not Base64 / hex, not canonical, duplicate), TM-11
 * @throws LimitExceededError  LIMIT (owners, ids per owner, id size, JID or attribute length)
 */
export function parseTrustMessage(el: Element, options: TrustMessageOptions = {}): ParsedTrustMessage {
  if (localName(el) !== 'trust-message')
    throw new InvalidTrustMessageError('TM-1', `expected <trust-message/>, got <${clip(el.name)}/>`)
  const ns = nsOf(el)
  const entry = trustMessageNamespace(ns, options.legacy === true)
  // TM-5; a draft without the attribute gets the usage its namespace entry implies
  const usageImplied = el.attrs.usage === undefined && entry.impliedUsage !== undefined
  const usage = usageImplied
    ? (entry.impliedUsage as string)
    : readNamespaceName(el.attrs.usage, 'TM-5', 'usage')
  const encryption = readNamespaceName(el.attrs.encryption, 'TM-6', 'encryption')
  const limits = resolveLimits(options.limits)

  // count first: the caps hold before any JID or key id is decoded
  const ownerEls: Element[] = []
  for (const child of el.children) {
    if (typeof child === 'string' || childNs(child, ns) !== ns) continue
    if (localName(child) !== 'key-owner')
      throw new InvalidTrustMessageError('TM-7', `unexpected <${clip(child.name)}/> in <trust-message/>`)
    ownerEls.push(child)
  }
  checkOwnerCount(ownerEls.length, limits)

  const rules = keyIdRules(entry, encryption, limits, options)
  const seenOwners = uniqueList<BareJid>()
  const owners: KeyOwner[] = []
  for (const ownerEl of ownerEls) owners.push(readOwner(ownerEl, ns, rules, limits, seenOwners))
  const message = makeMessage(usage, encryption, owners)
  return usageImplied
    ? { namespace: entry.namespace, legacy: entry.legacy, message, usageImplied: true as const }
    : { namespace: entry.namespace, legacy: entry.legacy, message }
}

function readOwner(
  el: Element,
  ns: string | undefined,
  rules: KeyIdRules,
  limits: TrustMessageLimits,
  seenOwners: UniqueList<BareJid>,
): KeyOwner {
  const idEls: Element[] = []
  for (const child of el.children) {
    if (typeof child === 'string' || childNs(child, ns) !== ns) continue
    const name = localName(child)
    if (name !== 'trust' && name !== 'distrust')
      throw new InvalidTrustMessageError('TM-9', `unexpected <${clip(child.name)}/> in <key-owner/>`)
    idEls.push(child)
  }
  checkKeyIdCount(idEls.length, limits)
  const jid = readOwnerJid(el.attrs.jid, limits, seenOwners)
  const trust = uniqueList<KeyId>()
  const distrust = uniqueList<KeyId>()
  for (const idEl of idEls) {
    let text = ''
    for (const c of idEl.children) {
      if (typeof c !== 'string')
        throw new InvalidTrustMessageError(
          'TM-10',
          `<${idEl.name}/> must hold exactly one key identifier and no elements`,
        )
      text += c
    }
    if (localName(idEl) === 'trust') readKeyId(text, rules, trust, 'trust')
    else readKeyId(text, rules, distrust, 'distrust')
  }
  return makeOwner(jid, trust.items, distrust.items)
}

/**
 * Checks a model against the same rules as {@link parseTrustMessage} (TM-5 … TM-11, caps) and
 * returns it normalised (bare JIDs in canonical form). Extra properties are ignored.
 *
 * @throws InvalidTrustMessageError, InvalidJidError, InvalidKeyIdError, LimitExceededError
 */
export function validateTrustMessage(
  message: TrustMessage,
  options: Omit<TrustMessageOptions, 'legacy'> = {},
): TrustMessage {
  return checkModel(message, options, undefined)
}

/**
 * Shared by {@link validateTrustMessage} and the JSON reader: `value` is untrusted. With
 * `allowed` set, properties not in it are rejected (the JSON form is closed).
 */
export function checkModel(
  value: unknown,
  options: Omit<TrustMessageOptions, 'legacy'>,
  allowed: { readonly message: ReadonlySet<string>; readonly owner: ReadonlySet<string> } | undefined,
): TrustMessage {
  const m = asRecord(value, 'a trust message')
  if (allowed) rejectUnknown(m, allowed.message, 'trust message')
  const usage = readNamespaceName(m.usage, 'TM-5', 'usage')
  const encryption = readNamespaceName(m.encryption, 'TM-6', 'encryption')
  const limits = resolveLimits(options.limits)
  const list = m.keyOwners
  if (!Array.isArray(list)) throw new InvalidTrustMessageError('TM-7', 'keyOwners must be a list')
  checkOwnerCount(list.length, limits)
  const rules = keyIdRules(CURRENT, encryption, limits, options)
  const seenOwners = uniqueList<BareJid>()
  const owners: KeyOwner[] = []
  for (const item of list as unknown[]) {
    const o = asRecord(item, 'a key owner')
    if (allowed) rejectUnknown(o, allowed.owner, 'key owner')
    const t = o.trust === undefined ? [] : o.trust
    const d = o.distrust === undefined ? [] : o.distrust
    if (!Array.isArray(t) || !Array.isArray(d))
      throw new InvalidTrustMessageError('TM-9', 'trust and distrust must be lists of key ids')
    checkKeyIdCount(t.length + d.length, limits)
    const jid = readOwnerJid(o.jid, limits, seenOwners)
    owners.push(makeOwner(jid, readIds(t, rules, 'trust'), readIds(d, rules, 'distrust')))
  }
  return makeMessage(usage, encryption, owners)
}

function readIds(list: readonly unknown[], rules: KeyIdRules, polarity: string): KeyId[] {
  const out = uniqueList<KeyId>()
  for (const id of list) {
    if (typeof id !== 'string')
      throw new InvalidTrustMessageError('TM-10', `each ${polarity} entry must be one Base64 key id`)
    readKeyId(id, rules, out, polarity)
  }
  return out.items
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidTrustMessageError('JSON', `expected ${what} object`)
  return value as Record<string, unknown>
}

function rejectUnknown(o: Record<string, unknown>, allowed: ReadonlySet<string>, what: string): void {
  for (const key of Object.keys(o))
    if (!allowed.has(key))
      throw new InvalidTrustMessageError('JSON', `unknown ${what} property "${clip(key)}"`)
}

/**
 * Writes a trust message as `<trust-message xmlns='urn:xmpp:tm:1'/>`: per owner all `<trust/>`,
 * then all `<distrust/>` (D-1). The model is validated first (see {@link validateTrustMessage}),
 * so an invalid message is never emitted.
 *
 * @throws InvalidTrustMessageError, InvalidJidError, InvalidKeyIdError, LimitExceededError
 */
export function serializeTrustMessage(
  message: TrustMessage,
  options: Omit<TrustMessageOptions, 'legacy'> = {},
): Element {
  const m = validateTrustMessage(message, options)
  const root = new Element('trust-message', { xmlns: NS_TM_1, usage: m.usage, encryption: m.encryption })
  for (const owner of m.keyOwners) {
    const o = root.c('key-owner', { jid: owner.jid })
    for (const id of owner.trust) o.c('trust').t(id)
    for (const id of owner.distrust) o.c('distrust').t(id)
  }
  return root
}

/**
 * The same output as `serializeTrustMessage(message, options).toString()`, written straight to a
 * string (no element tree): for the CLI and hot paths. Key ids are canonical Base64, whose
 * alphabet needs no escaping; attribute values are escaped with `@xmpp/xml`'s `escapeXML`.
 *
 * @throws InvalidTrustMessageError, InvalidJidError, InvalidKeyIdError, LimitExceededError
 */
export function serializeTrustMessageXml(
  message: TrustMessage,
  options: Omit<TrustMessageOptions, 'legacy'> = {},
): string {
  const m = validateTrustMessage(message, options)
  let out = `<trust-message xmlns="${NS_TM_1}" usage="${escapeXML(m.usage)}" encryption="${escapeXML(m.encryption)}">`
  for (const owner of m.keyOwners) {
    out += `<key-owner jid="${escapeXML(owner.jid)}">`
    for (const id of owner.trust) out += `<trust>${id}</trust>`
    for (const id of owner.distrust) out += `<distrust>${id}</distrust>`
    out += '</key-owner>'
  }
  return `${out}</trust-message>`
}
