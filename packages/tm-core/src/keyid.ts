/**
 * Key ids: canonical Base64 inside trust messages (TM-10), Base16 in URIs (URI-8).
 */
import { base64, hex } from '@scure/base'
import type { KeyId } from './contracts/ids.ts'
import { InvalidKeyIdError } from './contracts/errors.ts'

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const HEX = /^(?:[0-9a-fA-F]{2})+$/

/** The canonical key id of raw key bytes. */
export function keyIdFromBytes(bytes: Uint8Array): KeyId {
  if (bytes.length === 0) throw new InvalidKeyIdError('TM-10', 'empty key id')
  return base64.encode(bytes) as KeyId
}

/** The raw bytes of a key id. */
export function keyIdToBytes(id: KeyId): Uint8Array {
  return decodeKeyId(id)
}

/**
 * Parses Base64 text (RFC 4648 §4, padded, no line breaks) into a key id. Surrounding
 * whitespace is ignored. Non-canonical encodings (non-zero padding bits) are rejected, so each
 * key has exactly one id.
 * @throws InvalidKeyIdError
 */
export function parseKeyIdBase64(text: string, rule = 'TM-10', maxBytes = Number.POSITIVE_INFINITY): KeyId {
  const s = text.trim()
  if (s.length === 0) throw new InvalidKeyIdError(rule, 'empty key identifier')
  if (!BASE64.test(s))
    throw new InvalidKeyIdError(rule, `key identifier "${clip(s)}" is not Base64 (RFC 4648)`)
  const length = base64ByteLength(s)
  if (length > maxBytes)
    throw new InvalidKeyIdError('LIMIT', `key identifier of ${length} bytes is longer than ${maxBytes}`)
  // the shape is checked above, so the strict decoder can only refuse non-zero padding bits
  try {
    base64.decode(s)
  } catch (cause) {
    throw new InvalidKeyIdError(rule, `key identifier "${clip(s)}" is not canonical Base64`, { cause })
  }
  return s as KeyId
}

/**
 * Parses Base16 (upper or lower case) into a key id.
 * @throws InvalidKeyIdError
 */
export function parseKeyIdHex(text: string, rule = 'URI-8', maxBytes = Number.POSITIVE_INFINITY): KeyId {
  if (text.length === 0) throw new InvalidKeyIdError(rule, 'empty key identifier')
  if (!HEX.test(text))
    throw new InvalidKeyIdError(rule, `key identifier "${clip(text)}" is not Base16 (RFC 4648)`)
  if (text.length / 2 > maxBytes)
    throw new InvalidKeyIdError(
      'LIMIT',
      `key identifier of ${text.length / 2} bytes is longer than ${maxBytes}`,
    )
  return base64.encode(hex.decode(text.toLowerCase())) as KeyId
}

/** Lower-case Base16 of a key id (the URI form, URI-8). */
export function keyIdToHex(id: KeyId): string {
  return hex.encode(decodeKeyId(id))
}

/** Length in bytes of a key id. */
export function keyIdByteLength(id: KeyId): number {
  return id.length % 4 === 0 ? base64ByteLength(id) : decodeKeyId(id).length
}

/** A `KeyId` built by a cast rather than parsed can be malformed: that is a typed error, not a crash. */
function decodeKeyId(id: KeyId): Uint8Array {
  try {
    return base64.decode(id)
  } catch (cause) {
    throw new InvalidKeyIdError('TM-10', `key identifier "${clip(id)}" is not canonical Base64`, { cause })
  }
}

/** Decoded length of well-formed padded Base64 text, without decoding it. */
function base64ByteLength(s: string): number {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0
  return (s.length / 4) * 3 - pad
}

function clip(s: string): string {
  return s.length > 24 ? `${s.slice(0, 24)}…` : s
}
