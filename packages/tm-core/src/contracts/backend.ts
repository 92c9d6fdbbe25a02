import type { Element } from '@xmpp/xml'
import type { AbortOptions } from './common.ts'
import type { BareJid, EncryptionNamespace, FullJid, KeyId } from './ids.ts'
import type { TrustLevel } from './trust.ts'

/**
 * What an encryption backend declares about itself. New capabilities are added as optional
 * members (non-breaking), never as required ones.
 */
export interface BackendCapabilities {
  /**
   * One key per identity (OX, "OOK" in XEP-0450): only the contact use cases of ATM apply and
   * trust messages always go to own endpoints (ATM-4, X16).
   */
  readonly oneKeyPerIdentity: boolean
  /** Length in bytes of this protocol's key ids (TM-11): 32 for OMEMO, 20 for OX. */
  readonly keyIdLength: number
  /** The backend can sign an unencrypted trust message (TM-14), e.g. OX `<sign/>`. */
  readonly signsTrustMessages?: boolean
}

/** What a backend reports for every message it decrypted (or verified). */
export interface DecryptedContent {
  /** the plaintext content: an SCE `<envelope/>` (OMEMO 2) or an OX content element */
  readonly content: Element
  /** bare JID of the sender, as the stanza said and the crypto confirmed */
  readonly senderJid: BareJid
  /** full JID of the stanza sender, when known */
  readonly senderFullJid?: FullJid
  /** the sender's key id, taken from the decryption, never from the XML */
  readonly senderKey: KeyId
  /** namespace of the protocol that carried the message */
  readonly carrier: EncryptionNamespace
  /** false for a signed-only message (OX `<sign/>`) */
  readonly encrypted: boolean
}

/** Which keys a message is encrypted to. */
export interface EncryptOptions extends AbortOptions {
  /** encrypt only to keys at these levels (trust messages: `['authenticated']`, TM-21) */
  readonly acceptedLevels?: readonly TrustLevel[]
}

/**
 * A first encryption-backend contract (later issues refine it). Backends encrypt and decrypt
 * for their protocol; which keys they encrypt to comes from the trust store under the policy.
 */
export interface EncryptionBackend {
  /** XEP-0434 `encryption` attribute, e.g. 'urn:xmpp:omemo:2' | 'urn:xmpp:openpgp:0' */
  readonly namespace: EncryptionNamespace
  readonly capabilities: BackendCapabilities
  /** Our own key id(s) for this protocol. */
  ownKeys(options?: AbortOptions): Promise<readonly KeyId[]>
  /** Key ids known for `owner`. */
  keysOf(owner: BareJid, options?: AbortOptions): Promise<readonly KeyId[]>
  /** Encrypts `content` for `to` (bare JIDs; own other endpoints included by the backend). */
  encrypt(content: Element, to: readonly BareJid[], options?: EncryptOptions): Promise<Element>
  /** Decrypts an encrypted element received in a stanza from `from` to `to`. */
  decrypt(
    el: Element,
    stanza: { from: FullJid | BareJid; to: FullJid | BareJid },
    options?: AbortOptions,
  ): Promise<DecryptedContent>
}
