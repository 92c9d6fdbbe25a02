import type { BareJid, EncryptionNamespace, KeyId } from './ids.ts'

/** XEP-0434 `<key-owner/>`: one owner's trusted and distrusted key ids. */
export interface KeyOwner {
  readonly jid: BareJid
  readonly trust: readonly KeyId[]
  readonly distrust: readonly KeyId[]
}

/** XEP-0434 v0.6.0 `<trust-message/>`, independent of its XML form. */
export interface TrustMessage {
  /** `usage` attribute: namespace of the protocol using the message (`urn:xmpp:atm:1`). */
  readonly usage: string
  /** `encryption` attribute: namespace of the protocol the listed keys belong to. */
  readonly encryption: EncryptionNamespace
  readonly keyOwners: readonly KeyOwner[]
}

/**
 * Resource caps applied to every parsed trust message (project decision: every parsed element
 * has caps; violations are typed errors).
 */
export interface TrustMessageLimits {
  /** `<key-owner/>` elements per message */
  readonly maxKeyOwners: number
  /** `<trust/>` + `<distrust/>` elements per key owner */
  readonly maxKeyIdsPerOwner: number
  /** decoded bytes per key id */
  readonly maxKeyIdBytes: number
  /** characters of a JID */
  readonly maxJidLength: number
}

export const DEFAULT_TRUST_MESSAGE_LIMITS: TrustMessageLimits = Object.freeze({
  maxKeyOwners: 64,
  maxKeyIdsPerOwner: 256,
  maxKeyIdBytes: 64,
  maxJidLength: 3071,
})
