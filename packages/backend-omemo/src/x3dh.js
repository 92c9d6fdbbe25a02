/**
 * X3DH as OMEMO 2 uses it (XEP-0384 v0.9 §"Key exchange", Signal X3DH rev. 1): Ed25519 identity
 * keys converted to Curve25519 for the four DHs, a mandatory one-time pre key, SHA-256 and the
 * info string `OMEMO X3DH`, `SK = HKDF(salt = 32 zero bytes, ikm = 32×0xFF ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4)`,
 * `AD = IK_A ‖ IK_B` (Ed25519, initiator first). The signed pre key signature is plain Ed25519
 * over the raw 32-byte Curve25519 signed pre key.
 */
import { DecryptionError } from '@vouch/tm-core'
const INFO = new TextEncoder().encode('OMEMO X3DH')
const SALT = new Uint8Array(32)
const PAD = new Uint8Array(32).fill(0xff)
export function identityFromSeed(p, seed) {
  return { seed, edPub: p.ed25519PublicKey(seed), xPriv: p.edwardsToMontgomeryPrivate(seed) }
}
export function x25519KeyPair(p, priv = p.randomBytes(32)) {
  return { priv, pub: p.x25519PublicKey(priv) }
}
export function signSignedPreKey(p, identity, spkPub) {
  if (identity.seed === undefined) throw new RangeError('this identity has no Ed25519 seed and cannot sign')
  return p.ed25519Sign(identity.seed, spkPub)
}
export function verifySignedPreKey(p, bundle) {
  return p.ed25519Verify(bundle.ik, bundle.spk, bundle.spks)
}
function sharedSecret(p, dhs) {
  const ikm = new Uint8Array(32 + 32 * dhs.length)
  ikm.set(PAD, 0)
  for (const [i, dh] of dhs.entries()) ikm.set(dh, 32 + 32 * i)
  return p.hkdf(ikm, SALT, INFO, 32)
}
export function associatedData(initiatorIk, responderIk) {
  const ad = new Uint8Array(64)
  ad.set(initiatorIk, 0)
  ad.set(responderIk, 32)
  return ad
}
/**
 * The initiator's half. Verifies the signed pre key signature and requires a pre key.
 * @throws DecryptionError `OMEMO-SPKS` bad signature, `OMEMO-KEX` no pre key or a failed DH
 */
export function x3dhActive(p, own, bundle, choice) {
  if (!verifySignedPreKey(p, bundle))
    throw new DecryptionError('OMEMO-SPKS', 'the signed pre key signature does not verify')
  const pk = bundle.preKeys.find((k) => k.id === choice.preKeyId)
  if (pk === undefined)
    throw new DecryptionError('OMEMO-KEX', 'the bundle holds no such pre key (one is required)')
  try {
    const peerIkX = p.edwardsToMontgomeryPublic(bundle.ik)
    const e = choice.ephemeral.priv
    const sk = sharedSecret(p, [
      p.x25519(own.xPriv, bundle.spk),
      p.x25519(e, peerIkX),
      p.x25519(e, bundle.spk),
      p.x25519(e, pk.pub),
    ])
    return {
      sk,
      ad: associatedData(own.edPub, bundle.ik),
      ek: choice.ephemeral.pub,
      spkId: bundle.spkId,
      pkId: pk.id,
    }
  } catch (e) {
    throw new DecryptionError('OMEMO-KEX', `key agreement failed: ${e.message}`, { cause: e })
  }
}
/**
 * The responder's half, from the initiator's identity key `ik` and ephemeral key `ek`.
 * @throws DecryptionError `OMEMO-KEX`
 */
export function x3dhPassive(p, own, keys, ik, ek) {
  try {
    const peerIkX = p.edwardsToMontgomeryPublic(ik)
    const sk = sharedSecret(p, [
      p.x25519(keys.spkPriv, peerIkX),
      p.x25519(own.xPriv, ek),
      p.x25519(keys.spkPriv, ek),
      p.x25519(keys.pkPriv, ek),
    ])
    return { sk, ad: associatedData(ik, own.edPub) }
  } catch (e) {
    throw new DecryptionError('OMEMO-KEX', `key agreement failed: ${e.message}`, { cause: e })
  }
}
//# sourceMappingURL=x3dh.js.map
