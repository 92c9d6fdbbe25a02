import type { CryptoProvider } from './provider.ts'
import { type OmemoMessage } from './proto.ts'
/** Limits of one session (a security policy: safe defaults, overridable per backend). */
export interface RatchetLimits {
  /** most message keys skipped by one message (Signal's MAX_SKIP); default 1000 */
  readonly maxSkip: number
  /** most skipped message keys kept per session (oldest dropped first); default 1000 */
  readonly maxSkippedKeys: number
}
export declare const DEFAULT_RATCHET_LIMITS: RatchetLimits
export interface SkippedKey {
  readonly dh: Uint8Array
  readonly n: number
  readonly mk: Uint8Array
}
/** The whole mutable state of one Double Ratchet session. */
export interface RatchetState {
  rk: Uint8Array
  dhsPriv: Uint8Array
  dhsPub: Uint8Array
  /** the peer's current ratchet key; undefined on the responder until the first message */
  dhr: Uint8Array | undefined
  cks: Uint8Array | undefined
  ckr: Uint8Array | undefined
  ns: number
  nr: number
  pn: number
  /** skipped message keys, oldest first */
  skipped: SkippedKey[]
  /** the peer's previous ratchet keys (newest last, a few), to tell replays from garbage */
  previousDhr: Uint8Array[]
  /** messages received since we last sent one (heartbeat after 53, XEP-0384 §"Heartbeat") */
  receivedSinceSend: number
}
/** The initiator's state: it knows the peer's signed pre key and sends first. */
export declare function initActive(
  p: CryptoProvider,
  sk: Uint8Array,
  peerSpk: Uint8Array,
  ratchet: {
    readonly priv: Uint8Array
    readonly pub: Uint8Array
  },
): RatchetState
/** The responder's state: its signed pre key is the first ratchet key; it receives first. */
export declare function initPassive(
  sk: Uint8Array,
  spk: {
    readonly priv: Uint8Array
    readonly pub: Uint8Array
  },
): RatchetState
/**
 * Encrypts `plaintext` (OMEMO: 48 bytes of key material, or 32 zero bytes for an empty message)
 * and returns the serialized OMEMOAuthenticatedMessage. Advances the sending chain.
 */
export declare function ratchetEncrypt(
  p: CryptoProvider,
  s: RatchetState,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array
/** Reads the header of a serialized OMEMOAuthenticatedMessage (for routing; not authenticated). */
export declare function parseAuthenticated(bytes: Uint8Array): {
  mac: Uint8Array
  message: Uint8Array
  header: OmemoMessage
}
/**
 * Decrypts a serialized OMEMOAuthenticatedMessage. The state changes only on success.
 * @throws DecryptionError `OMEMO-PROTO` malformed, `OMEMO-MAC` authentication failed,
 *   `REPLAY` a message whose key was already used, `OMEMO-SKIP` more than `maxSkip` skipped keys
 */
export declare function ratchetDecrypt(
  p: CryptoProvider,
  s: RatchetState,
  bytes: Uint8Array,
  ad: Uint8Array,
  limits?: RatchetLimits,
): Uint8Array
//# sourceMappingURL=ratchet.d.ts.map
