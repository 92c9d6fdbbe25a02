import type { CryptoProvider } from './provider.ts'
/** Our identity: the Ed25519 public key that travels, and the Curve25519 private used for DH. */
export interface IdentityKeyPair {
  /** the 32-byte Ed25519 public identity key (bundle `<ik>`, our key id, D-6) */
  readonly edPub: Uint8Array
  /** the 32-byte X25519 private scalar (clamped SHA-512 of the seed) */
  readonly xPriv: Uint8Array
  /** the 32-byte Ed25519 seed; absent for identities imported as a Curve25519 private key (no signing) */
  readonly seed?: Uint8Array
}
export declare function identityFromSeed(p: CryptoProvider, seed: Uint8Array): IdentityKeyPair
/** A key pair on Curve25519 (signed pre key, pre key, ephemeral, ratchet). */
export interface X25519KeyPair {
  readonly priv: Uint8Array
  readonly pub: Uint8Array
}
export declare function x25519KeyPair(p: CryptoProvider, priv?: Uint8Array): X25519KeyPair
/** The public half of a device's bundle, as X3DH needs it. */
export interface PreKeyBundle {
  /** Ed25519 identity key */
  readonly ik: Uint8Array
  readonly spkId: number
  readonly spk: Uint8Array
  readonly spks: Uint8Array
  readonly preKeys: readonly {
    readonly id: number
    readonly pub: Uint8Array
  }[]
}
export declare function signSignedPreKey(
  p: CryptoProvider,
  identity: IdentityKeyPair,
  spkPub: Uint8Array,
): Uint8Array
export declare function verifySignedPreKey(p: CryptoProvider, bundle: PreKeyBundle): boolean
export declare function associatedData(initiatorIk: Uint8Array, responderIk: Uint8Array): Uint8Array
export interface ActiveAgreement {
  readonly sk: Uint8Array
  readonly ad: Uint8Array
  /** our ephemeral public key (`ek`) */
  readonly ek: Uint8Array
  readonly spkId: number
  readonly pkId: number
}
/**
 * The initiator's half. Verifies the signed pre key signature and requires a pre key.
 * @throws DecryptionError `OMEMO-SPKS` bad signature, `OMEMO-KEX` no pre key or a failed DH
 */
export declare function x3dhActive(
  p: CryptoProvider,
  own: IdentityKeyPair,
  bundle: PreKeyBundle,
  choice: {
    readonly preKeyId: number
    readonly ephemeral: X25519KeyPair
  },
): ActiveAgreement
/**
 * The responder's half, from the initiator's identity key `ik` and ephemeral key `ek`.
 * @throws DecryptionError `OMEMO-KEX`
 */
export declare function x3dhPassive(
  p: CryptoProvider,
  own: IdentityKeyPair,
  keys: {
    readonly spkPriv: Uint8Array
    readonly pkPriv: Uint8Array
  },
  ik: Uint8Array,
  ek: Uint8Array,
): {
  readonly sk: Uint8Array
  readonly ad: Uint8Array
}
//# sourceMappingURL=x3dh.d.ts.map
