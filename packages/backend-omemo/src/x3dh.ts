/**
 * X3DH as OMEMO 2 uses it (XEP-0384 v0.9 §"Key exchange", Signal X3DH rev. 1): Ed25519 identity
 * keys converted to Curve25519 for the four DHs, a mandatory one-time pre key, SHA-256 and the
 * info string `OMEMO X3DH`, `SK = HKDF(salt = 32 zero bytes, ikm = 32×0xFF ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4)`,
 * `AD = IK_A ‖ IK_B` (Ed25519, initiator first). The signed pre key signature is plain Ed25519
 * over the raw 32-byte Curve25519 signed pre key.
 */
import { DecryptionError, LimitExceededError } from '@vouch/tm-core'
import type { CryptoProvider } from './provider.ts'

const INFO = new TextEncoder().encode('OMEMO X3DH')
const SALT = new Uint8Array(32)
const PAD = new Uint8Array(32).fill(0xff)

/** Our identity: the Ed25519 public key that travels, and the Curve25519 private used for DH. */
export interface IdentityKeyPair {
  /** the 32-byte Ed25519 public identity key (bundle `<ik>`, our key id, D-6) */
  readonly edPub: Uint8Array
  /** the 32-byte X25519 private scalar (clamped SHA-512 of the seed) */
  readonly xPriv: Uint8Array
  /** the 32-byte Ed25519 seed; absent for identities imported as a Curve25519 private key (no signing) */
  readonly seed?: Uint8Array
}

export async function identityFromSeed(p: CryptoProvider, seed: Uint8Array): Promise<IdentityKeyPair> {
  return { seed, edPub: await p.ed25519PublicKey(seed), xPriv: p.edwardsToMontgomeryPrivate(seed) }
}

/**
 * Whether implementations that verify with XEdDSA can use this Ed25519 identity key: its sign
 * bit (the top bit of the last byte, the sign of x) is clear. libsignal-based libraries and
 * libomemo.js (Converse.js) keep the identity as a Curve25519 key and verify signatures through
 * it; the Montgomery form u = (1+y)/(1−y) has no sign of x, so they rebuild the Edwards key with
 * the sign bit 0 (XEdDSA's convention). For a key whose sign bit is set that is the negated key,
 * and a valid Ed25519 signature made with it never verifies for them. XEP-0384 transfers the
 * Ed25519 form, so such a key is valid, but unreachable from those clients.
 */
export function xeddsaCompatible(edPub: Uint8Array): boolean {
  return edPub.length === 32 && ((edPub[31] as number) & 0x80) === 0
}

/** How many seeds {@link generateIdentity} draws at most (each has a clear sign bit with probability ½). */
export const MAX_IDENTITY_DRAWS = 128

/**
 * A new identity whose Ed25519 public key has its sign bit clear ({@link xeddsaCompatible}): a
 * standard EdDSA key pair (RFC 8032 key generation from a random 32-byte seed), drawn again
 * until the sign bit is clear — two draws on average. The seed is kept as it is (no negation of
 * the private scalar, no XEdDSA signing): signatures stay plain Ed25519, verifiable by every
 * OMEMO 2 implementation, and XEdDSA verifiers read the key through its Curve25519 form unharmed.
 * Keys of others are accepted with either sign.
 * @throws LimitExceededError `OMEMO-SIGN-BIT` when {@link MAX_IDENTITY_DRAWS} draws all had the
 *   sign bit set (probability 2⁻¹²⁸: a broken random source)
 */
export async function generateIdentity(
  p: CryptoProvider,
  random: (n: number) => Uint8Array,
): Promise<IdentityKeyPair> {
  for (let i = 0; i < MAX_IDENTITY_DRAWS; i++) {
    const identity = await identityFromSeed(p, random(32))
    if (xeddsaCompatible(identity.edPub)) return identity
  }
  throw new LimitExceededError(
    'OMEMO-SIGN-BIT',
    'identity key draws with the sign bit set (is the random source broken?)',
    MAX_IDENTITY_DRAWS,
    MAX_IDENTITY_DRAWS,
  )
}

/** A key pair on Curve25519 (signed pre key, pre key, ephemeral, ratchet). */
export interface X25519KeyPair {
  readonly priv: Uint8Array
  readonly pub: Uint8Array
}

export async function x25519KeyPair(
  p: CryptoProvider,
  priv: Uint8Array = p.randomBytes(32),
): Promise<X25519KeyPair> {
  return { priv, pub: await p.x25519PublicKey(priv) }
}

/** The public half of a device's bundle, as X3DH needs it. */
export interface PreKeyBundle {
  /** Ed25519 identity key */
  readonly ik: Uint8Array
  readonly spkId: number
  readonly spk: Uint8Array
  readonly spks: Uint8Array
  readonly preKeys: readonly { readonly id: number; readonly pub: Uint8Array }[]
}

export async function signSignedPreKey(
  p: CryptoProvider,
  identity: IdentityKeyPair,
  spkPub: Uint8Array,
): Promise<Uint8Array> {
  if (identity.seed === undefined) throw new RangeError('this identity has no Ed25519 seed and cannot sign')
  return p.ed25519Sign(identity.seed, spkPub)
}

export async function verifySignedPreKey(p: CryptoProvider, bundle: PreKeyBundle): Promise<boolean> {
  return p.ed25519Verify(bundle.ik, bundle.spk, bundle.spks)
}

function sharedSecret(p: CryptoProvider, dhs: readonly Uint8Array[]): Uint8Array {
  const ikm = new Uint8Array(32 + 32 * dhs.length)
  ikm.set(PAD, 0)
  for (const [i, dh] of dhs.entries()) ikm.set(dh, 32 + 32 * i)
  return p.hkdf(ikm, SALT, INFO, 32)
}

export function associatedData(initiatorIk: Uint8Array, responderIk: Uint8Array): Uint8Array {
  const ad = new Uint8Array(64)
  ad.set(initiatorIk, 0)
  ad.set(responderIk, 32)
  return ad
}

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
export async function x3dhActive(
  p: CryptoProvider,
  own: IdentityKeyPair,
  bundle: PreKeyBundle,
  choice: { readonly preKeyId: number; readonly ephemeral: X25519KeyPair },
): Promise<ActiveAgreement> {
  if (!(await verifySignedPreKey(p, bundle)))
    throw new DecryptionError('OMEMO-SPKS', 'the signed pre key signature does not verify')
  const pk = bundle.preKeys.find((k) => k.id === choice.preKeyId)
  if (pk === undefined)
    throw new DecryptionError('OMEMO-KEX', 'the bundle holds no such pre key (one is required)')
  try {
    const peerIkX = p.edwardsToMontgomeryPublic(bundle.ik)
    const e = choice.ephemeral.priv
    // the four DHs at once: an asynchronous provider runs them side by side
    const sk = sharedSecret(
      p,
      await Promise.all([
        p.x25519(own.xPriv, bundle.spk),
        p.x25519(e, peerIkX),
        p.x25519(e, bundle.spk),
        p.x25519(e, pk.pub),
      ]),
    )
    return {
      sk,
      ad: associatedData(own.edPub, bundle.ik),
      ek: choice.ephemeral.pub,
      spkId: bundle.spkId,
      pkId: pk.id,
    }
  } catch (e) {
    throw new DecryptionError('OMEMO-KEX', `key agreement failed: ${(e as Error).message}`, { cause: e })
  }
}

/**
 * The responder's half, from the initiator's identity key `ik` and ephemeral key `ek`.
 * @throws DecryptionError `OMEMO-KEX`
 */
export async function x3dhPassive(
  p: CryptoProvider,
  own: IdentityKeyPair,
  keys: { readonly spkPriv: Uint8Array; readonly pkPriv: Uint8Array },
  ik: Uint8Array,
  ek: Uint8Array,
): Promise<{ readonly sk: Uint8Array; readonly ad: Uint8Array }> {
  try {
    const peerIkX = p.edwardsToMontgomeryPublic(ik)
    const sk = sharedSecret(
      p,
      await Promise.all([
        p.x25519(keys.spkPriv, peerIkX),
        p.x25519(own.xPriv, ek),
        p.x25519(keys.spkPriv, ek),
        p.x25519(keys.pkPriv, ek),
      ]),
    )
    return { sk, ad: associatedData(ik, own.edPub) }
  } catch (e) {
    throw new DecryptionError('OMEMO-KEX', `key agreement failed: ${(e as Error).message}`, { cause: e })
  }
}
