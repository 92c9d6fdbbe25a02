import type { EncryptionNamespace, KeyId } from './ids.ts'

/**
 * Identity linking (TM-ATM.md D-12): one key pair used by two encryption protocols is one
 * identity. A backend declares, for another protocol, how the key ids of the same key pair
 * correspond; the ATM engine, which knows no protocol, then gives both ids of one key pair the same
 * decision (authenticated or manually distrusted). Example: OMEMO 2 (`urn:xmpp:omemo:2`, key id =
 * Ed25519 identity key) declares a link to OMEMO 0.3 (`eu.siacs.conversations.axolotl`, key id =
 * Curve25519 identity key without 0x05): Ed25519 → X25519 is a function (RFC 7748's birational
 * map), X25519 → Ed25519 is not (the sign bit is lost), so it returns candidates.
 *
 * Both functions are pure and synchronous, take and return canonical key ids, and must never
 * throw on a well-formed id of the right length (return `undefined` / `[]` for a key with no
 * form in the other protocol, e.g. a point of small order).
 */
export interface KeyLink {
  /** the other protocol */
  readonly namespace: EncryptionNamespace
  /** the id in {@link KeyLink.namespace} of the key pair whose id here is `keyId`, if it has one */
  toLinked(keyId: KeyId): KeyId | undefined
  /**
   * The ids here whose key pair may be the one with id `linkedId` in {@link KeyLink.namespace}:
   * candidates (for OMEMO 2 the two Ed25519 points with that Montgomery u). The engine keeps only
   * candidates the owner actually uses (stored keys of that owner) whose `toLinked` is `linkedId`.
   */
  fromLinked(linkedId: KeyId): readonly KeyId[]
}
