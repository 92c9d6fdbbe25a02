/**
 * Identifiers shared by every Vouch package: bare JIDs, key ids and encryption namespaces.
 * Brands only; the functions that make and check them live in `@vouch/tm-core` (not here).
 */

/** A bare JID (`local@domain` or `domain`), already validated and normalised. */
export type BareJid = string & { readonly __brand: 'BareJid' }

/** A full JID (`local@domain/resource`), already validated. */
export type FullJid = string & { readonly __brand: 'FullJid' }

/**
 * A key identifier in canonical Base64 (RFC 4648 §4, padded), the form XEP-0434 v0.6.0 puts on
 * the wire. Which bytes it holds is fixed per encryption protocol (D-6): OMEMO 2 = 32-byte
 * Ed25519 identity key, OX = 20-byte v4 fingerprint, OMEMO 0.3 = 32-byte Curve25519 key.
 */
export type KeyId = string & { readonly __brand: 'KeyId' }

/** XEP-0434 `encryption` attribute: the namespace of the protocol that owns the keys. */
export type EncryptionNamespace = string

export const NS_OMEMO_2 = 'urn:xmpp:omemo:2'
export const NS_OMEMO_LEGACY = 'eu.siacs.conversations.axolotl'
export const NS_OX = 'urn:xmpp:openpgp:0'
