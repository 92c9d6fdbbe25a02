/**
 * The OMEMO 2 payload scheme (XEP-0384 v0.9 §"Message encryption"): a random 32-byte key →
 * `HKDF(key, zero salt, "OMEMO Payload", 80)` → AES-256-CBC key ‖ HMAC key ‖ IV; the payload is
 * AES-256-CBC (PKCS#7) of the SCE envelope, and the ratchet carries `key ‖ HMAC(ciphertext)[0..16]`
 * (48 bytes). An empty message (heartbeat, key exchange answer) ratchets 32 zero bytes and has no
 * payload.
 */
import { DecryptionError } from '@vouch/tm-core'
const INFO = new TextEncoder().encode('OMEMO Payload')
const ZERO_SALT = new Uint8Array(32)
/** Key material of an empty message (no `<payload/>`). */
export const EMPTY_KEY_MATERIAL = new Uint8Array(32)
export function encryptPayload(p, plaintext, key = p.randomBytes(32)) {
  const out = p.hkdf(key, ZERO_SALT, INFO, 80)
  const ciphertext = p.aesCbcEncrypt(out.subarray(0, 32), out.subarray(64, 80), plaintext)
  const keyMaterial = new Uint8Array(48)
  keyMaterial.set(key, 0)
  keyMaterial.set(p.hmac(out.subarray(32, 64), ciphertext).subarray(0, 16), 32)
  return { ciphertext, keyMaterial }
}
/**
 * @throws DecryptionError `OMEMO-PAYLOAD` key material of the wrong size or a bad padding,
 *   `OMEMO-PAYLOAD-MAC` the payload's authentication tag does not match
 */
export function decryptPayload(p, ciphertext, keyMaterial) {
  if (keyMaterial.length !== 48)
    throw new DecryptionError('OMEMO-PAYLOAD', `key material is ${keyMaterial.length} bytes, expected 48`)
  const out = p.hkdf(keyMaterial.subarray(0, 32), ZERO_SALT, INFO, 80)
  const tag = p.hmac(out.subarray(32, 64), ciphertext).subarray(0, 16)
  if (!p.equal(tag, keyMaterial.subarray(32, 48)))
    throw new DecryptionError('OMEMO-PAYLOAD-MAC', 'the payload authentication tag does not match')
  try {
    return p.aesCbcDecrypt(out.subarray(0, 32), out.subarray(64, 80), ciphertext)
  } catch (e) {
    throw new DecryptionError('OMEMO-PAYLOAD', 'the payload does not decrypt', { cause: e })
  }
}
//# sourceMappingURL=payload.js.map
