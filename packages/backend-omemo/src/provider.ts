/**
 * The crypto provider: every primitive OMEMO 2 needs, behind one small synchronous interface, so
 * the protocol code (X3DH, Double Ratchet, payload scheme) never touches a crypto library.
 *
 * Two implementations, chosen through the package's `exports` conditions on
 * `@vouch/backend-omemo/provider` (`defaultCryptoProvider`):
 * - `node` → `provider-node.ts`, {@link nodeCryptoProvider}: `node:crypto` KeyObjects;
 * - `browser` (and any other runtime) → `provider-browser.ts`, `browserCryptoProvider`:
 *   `@noble/curves`, `@noble/hashes`, `@noble/ciphers` and `crypto.getRandomValues`, all
 *   synchronous. WebCrypto is asynchronous (the interface would have to be, through the whole
 *   ratchet) and its per-call floor is far above the noble figures for OMEMO's small messages
 *   (README, Performance), so it is not used.
 */
/** Options of the providers: a replacement for the CSPRNG (deterministic tests). */
export interface CryptoProviderInit {
  readonly random?: (n: number) => Uint8Array
}

/** Every primitive the protocol uses. Keys are raw bytes (32 bytes each); outputs are fresh. */
export interface CryptoProvider {
  readonly name: string
  /** CSPRNG bytes. */
  randomBytes(n: number): Uint8Array
  /** RFC 7748 X25519 public key of a (clamped internally) 32-byte private scalar. */
  x25519PublicKey(priv: Uint8Array): Uint8Array
  /** RFC 7748 X25519(priv, pub). Throws on an all-zero output (a low-order public key). */
  x25519(priv: Uint8Array, pub: Uint8Array): Uint8Array
  /** RFC 8032 Ed25519 public key of a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array
  /** RFC 8032 Ed25519 signature (64 bytes). */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array
  /** RFC 8032 Ed25519 verification (cofactorless, canonical encodings). Never throws. */
  ed25519Verify(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
  /** Edwards→Montgomery public key (RFC 7748 §4.1: u = (1+y)/(1−y)). Throws for an invalid point. */
  edwardsToMontgomeryPublic(edPub: Uint8Array): Uint8Array
  /** The X25519 private scalar of an Ed25519 seed (clamped SHA-512(seed)[0..32]). */
  edwardsToMontgomeryPrivate(seed: Uint8Array): Uint8Array
  /** RFC 5869 HKDF-SHA-256. */
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array
  /** RFC 2104 HMAC-SHA-256. */
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array
  /** AES-256-CBC with PKCS#7 padding. */
  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array
  /** AES-256-CBC with PKCS#7 padding; throws on a bad length or padding. */
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array
  /** Constant-time equality. */
  equal(a: Uint8Array, b: Uint8Array): boolean
}
