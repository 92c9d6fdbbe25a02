/**
 * @packageDocumentation
 * `@vouch/backend-omemo`: the OMEMO 2 encryption backend (XEP-0384 v0.9.1, `urn:xmpp:omemo:2`)
 * on our own X3DH and Double Ratchet over `node:crypto` (with `@noble/curves` for the
 * Edwards→Montgomery conversion): the payload scheme, the protobufs, the `<encrypted/>` wire
 * format, bundles and device lists, and trust-based device selection from the store's levels.
 */
export type {
  OmemoBackend,
  OmemoDecryptResult,
  OmemoDevice,
  OmemoEncryptOptions,
  OmemoInit,
  OmemoPolicy,
} from './backend.ts'
export { DEFAULT_OMEMO_POLICY, OMEMO_CAPABILITIES, OMEMO_STATE_NAMESPACE, omemoBackend } from './backend.ts'
export { decryptPayload, EMPTY_KEY_MATERIAL, encryptPayload } from './payload.ts'
export type { OmemoAuthenticatedMessage, OmemoKeyExchange, OmemoMessage } from './proto.ts'
export {
  decodeOmemoAuthenticatedMessage,
  decodeOmemoKeyExchange,
  decodeOmemoMessage,
  encodeOmemoAuthenticatedMessage,
  encodeOmemoKeyExchange,
  encodeOmemoMessage,
  ProtobufError,
} from './proto.ts'
export type { CryptoProvider } from './provider.ts'
export { nodeCryptoProvider } from './provider.ts'
export type { RatchetLimits, RatchetState } from './ratchet.ts'
export { DEFAULT_RATCHET_LIMITS, ratchetDecrypt, ratchetEncrypt } from './ratchet.ts'
export type { EncryptedKey, KeyExchangeInfo, Session } from './session.ts'
export {
  acceptKeyExchange,
  createActiveSession,
  deserializeSession,
  parseKeyExchange,
  serializeSession,
  sessionDecrypt,
  sessionEncrypt,
} from './session.ts'
export type { IdentityKeyPair, PreKeyBundle, X25519KeyPair } from './x3dh.ts'
export {
  identityFromSeed,
  signSignedPreKey,
  verifySignedPreKey,
  x3dhActive,
  x3dhPassive,
  x25519KeyPair,
} from './x3dh.ts'
export type { BundleData, DeviceListEntry, EncryptedElement, KeyElement, OmemoXmlLimits } from './xep0384.ts'
export {
  buildBundle,
  buildDeviceList,
  buildEncrypted,
  DEFAULT_OMEMO_XML_LIMITS,
  MAX_DEVICE_ID,
  NODE_BUNDLES,
  NODE_DEVICES,
  NS_OMEMO2,
  parseBundle,
  parseDeviceList,
  parseEncrypted,
  publishBundleRequest,
  publishDeviceListRequest,
  publishOptions,
} from './xep0384.ts'
//# sourceMappingURL=index.d.ts.map
