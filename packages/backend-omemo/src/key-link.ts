/**
 * Identity linking (D-12, tm-core `KeyLink`): one key pair used as an OMEMO 2 identity (key id =
 * the 32-byte Ed25519 public key, D-6) and as an OMEMO 0.3 identity (key id = the 32-byte
 * Curve25519 public key without 0x05, D-6) is one identity; python-omemo and others share it
 * across versions. The maps are RFC 7748 §4.1's birational map between edwards25519 and
 * curve25519, with `@noble/curves` (audited) doing the point and field work:
 * - Ed25519 → X25519: `u = (1 + y) / (1 − y)`, a function (`ed25519.utils.toMontgomery`);
 * - X25519 → Ed25519: `y = (u − 1) / (u + 1)`, and the sign of x is lost: two candidate points
 *   (sign bit 0 and 1; a key holder controls both, since −A = (−a)·B). ATM keeps only candidates
 *   the owner actually publishes, so nothing is matched against a key nobody uses.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import type { KeyId, KeyLink } from '@vouch/tm-core'
import { keyIdFromBytes, keyIdToBytes, NS_OMEMO_LEGACY } from '@vouch/tm-core'

const Fp = ed25519.Point.Fp

function bytesOf(id: KeyId): Uint8Array | undefined {
  try {
    const b = keyIdToBytes(id)
    return b.length === 32 ? b : undefined
  } catch {
    return undefined
  }
}

/** The OMEMO 0.3 key id (Curve25519 u, D-6) of an OMEMO 2 key id (Ed25519), if it is a point. */
export function omemo2ToLegacyKeyId(id: KeyId): KeyId | undefined {
  const ed = bytesOf(id)
  if (ed === undefined) return undefined
  try {
    ed25519.Point.fromBytes(ed) // a valid encoding, or no twin
    return keyIdFromBytes(ed25519.utils.toMontgomery(ed))
  } catch {
    return undefined
  }
}

/** The OMEMO 2 key ids (Ed25519, both signs) whose Curve25519 form is the OMEMO 0.3 key id `id`. */
export function legacyToOmemo2KeyIds(id: KeyId): KeyId[] {
  const u = bytesOf(id)
  if (u === undefined) return []
  let y: bigint
  try {
    const uu = Fp.fromBytes(u) // rejects u ≥ p: an encoding no curve25519 key uses
    const denominator = Fp.add(uu, Fp.ONE)
    if (Fp.is0(denominator)) return [] // u = −1 has no Edwards point
    y = Fp.div(Fp.sub(uu, Fp.ONE), denominator)
  } catch {
    return []
  }
  const out: KeyId[] = []
  const yBytes = Fp.toBytes(y)
  for (const sign of [0, 0x80]) {
    const candidate = Uint8Array.from(yBytes)
    candidate[31] = (candidate[31] ?? 0) | sign
    if (omemo2ToLegacyKeyId(keyIdFromBytes(candidate)) === id) out.push(keyIdFromBytes(candidate))
  }
  return out
}

/**
 * A pure function remembered for the last `max` arguments (point decompression costs about
 * 0.2 ms; ATM asks for the same keys again and again, and both directions feed each other).
 */
function remembered<T>(fn: (id: KeyId) => T, max = 1024): (id: KeyId) => T {
  const memo = new Map<KeyId, T>()
  return (id) => {
    if (memo.has(id)) return memo.get(id) as T
    const value = fn(id)
    if (memo.size >= max) memo.delete(memo.keys().next().value as KeyId) // oldest first
    memo.set(id, value)
    return value
  }
}

/** OMEMO 2's link to OMEMO 0.3 (`EncryptionBackend.keyLinks`). */
export const OMEMO_LEGACY_KEY_LINK: KeyLink = Object.freeze({
  namespace: NS_OMEMO_LEGACY,
  toLinked: remembered(omemo2ToLegacyKeyId),
  fromLinked: remembered((id: KeyId) => Object.freeze(legacyToOmemo2KeyIds(id))),
})
