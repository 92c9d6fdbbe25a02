/**
 * A key fingerprint as a deployed client shows it and a person copies or types it, for a manual
 * authentication by comparison (no code to scan: Profanity, a fingerprint read aloud):
 *
 * - Profanity 0.13 (`/omemo fingerprint`): `413a0689-0e125b62-…-9d963112` (OMEMO 0.3);
 * - Conversations, Dino, Gajim, Converse.js: `413a0689 0e125b62 …` in groups of 8, either case
 *   (OMEMO 0.3, and OMEMO 2 in Converse.js and Gajim);
 * - GnuPG: `ABCD EF01 2345 …` in groups of 4 (OX, the v4 fingerprint);
 * - the `05` key-type byte in front of a Curve25519 key, as libsignal and Conversations' QR
 *   codes write it.
 *
 * Rules (ids ours, cited in test names):
 * - FPR-1 Base16 digits (either case) with spaces, tabs, `-` or `:` between them; nothing else.
 * - FPR-2 exactly the key id length of the protocol (`DEFAULT_KEY_ID_LENGTHS`: 32 bytes for both
 *   OMEMO versions, 20 for OX).
 * - FPR-3 OMEMO 0.3 only: 33 bytes starting with `05` name the 32-byte key after it (D-6); no other
 *   protocol's key has a type byte to drop.
 */
import type { KeyId } from '@vouch/tm-core'
import { InvalidKeyIdError, NS_OMEMO_LEGACY, parseKeyIdHex } from '@vouch/tm-core'
import { clip, DEFAULT_KEY_ID_LENGTHS } from './xep0434-uri.ts'

const SEPARATORS = /[\s:-]+/g
const HEX = /^[0-9a-fA-F]*$/
/** longer than any key of any protocol, with its type byte */
const MAX_DIGITS = 200

export interface DisplayedFingerprintOptions {
  /** Key id length in bytes. Default: {@link DEFAULT_KEY_ID_LENGTHS} of the encryption. */
  readonly keyIdLength?: number
}

/**
 * The Base16 digits of a displayed fingerprint (separators dropped), without checking its length.
 * @throws InvalidKeyIdError `FPR-1` a character that is neither a Base16 digit nor a separator
 */
export function fingerprintDigits(text: string): string {
  const digits = text.replace(SEPARATORS, '')
  // a pasted page is refused by its length, not echoed back
  if (digits.length > MAX_DIGITS)
    throw new InvalidKeyIdError('FPR-1', `${digits.length} characters are longer than any fingerprint`)
  if (!HEX.test(digits))
    throw new InvalidKeyIdError(
      'FPR-1',
      `"${clip(text)}" is not a fingerprint: Base16 digits, with spaces, "-" or ":" between groups`,
    )
  return digits
}

/**
 * The key id of a fingerprint shown by a deployed client (any of the forms above), for keys of
 * `encryption`.
 *
 * @throws InvalidKeyIdError `FPR-1` not Base16 with separators; `FPR-2` not the protocol's key
 *   length (or no known length for `encryption` and none given); `FPR-3` 33 bytes not starting
 *   with `05`, or 33 bytes for a protocol other than OMEMO 0.3
 */
export function parseDisplayedFingerprint(
  text: string,
  encryption: string,
  options: DisplayedFingerprintOptions = {},
): KeyId {
  const bytes = options.keyIdLength ?? DEFAULT_KEY_ID_LENGTHS[encryption]
  if (bytes === undefined)
    throw new InvalidKeyIdError('FPR-2', `no known key length for ${clip(encryption)}: pass keyIdLength`)
  const digits = fingerprintDigits(text)
  if (digits.length === 2 * (bytes + 1) && encryption === NS_OMEMO_LEGACY) {
    if (digits.slice(0, 2) !== '05')
      throw new InvalidKeyIdError(
        'FPR-3',
        `a ${bytes + 1}-byte fingerprint starts with the Curve25519 key type 05, not ${digits.slice(0, 2)}`,
      )
    return parseKeyIdHex(digits.slice(2), 'FPR-1')
  }
  if (digits.length !== 2 * bytes)
    throw new InvalidKeyIdError(
      digits.length === 2 * (bytes + 1) && digits.startsWith('05') ? 'FPR-3' : 'FPR-2',
      `a fingerprint of ${digits.length} digits is not a key of ${clip(encryption)}: ` +
        `${bytes} bytes (${2 * bytes} digits)${encryption === NS_OMEMO_LEGACY ? `, or ${bytes + 1} starting with 05` : ''}`,
    )
  return parseKeyIdHex(digits, 'FPR-1')
}
