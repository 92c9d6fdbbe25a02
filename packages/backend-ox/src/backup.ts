/**
 * XEP-0373 v0.7.0 §5: secret key backup and restore.
 *
 * The backup is an OpenPGP message symmetrically encrypted (SKESK + SEIPD) with the backup code
 * as password; its plaintext is the concatenation of transferable secret keys, unprotected
 * inside (S2K usage 0). The code is 24 characters of `123456789ABCDEFGHIJKLMNPQRSTUVWXYZ` in
 * groups of four joined by dashes, drawn from a CSPRNG; the password is the code exactly as
 * shown, dashes included, and is never normalised.
 */
import { concatBytes } from '@noble/hashes/utils.js'
import { DecryptionError, InvalidKeyIdError, randomBytes } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import type { PrivateKey } from 'openpgp'

export const BACKUP_CODE_ALPHABET = '123456789ABCDEFGHIJKLMNPQRSTUVWXYZ'
const CODE_FORMAT = /^[1-9A-NP-Z]{4}(?:-[1-9A-NP-Z]{4}){5}$/

/**
 * A fresh backup code (`XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`), uniform over the alphabet (rejection
 * sampling on CSPRNG bytes): 24 × log2(34) ≈ 122 bits.
 */
export function generateBackupCode(random: (n: number) => Uint8Array = randomBytes): string {
  const n = BACKUP_CODE_ALPHABET.length // 34
  const limit = 256 - (256 % n) // 238: bytes at or above it would bias the result
  const chars: string[] = []
  while (chars.length < 24) {
    for (const b of random(32)) {
      if (b >= limit || chars.length === 24) continue
      chars.push(BACKUP_CODE_ALPHABET[b % n] as string)
    }
  }
  const groups: string[] = []
  for (let i = 0; i < 24; i += 4) groups.push(chars.slice(i, i + 4).join(''))
  return groups.join('-')
}

/** True for a code in the XEP-0373 format (what we generate). Restore accepts any password. */
export function isBackupCode(code: string): boolean {
  return CODE_FORMAT.test(code)
}

/**
 * Encrypts secret keys with the backup code. The keys must be unprotected (no passphrase).
 * @throws InvalidKeyIdError  OX-BACKUP: a key without (decrypted) secret material
 */
export async function encryptBackup(keys: readonly PrivateKey[], code: string): Promise<Uint8Array> {
  if (keys.length === 0) throw new InvalidKeyIdError('OX-BACKUP', 'no secret key to back up')
  const parts: Uint8Array[] = []
  for (const k of keys) {
    if (!k.isPrivate() || !k.isDecrypted())
      throw new InvalidKeyIdError('OX-BACKUP', 'a backup holds unprotected secret keys (S2K usage 0)')
    parts.push(k.write())
  }
  const message = await openpgp.createMessage({ binary: concatBytes(...parts) })
  return openpgp.encrypt({ message, passwords: [code], format: 'binary', config: { aeadProtect: false } })
}

/**
 * Decrypts a backup with the code, exactly as given (never normalised), and reads its keys.
 * @throws DecryptionError  OX-BACKUP: wrong code, damaged backup, or no secret key inside
 */
export async function decryptBackup(
  backup: Uint8Array,
  code: string,
  options: { readonly maxDecompressedBytes?: number } = {},
): Promise<PrivateKey[]> {
  let data: Uint8Array
  try {
    const message = await openpgp.readMessage({ binaryMessage: backup })
    const result = await openpgp.decrypt({
      message,
      passwords: [code],
      format: 'binary',
      config: { maxDecompressedMessageSize: options.maxDecompressedBytes ?? 1 << 20 },
    })
    data = result.data as Uint8Array
  } catch (e) {
    throw new DecryptionError(
      'OX-BACKUP',
      `cannot open the backup (wrong code or damaged): ${(e as Error).message}`,
      {
        cause: e,
      },
    )
  }
  let keys: PrivateKey[]
  try {
    keys = await openpgp.readPrivateKeys({ binaryKeys: data })
  } catch (e) {
    throw new DecryptionError('OX-BACKUP', `the backup holds no secret key: ${(e as Error).message}`, {
      cause: e,
    })
  }
  for (const k of keys)
    if (!k.isDecrypted())
      throw new DecryptionError(
        'OX-BACKUP',
        'a key in the backup is passphrase-protected (OX needs S2K usage 0)',
      )
  return keys
}
