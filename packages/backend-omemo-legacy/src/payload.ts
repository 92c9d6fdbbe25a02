/**
 * The OMEMO 0.3 payload: AES-128-GCM under a fresh 16-byte key and a 12-byte IV (the `<iv/>`),
 * the 16-byte GCM tag appended to the key, and `key ‖ tag` (32 bytes) carried through each
 * device's Signal session — as Conversations and python-oldmemo do. An empty message (key
 * transport: a key exchange answer or a heartbeat) carries only a random 16-byte key and no
 * `<payload/>`. Old Conversations versions put the tag at the end of the payload and only the
 * 16-byte key in the session: read, never written.
 *
 * Web Crypto only: the one libsignal uses (`installWebCrypto`, e.g. the node:crypto subset of
 * `@vouch/backend-omemo-legacy/node`), else `globalThis.crypto.subtle`, so the module runs in
 * browsers unchanged.
 */
import { DecryptionError } from '@vouch/tm-core'
import { webCryptoInUse } from './curve.ts'

export const KEY_BYTES = 16
export const TAG_BYTES = 16
export const IV_BYTES = 12

export interface SealedPayload {
  readonly iv: Uint8Array
  readonly ciphertext: Uint8Array
  /** key ‖ tag (32 bytes), what goes through every session */
  readonly keyMaterial: Uint8Array
}

const subtle = () => webCryptoInUse().subtle

export async function encryptPayload(
  plaintext: Uint8Array,
  random: (n: number) => Uint8Array,
): Promise<SealedPayload> {
  // one draw for key and IV; Web Crypto takes views, so nothing is copied on the way in
  const r = random(KEY_BYTES + IV_BYTES)
  const key = r.subarray(0, KEY_BYTES)
  const iv = r.subarray(KEY_BYTES)
  const k = await subtle().importKey('raw', key, 'AES-GCM', false, ['encrypt'])
  const out = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, tagLength: 128 }, k, plaintext))
  const keyMaterial = new Uint8Array(KEY_BYTES + TAG_BYTES)
  keyMaterial.set(key)
  keyMaterial.set(out.subarray(out.length - TAG_BYTES), KEY_BYTES)
  return { iv, ciphertext: out.subarray(0, out.length - TAG_BYTES), keyMaterial }
}

/**
 * Opens `payload` with the key material a session yielded.
 * @throws DecryptionError `OMEMO03-PAYLOAD` (wrong key material length, tag mismatch)
 */
export async function decryptPayload(
  payload: Uint8Array,
  iv: Uint8Array,
  keyMaterial: Uint8Array,
): Promise<Uint8Array> {
  let key: Uint8Array
  let sealed: Uint8Array
  if (keyMaterial.length === KEY_BYTES + TAG_BYTES) {
    key = keyMaterial.subarray(0, KEY_BYTES)
    sealed = new Uint8Array(payload.length + TAG_BYTES)
    sealed.set(payload)
    sealed.set(keyMaterial.subarray(KEY_BYTES), payload.length)
  } else if (keyMaterial.length === KEY_BYTES && payload.length >= TAG_BYTES) {
    // the old layout: the tag is the end of the payload
    key = keyMaterial
    sealed = payload
  } else {
    throw new DecryptionError(
      'OMEMO03-PAYLOAD',
      `key material of ${keyMaterial.length} bytes cannot open a payload`,
    )
  }
  try {
    const k = await subtle().importKey('raw', key, 'AES-GCM', false, ['decrypt'])
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, k, sealed))
  } catch (cause) {
    throw new DecryptionError('OMEMO03-PAYLOAD', 'the payload does not authenticate (AES-GCM tag mismatch)', {
      cause,
    })
  }
}
