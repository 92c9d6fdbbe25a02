import type { CryptoProvider } from './provider.ts'
import { type OmemoKeyExchange } from './proto.ts'
import { type RatchetLimits, type RatchetState } from './ratchet.ts'
import { type IdentityKeyPair, type PreKeyBundle, type X25519KeyPair } from './x3dh.ts'
/** The key exchange fields of OMEMOKeyExchange, without the message. */
export interface KeyExchangeInfo {
  readonly pkId: number
  readonly spkId: number
  readonly ik: Uint8Array
  readonly ek: Uint8Array
}
export interface Session {
  readonly initiation: 'active' | 'passive'
  /** the peer's Ed25519 identity key */
  readonly peerIk: Uint8Array
  /** AD = IK_initiator ‖ IK_responder */
  readonly ad: Uint8Array
  /** active: the key exchange we attach; passive: the one that built the session */
  readonly kex: KeyExchangeInfo
  /** active: the peer answered (stop attaching kex); passive: always true */
  confirmed: boolean
  readonly ratchet: RatchetState
}
/**
 * Starts a session with a device from its bundle (we are the initiator). `choice` fixes the
 * pre key and the random keys (known-answer tests); by default they are random.
 */
export declare function createActiveSession(
  p: CryptoProvider,
  own: IdentityKeyPair,
  bundle: PreKeyBundle,
  choice?: {
    readonly preKeyId?: number
    readonly ephemeral?: X25519KeyPair
    readonly ratchet?: X25519KeyPair
  },
): Session
/** What one encrypted `<key/>` holds. */
export interface EncryptedKey {
  readonly bytes: Uint8Array
  /** true when `bytes` is an OMEMOKeyExchange (`kex='true'`) */
  readonly kex: boolean
}
/** Encrypts key material for the peer; attaches the key exchange until the peer answered. */
export declare function sessionEncrypt(p: CryptoProvider, s: Session, keyMaterial: Uint8Array): EncryptedKey
/** Decrypts an OMEMOAuthenticatedMessage on an existing session (state changes only on success). */
export declare function sessionDecrypt(
  p: CryptoProvider,
  s: Session,
  bytes: Uint8Array,
  limits?: RatchetLimits,
): Uint8Array
export declare function parseKeyExchange(bytes: Uint8Array): OmemoKeyExchange
export declare function sameKeyExchange(a: KeyExchangeInfo, b: KeyExchangeInfo): boolean
/**
 * Builds the responder's session from a received key exchange and decrypts its message. Nothing
 * is kept on failure (the caller stores the session only after this returns).
 */
export declare function acceptKeyExchange(
  p: CryptoProvider,
  own: IdentityKeyPair,
  kex: OmemoKeyExchange,
  keys: {
    readonly spk: X25519KeyPair
    readonly pkPriv: Uint8Array
  },
  limits?: RatchetLimits,
): {
  readonly session: Session
  readonly plaintext: Uint8Array
}
export declare function serializeSession(s: Session): Uint8Array
export declare function deserializeSession(bytes: Uint8Array): Session
//# sourceMappingURL=session.d.ts.map
