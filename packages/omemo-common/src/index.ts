/**
 * `@vouch/omemo-common` (MIT): what the OMEMO 2 backend (`@vouch/backend-omemo`) and the OMEMO 0.3
 * backend (`@vouch/backend-omemo-legacy`, GPL-3.0-only) share, in one place: strict XEP-0384 wire
 * helpers, the cached backend state over a trust store, the empty-message stanza and the bundle
 * mark of the key directories, the decrypt outcome type.
 */
export type { OmemoDecryptOutcome } from './decrypt.ts'
export type { KnownDevice } from './devices.ts'
export type { DirectoryBackend, DirectoryProtocol, ImportBundleOptions } from './directory.ts'
export { pepKeyDirectory } from './directory.ts'
export { activeDeviceIds, knownDevices, knownKeyIds, pickDeviceId } from './devices.ts'
export { bundleMark, emptyMessageStanza } from './stanza.ts'
export type { OwedEmpty, StoredKeyPair, StoredSignedPreKey } from './state.ts'
export {
  BackendState,
  bytesEqual,
  decodePreKeys,
  encodePreKeys,
  signedPreKeyFromJson,
  signedPreKeyToJson,
  stateCodec,
  stateKey,
} from './state.ts'
export type { OmemoWireLimits } from './wire.ts'
export {
  b64,
  childrenNamed,
  DEFAULT_WIRE_LIMITS,
  decodeBase64,
  exactlyOne,
  MAX_DEVICE_ID,
  parseDeviceId,
  parseUint32,
  textOf,
} from './wire.ts'
