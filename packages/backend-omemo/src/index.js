export { DEFAULT_OMEMO_POLICY, OMEMO_CAPABILITIES, OMEMO_STATE_NAMESPACE, omemoBackend } from './backend.js'
export { decryptPayload, EMPTY_KEY_MATERIAL, encryptPayload } from './payload.js'
export {
  decodeOmemoAuthenticatedMessage,
  decodeOmemoKeyExchange,
  decodeOmemoMessage,
  encodeOmemoAuthenticatedMessage,
  encodeOmemoKeyExchange,
  encodeOmemoMessage,
  ProtobufError,
} from './proto.js'
export { nodeCryptoProvider } from './provider.js'
export { DEFAULT_RATCHET_LIMITS, ratchetDecrypt, ratchetEncrypt } from './ratchet.js'
export {
  acceptKeyExchange,
  createActiveSession,
  deserializeSession,
  parseKeyExchange,
  serializeSession,
  sessionDecrypt,
  sessionEncrypt,
} from './session.js'
export {
  identityFromSeed,
  signSignedPreKey,
  verifySignedPreKey,
  x3dhActive,
  x3dhPassive,
  x25519KeyPair,
} from './x3dh.js'
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
} from './xep0384.js'
//# sourceMappingURL=index.js.map
