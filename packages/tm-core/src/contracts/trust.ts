import type { BareJid, EncryptionNamespace, KeyId } from './ids.ts'

/**
 * QXmpp's six trust levels (TM-ATM.md §3.1). A key the store has never seen reads `undecided`.
 * A string union, not an enum (erasableSyntaxOnly).
 */
export type TrustLevel =
  | 'undecided'
  | 'automatically-distrusted'
  | 'manually-distrusted'
  | 'automatically-trusted'
  | 'manually-trusted'
  | 'authenticated'

export const TRUST_LEVELS: readonly TrustLevel[] = Object.freeze([
  'undecided',
  'automatically-distrusted',
  'manually-distrusted',
  'automatically-trusted',
  'manually-trusted',
  'authenticated',
])

/** Levels whose keys may be encrypted to under the default policy (QXmpp's accepted levels). */
export const ACCEPTED_FOR_ENCRYPTION: readonly TrustLevel[] = Object.freeze([
  'automatically-trusted',
  'manually-trusted',
  'authenticated',
])

/**
 * How new keys are treated (XEP-0450 §Security Considerations, D-11).
 * - `toakafa`: Trust Only Authenticated Keys After First Authentication (the default): new keys of
 *   an owner are automatically trusted until that owner first had an authenticated key; after
 *   that (sticky, even if that key is later distrusted) they are automatically distrusted.
 * - `authenticated-only`: new keys are never automatically trusted.
 */
export type SecurityPolicy = 'toakafa' | 'authenticated-only'

export const DEFAULT_SECURITY_POLICY: SecurityPolicy = 'toakafa'

/** Where a trust level came from: every change carries one (audit trail, UI events). */
export type Provenance =
  | { readonly kind: 'manual' }
  | { readonly kind: 'uri'; readonly source: UriSource }
  | {
      readonly kind: 'atm'
      /** bare JID of the endpoint whose trust message made the decision */
      readonly senderJid: BareJid
      /** key id of that endpoint, as reported by the backend that decrypted the message */
      readonly senderKey: KeyId
    }
  | { readonly kind: 'policy'; readonly policy: SecurityPolicy }

/** URI-3: a Trust Message URI is only processed with its source stated. */
export type UriSource = 'scan' | 'paste' | 'link'

/** Trust-decision polarity in a trust message. */
export type Polarity = 'trust' | 'distrust'

/** (encryption, owner, key id): one key in the trust store. */
export interface KeyRef {
  readonly encryption: EncryptionNamespace
  readonly owner: BareJid
  readonly keyId: KeyId
}
