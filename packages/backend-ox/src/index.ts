/**
 * @packageDocumentation
 * `@vouch/backend-ox`: the OpenPGP for XMPP encryption backend (XEP-0373 v0.7.0, XEP-0374 v0.2.0)
 * on OpenPGP.js: keys (generation, import, minimal export, lookup rules, merged updates), the
 * PEP payloads, secret key backups, `<signcrypt/>`/`<sign/>`/`<crypt/>` messages with every
 * receiver check, and recipient selection from the trust store's levels (D-6, TM-14, TM-15).
 */
export type {
  OxBackend,
  OxBackup,
  OxDecryptOptions,
  OxEncryptOptions,
  OxImportResult,
  OxInit,
  OxKnownKey,
} from './backend.ts'
export { OX_CAPABILITIES, oxBackend } from './backend.ts'
export {
  BACKUP_CODE_ALPHABET,
  decryptBackup,
  encryptBackup,
  generateBackupCode,
  isBackupCode,
} from './backup.ts'
export {
  DEFAULT_FALLBACK_BODY,
  NODE_PUBLIC_KEYS,
  NODE_SECRET_KEY,
  NS_OX,
  NS_OX_IM,
  OX_ENCRYPTION_NAME,
  OX_REPLAY_STATE_NAMESPACE,
  OX_STATE_NAMESPACE,
  publicKeyDataNode,
  xmppUserId,
} from './constants.ts'
export type { OxContent, OxContentInit } from './content.ts'
export { buildContent, parseContent } from './content.ts'
export type { KeyInput, KeyStatus, KeyUnusableReason, OxKeyInfo } from './keys.ts'
export {
  fingerprintOf,
  fingerprintToKeyId,
  generateOxKey,
  keyIdOf,
  keyIdToFingerprint,
  keyInfo,
  keyStatus,
  minimalPublicKey,
  readOxKeys,
  readPubkeyElement,
  armoredPublicKey,
} from './keys.ts'
export type { OxMessageInit } from './message.ts'
export {
  findOpenpgpElement,
  isMessage,
  openpgpElement,
  oxMessage,
  readOpenpgpElement,
  shouldUseOx,
} from './message.ts'
export type { AccessModel, MetadataItem, PubkeyMetadata } from './xep0373-pep.ts'
export {
  buildPubkey,
  buildPublicKeysList,
  buildSecretKey,
  chooseCurrentKeys,
  isOwnKeyMissing,
  keysToFetch,
  parsePublicKeysList,
  parseSecretKey,
  publishOptions,
  publishPublicKeyRequest,
  publishPublicKeysListRequest,
  publishRequest,
  publishSecretKeyRequest,
  withOwnKey,
} from './xep0373-pep.ts'
export type { OxPolicy } from './policy.ts'
export { DEFAULT_OX_POLICY, resolvePolicy } from './policy.ts'
export { decodeBase64 } from './util.ts'
