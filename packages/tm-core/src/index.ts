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
