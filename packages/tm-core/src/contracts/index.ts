/**
 * `@vouch/tm-core/contracts`: the types, typed errors and capability flags every Vouch package
 * builds on. No logic and no test dependencies.
 */
export type { AbortOptions } from './common.ts'
export type { BareJid, EncryptionNamespace, FullJid, KeyId } from './ids.ts'
export { NS_OMEMO_2, NS_OMEMO_LEGACY, NS_OX } from './ids.ts'
export type { KeyRef, Polarity, Provenance, SecurityPolicy, TrustLevel, UriSource } from './trust.ts'
export { ACCEPTED_FOR_ENCRYPTION, DEFAULT_SECURITY_POLICY, TRUST_LEVELS } from './trust.ts'
export type { KeyOwner, TrustMessage, TrustMessageLimits } from './trust-message.ts'
export { DEFAULT_TRUST_MESSAGE_LIMITS } from './trust-message.ts'
export type {
  AccountTrustStore,
  AddPostponedResult,
  ChangeContext,
  KeyQuery,
  KeyRecord,
  LevelChange,
  PostponedDecision,
  PostponedQuery,
  TrustStore,
  TrustStoreLimits,
} from './store.ts'
export { DEFAULT_TRUST_STORE_LIMITS } from './store.ts'
export type {
  BackendCapabilities,
  BackendDeps,
  BackendFactory,
  DecryptedContent,
  DecryptOptions,
  EncryptionBackend,
  EncryptOptions,
  EncryptResult,
  ProtectionMode,
  StanzaAddressing,
} from './backend.ts'
export type { KeyLink } from './key-link.ts'
export type {
  DiscoveredKeys,
  KeyDirectory,
  KeyDirectoryCallOptions,
  PepAccess,
  PepEvent,
  PepItem,
  PublishOptions,
  UnusableKey,
} from './key-directory.ts'
export { isPepAccessDenied } from './key-directory.ts'
export type { StoreErrorName, VouchErrorName } from './errors.ts'
export {
  ConfirmationDeniedError,
  DecryptionError,
  InvalidEnvelopeError,
  InvalidJidError,
  InvalidKeyIdError,
  InvalidTrustMessageError,
  InvalidUriError,
  isNothingToRead,
  isStoreFailure,
  isVouchError,
  isVouchErrorNamed,
  LimitExceededError,
  MalformedXmlError,
  StoreBusyError,
  StoreConnectionError,
  StoreError,
  StoreSchemaTooNewError,
  StoreSerializationError,
  UntrustedKeyError,
  VouchError,
} from './errors.ts'
