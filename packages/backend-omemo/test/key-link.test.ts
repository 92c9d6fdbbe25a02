/**
 * D-12 identity linking, OMEMO 2 ↔ OMEMO 0.3 (`key-link.ts`): the Ed25519 identity key id and the
 * Curve25519 key id of the same key pair, by RFC 7748 §4.1's birational map. Checked against an
 * independent path: the X25519 public key computed by the Montgomery ladder from the converted
 * secret (RFC 7748 §5 via `x25519.getPublicKey`).
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { keyIdFromBytes, keyIdToBytes, NS_OMEMO_LEGACY } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { legacyToOmemo2KeyIds, OMEMO_LEGACY_KEY_LINK, omemo2ToLegacyKeyId } from '../src/key-link.ts'

const P = 2n ** 255n - 19n
const le = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn)
  return out
}

describe('D-12 OMEMO 2 ↔ OMEMO 0.3 key link', () => {
  it('D-12: the OMEMO 0.3 key id of an OMEMO 2 identity is the X25519 public key of the same secret (RFC 7748)', () => {
    for (let i = 0; i < 20; i++) {
      const secret = ed25519.utils.randomSecretKey()
      const edId = keyIdFromBytes(ed25519.getPublicKey(secret))
      const xPub = x25519.getPublicKey(ed25519.utils.toMontgomerySecret(secret))
      expect(omemo2ToLegacyKeyId(edId)).toBe(keyIdFromBytes(xPub))
    }
  })

  it('D-12: back from OMEMO 0.3, both sign candidates are returned, one is the published key, both map to the 0.3 id', () => {
    for (let i = 0; i < 20; i++) {
      const edPub = ed25519.getPublicKey(ed25519.utils.randomSecretKey())
      const edId = keyIdFromBytes(edPub)
      const xId = omemo2ToLegacyKeyId(edId)!
      const candidates = legacyToOmemo2KeyIds(xId)
      expect(candidates).toHaveLength(2)
      expect(candidates).toContain(edId)
      const other = candidates.find((c) => c !== edId)!
      // the other candidate differs only in the sign bit (x ↦ −x)
      const a = keyIdToBytes(edId)
      const b = keyIdToBytes(other)
      expect(a.subarray(0, 31)).toEqual(b.subarray(0, 31))
      expect((a[31]! ^ b[31]!) & 0xff).toBe(0x80)
      for (const c of candidates) expect(omemo2ToLegacyKeyId(c)).toBe(xId)
    }
  })

  it('D-12: bytes that are no Edwards point have no OMEMO 0.3 twin', () => {
    // y = 2 is not on edwards25519 (x² = (y² − 1)/(d·y² + 1) is a non-square): checked by noble
    let notOnCurve: Uint8Array | undefined
    for (let y = 2n; notOnCurve === undefined; y++) {
      try {
        ed25519.Point.fromBytes(le(y))
      } catch {
        notOnCurve = le(y)
      }
    }
    expect(omemo2ToLegacyKeyId(keyIdFromBytes(notOnCurve))).toBeUndefined()
    expect(omemo2ToLegacyKeyId(keyIdFromBytes(new Uint8Array(31)))).toBeUndefined()
  })

  it('D-12: u = −1 (no Edwards point), u ≥ p (non-canonical) and wrong lengths have no OMEMO 2 twin', () => {
    expect(legacyToOmemo2KeyIds(keyIdFromBytes(le(P - 1n)))).toEqual([])
    expect(legacyToOmemo2KeyIds(keyIdFromBytes(le(P + 3n)))).toEqual([])
    expect(legacyToOmemo2KeyIds(keyIdFromBytes(new Uint8Array(33).fill(9)))).toEqual([])
  })

  it('D-12: the backend declares the link to eu.siacs.conversations.axolotl (EncryptionBackend.keyLinks)', () => {
    expect(OMEMO_LEGACY_KEY_LINK.namespace).toBe(NS_OMEMO_LEGACY)
    const edId = keyIdFromBytes(ed25519.getPublicKey(ed25519.utils.randomSecretKey()))
    const xId = OMEMO_LEGACY_KEY_LINK.toLinked(edId)!
    expect(OMEMO_LEGACY_KEY_LINK.fromLinked(xId)).toContain(edId)
  })
})
