/**
 * @packageDocumentation
 * `@vouch/backend-omemo-legacy` (GPL-3.0-only): the OMEMO 0.3 encryption backend (XEP-0384
 * v0.3, `eu.siacs.conversations.axolotl`) on libsignal-protocol-typescript: the payload scheme
 * (AES-128-GCM, `key ‖ tag` through the session), the `<encrypted/>` wire format, bundles and
 * device lists, bounded session records, and trust-based device selection from the store's
 * levels.
 *
 * The root export is the public API and imports nothing from `node:`. The key directory (PEP
 * publish and fetch of device lists and bundles) is the subpath `@vouch/backend-omemo-legacy/pep`;
 * the fast Node curve is `@vouch/backend-omemo-legacy/node`.
 */
export type {
  LegacyDecryptResult,
  LegacyOmemoBackend,
  LegacyOmemoDevice,
  LegacyOmemoInit,
  LegacyOmemoPolicy,
} from './backend.ts'
export {
  DEFAULT_LEGACY_OMEMO_POLICY,
  LEGACY_OMEMO_CAPABILITIES,
  LEGACY_STATE_NAMESPACE,
  legacyOmemoBackend,
} from './backend.ts'
export type { LegacyCurve, LibsignalWebCrypto, RawKeyPair } from './curve.ts'
export { installCurve, installedCurve, installWebCrypto } from './curve.ts'
export { UnsupportedPayloadError } from './errors.ts'
export { countChains, pruneSessionRecord } from './prune.ts'
export type { LegacyBundle, LegacyEncryptedElement, LegacyKeyElement, LegacyXmlLimits } from './wire.ts'
export {
  buildBundle,
  buildDeviceList,
  buildEncrypted,
  bundleNode,
  DEFAULT_LEGACY_XML_LIMITS,
  MAX_DEVICE_ID,
  NODE_BUNDLES_PREFIX,
  NODE_DEVICELIST,
  NS_AXOLOTL,
  parseBundle,
  parseDeviceList,
  parseEncrypted,
} from './wire.ts'
