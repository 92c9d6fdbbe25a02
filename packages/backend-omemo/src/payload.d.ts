import type { CryptoProvider } from './provider.ts'
/** Key material of an empty message (no `<payload/>`). */
export declare const EMPTY_KEY_MATERIAL: Uint8Array
export declare function encryptPayload(
  p: CryptoProvider,
  plaintext: Uint8Array,
  key?: Uint8Array,
): {
  readonly ciphertext: Uint8Array
  readonly keyMaterial: Uint8Array
}
/**
 * @throws DecryptionError `OMEMO-PAYLOAD` key material of the wrong size or a bad padding,
 *   `OMEMO-PAYLOAD-MAC` the payload's authentication tag does not match
 */
export declare function decryptPayload(
  p: CryptoProvider,
  ciphertext: Uint8Array,
  keyMaterial: Uint8Array,
): Uint8Array
//# sourceMappingURL=payload.d.ts.map
