/**
 * @packageDocumentation
 * `@vouch/tm-core`: the contracts every Vouch package builds on (re-exported from
 * `@vouch/tm-core/contracts`), JID and key-id helpers, and the XEP-0434 trust-message codec.
 */
export * from './contracts/index.ts'
export type { ParsedJid } from './jid.ts'
export { parseBareJid, parseFullJid, parseJid, sameBareJid, toBareJid } from './jid.ts'
export {
  keyIdByteLength,
  keyIdFromBytes,
  keyIdToBytes,
  keyIdToHex,
  parseKeyIdBase64,
  parseKeyIdHex,
} from './keyid.ts'
export type { XmlLimits } from './xml.ts'
export { DEFAULT_XML_LIMITS, Element, parseXml } from './xml.ts'
export type { ParsedTrustMessage, TrustMessageOptions } from './xep0434/model.ts'
export { MAX_NAMESPACE_CHARS } from './xep0434/model.ts'
export type { SceNamespace, TrustMessageNamespace } from './xep0434/namespaces.ts'
export {
  MESSAGE_NAMESPACES,
  NS_ATM_0,
  NS_ATM_1,
  NS_CLIENT,
  NS_EME,
  NS_HINTS,
  NS_SCE_0,
  NS_SCE_1,
  NS_SERVER,
  NS_TM_0,
  NS_TM_1,
  NS_TRUST_MESSAGES_0,
  SCE_NAMESPACES,
  TRUST_MESSAGE_NAMESPACES,
} from './xep0434/namespaces.ts'
export {
  parseTrustMessage,
  serializeTrustMessage,
  serializeTrustMessageXml,
  validateTrustMessage,
} from './xep0434/trust-message.ts'
export type { EncryptedMessageInit } from './xep0434/stanza.ts'
export {
  encryptedMessageStanza,
  findTrustMessage,
  parseTrustMessageXml,
  readTrustMessage,
} from './xep0434/stanza.ts'
export type { TrustMessageJson } from './xep0434/json.ts'
export { trustMessageFromJson, trustMessageToJson } from './xep0434/json.ts'
export { compareCodePoints, compareKeys, comparePostponed } from './store-order.ts'
export type {
  MergedPostponed,
  PostponedCap,
  PostponedGroup,
  PostponedGroupKind,
} from './store-postponed.ts'
export {
  copyPostponed,
  inPostponedGroup,
  mergeInOneCall,
  oldestToEvict,
  postponedCaps,
  postponedGroupOf,
  postponedIdentity,
  postponedResult,
  replacesStored,
  resolveTrustStoreLimits,
  touchedGroups,
  winsInOneCall,
} from './store-postponed.ts'
export { randomBytes } from './random.ts'
export type { OnlyKeys } from './only-keys.ts'
export { onlyKeysOf } from './only-keys.ts'
export type { TimeWindow } from './time-window.ts'
export { outsideTimeWindow } from './time-window.ts'
export type { DateTimeResult } from './xep0082.ts'
export { formatDateTime, parseDateTime } from './xep0082.ts'
