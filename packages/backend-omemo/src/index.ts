/**
 * @packageDocumentation
 * `@vouch/backend-omemo`: the OMEMO 2 encryption backend (XEP-0384 v0.9.1, `urn:xmpp:omemo:2`)
 * on our own X3DH and Double Ratchet over a crypto provider (`node:crypto` in Node, WebCrypto's
 * curves and `@noble/*` in the browser, chosen by the `exports` conditions of `@vouch/backend-omemo/provider`): the payload scheme, the protobufs, the `<encrypted/>` wire
 * format, bundles and device lists, and trust-based device selection from the store's levels.
 *
 * The root export is the public API. The key directory (PEP publish and fetch of devices and
 * bundles) is the subpath `@vouch/backend-omemo/pep`; the crypto provider of the runtime is
 * `@vouch/backend-omemo/provider` (`defaultCryptoProvider`, and `nodeCryptoProvider` under the
 * `node` condition). The primitives (X3DH, the Double Ratchet,
 * sessions, the payload scheme, the protobuf codec) are internal: tests and benchmarks import them
 * from their source files.
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
export { defaultCryptoProvider } from '@vouch/backend-omemo/provider'
export type { CryptoProvider, CryptoProviderInit } from './provider.ts'
export type { BrowserCryptoProviderInit } from './provider-browser.ts'
export { browserCryptoProvider } from './provider-browser.ts'
export type { RatchetLimits } from './ratchet.ts'
/** whether XEdDSA verifiers (libsignal, libomemo.js) can use an Ed25519 identity key: its sign bit is clear */
export { MAX_IDENTITY_DRAWS, xeddsaCompatible } from './x3dh.ts'
export { DEFAULT_RATCHET_LIMITS } from './ratchet.ts'
export type {
  BundleData,
  DeviceListEntry,
  EncryptedElement,
  KeyElement,
  OmemoXmlLimits,
} from './xep0384.ts'
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
