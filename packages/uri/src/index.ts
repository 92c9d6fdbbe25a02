/**
 * @packageDocumentation
 * `@vouch/uri`: XEP-0434 v0.6.0 Trust Message URIs (XEP-0147 query type `trust-message`,
 * RFC 5122 XMPP URIs): a strict parser, a canonical formatter, a JSON form for the CLI, and QR
 * codes (text, SVG, PNG). Applying a URI (URI-3 source, URI-4 confirmation) is the ATM engine's job.
 */
export type { UriSource } from '@vouch/tm-core'
export type {
  FingerprintUri,
  FingerprintUriDevice,
  ParseFingerprintUriOptions,
  ScannedUri,
} from './fingerprint-uri.ts'
export {
  fingerprintUriToTrustUri,
  OMEMO_SID_PARAM,
  parseFingerprintUri,
  parseScannedUri,
} from './fingerprint-uri.ts'
export type { QrErrorCorrectionLevel, QrFormat, TrustMessageUriQrOptions } from './qr.ts'
export { trustMessageUriQr } from './qr.ts'
export type {
  KeyIdLength,
  ParseTrustMessageUriOptions,
  TrustMessageUri,
  TrustMessageUriJson,
  UriFromJsonOptions,
  UriLimits,
} from './xep0434-uri.ts'
export {
  DEFAULT_KEY_ID_LENGTHS,
  DEFAULT_URI_LIMITS,
  formatTrustMessageUri,
  parseTrustMessageUri,
  QUERY_TYPE_TRUST_MESSAGE,
  uriFromJson,
  uriToJson,
} from './xep0434-uri.ts'
export type { DisplayedFingerprintOptions } from './fingerprint.ts'
export { fingerprintDigits, parseDisplayedFingerprint } from './fingerprint.ts'
