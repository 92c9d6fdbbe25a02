import type { BareJid, KeyId } from './ids.ts'

/**
 * Typed errors. One class per failure, a literal `name`, structured fields and `cause`.
 * Check errors by `name` (or with {@link isVouchError}), never with `instanceof`: a package may
 * be installed twice. Every parser error names the rule it enforces in `rule` (e.g. `TM-8`), and
 * its message starts with that rule id, so a CLI can print `err.message` as is.
 */
export abstract class VouchError extends Error {
  /** Rule id from TM-ATM.md / OX.md / OMEMO.md (TM-8, SCE-2, URI-5, LIMIT, …), if any. */
  readonly rule: string | undefined
  constructor(rule: string | undefined, message: string, options?: ErrorOptions) {
    super(rule === undefined ? message : `${rule}: ${message}`, options)
    this.rule = rule
  }
}

/** Input that is not well-formed XML (or exceeds the XML size cap). */
export class MalformedXmlError extends VouchError {
  override readonly name = 'MalformedXmlError'
  readonly condition = 'bad-request' as const
}

/** A `<trust-message/>` (or the stanza around it) that breaks an XEP-0434 rule. */
export class InvalidTrustMessageError extends VouchError {
  override readonly name = 'InvalidTrustMessageError'
  readonly condition = 'bad-request' as const
}

/** A resource cap was exceeded (key owners, ids per owner, id length, pending decisions, size). */
export class LimitExceededError extends VouchError {
  override readonly name = 'LimitExceededError'
  readonly condition = 'policy-violation' as const
  readonly limit: string
  readonly max: number
  readonly actual: number
  constructor(rule: string, limit: string, max: number, actual: number, options?: ErrorOptions) {
    super(rule, `${limit} is ${actual}, over the limit of ${max}`, options)
    this.limit = limit
    this.max = max
    this.actual = actual
  }
}

/** An XEP-0420 envelope that fails a structure or receiver check (SCE-1 … SCE-4, TM-17 … TM-20). */
export class InvalidEnvelopeError extends VouchError {
  override readonly name = 'InvalidEnvelopeError'
  readonly condition = 'bad-request' as const
}

/** A Trust Message URI that breaks URI-1 … URI-9. */
export class InvalidUriError extends VouchError {
  override readonly name = 'InvalidUriError'
}

/** A malformed JID, or a full JID where a bare one is required. */
export class InvalidJidError extends VouchError {
  override readonly name = 'InvalidJidError'
  readonly condition = 'jid-malformed' as const
}

/** A key id that is not valid Base64/Base16, or of the wrong length for its protocol (TM-10, TM-11). */
export class InvalidKeyIdError extends VouchError {
  override readonly name = 'InvalidKeyIdError'
}

/** A store failure. `retryable` is true for transient conditions (busy/locked database). */
export class StoreError extends VouchError {
  override readonly name: StoreErrorName = 'StoreError'
  readonly retryable: boolean
  constructor(message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(undefined, message, options)
    this.retryable = options?.retryable ?? false
  }
}

/** The database is locked by another connection and the busy timeout ran out. */
export class StoreBusyError extends StoreError {
  override readonly name = 'StoreBusyError'
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: true })
  }
}

/**
 * The connection to the database server failed or was lost (refused, reset, terminated by the
 * server, pool exhausted). The transaction it carried was rolled back by the server, unless the
 * connection was lost while committing: then its outcome is unknown. Retryable.
 */
export class StoreConnectionError extends StoreError {
  override readonly name = 'StoreConnectionError'
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: true })
  }
}

/**
 * The database aborted a transaction because it could not be serialised with concurrent ones
 * (PostgreSQL SQLSTATE 40001 serialization_failure, 40P01 deadlock_detected), and the store's
 * own bounded retries ran out. Nothing of it was applied. Retryable.
 */
export class StoreSerializationError extends StoreError {
  override readonly name = 'StoreSerializationError'
  /** how many times the store ran the transaction */
  readonly attempts: number
  constructor(message: string, attempts: number, options?: ErrorOptions) {
    super(message, { ...options, retryable: true })
    this.attempts = attempts
  }
}

/**
 * The database was migrated by a newer version of the store (its schema version, or a migration
 * this code does not know, is recorded); the store refuses to open it. Not retryable: upgrade.
 */
export class StoreSchemaTooNewError extends StoreError {
  override readonly name = 'StoreSchemaTooNewError'
  /** the newest migration recorded in the database, as a schema version (its number) */
  readonly schemaVersion: number
  /** the newest schema version this code writes */
  readonly supportedVersion: number
  constructor(message: string, schemaVersion: number, supportedVersion: number, options?: ErrorOptions) {
    super(message, options)
    this.schemaVersion = schemaVersion
    this.supportedVersion = supportedVersion
  }
}

/** An operation needs a trusted key and the key is not (TM-15, TM-21). */
export class UntrustedKeyError extends VouchError {
  override readonly name = 'UntrustedKeyError'
  readonly owner: BareJid
  readonly keyId: KeyId
  constructor(owner: BareJid, keyId: KeyId, options?: ErrorOptions) {
    super(undefined, `key ${keyId} of ${owner} is not trusted`, options)
    this.owner = owner
    this.keyId = keyId
  }
}

/** A confirmation hook refused a decision (URI-4, ATM-UI3). */
export class ConfirmationDeniedError extends VouchError {
  override readonly name = 'ConfirmationDeniedError'
}

/** A backend could not decrypt or verify a message; `rule` names the failed check. */
export class DecryptionError extends VouchError {
  override readonly name = 'DecryptionError'
  /**
   * The message is not addressed to this endpoint AND carries nothing to read for anybody: an
   * OMEMO empty message (OMEMO 2 key exchange answer or heartbeat, OMEMO 0.3 key transport: keys,
   * no `<payload/>`) whose keys name only other devices, e.g. another own device's session
   * answer reaching this one by Carbons or MAM. Nothing is lost by not reading it, so a receiver
   * may skip it quietly (the `rule` stays the protocol's "not for us" rule). A message that
   * carries content this endpoint cannot read is never flagged: it is reported (no silent
   * drops). Default false; a backend sets it only where its protocol tells an empty message
   * apart (never OX). Check it with {@link isNothingToRead}.
   */
  readonly nothingToRead: boolean
  constructor(
    rule: string | undefined,
    message: string,
    options?: ErrorOptions & { nothingToRead?: boolean },
  ) {
    super(rule, message, options)
    this.nothingToRead = options?.nothingToRead === true
  }
}

/**
 * True for a {@link DecryptionError} that says the message carries nothing for this endpoint to
 * read (`nothingToRead`), checked by name and field (a package may be installed twice).
 */
export function isNothingToRead(e: unknown): e is DecryptionError & { readonly nothingToRead: true } {
  return (
    e instanceof Error &&
    e.name === 'DecryptionError' &&
    (e as { nothingToRead?: unknown }).nothingToRead === true
  )
}

/** Names of the store failures: {@link StoreError} and its subclasses. */
export type StoreErrorName =
  | 'StoreError'
  | 'StoreBusyError'
  | 'StoreConnectionError'
  | 'StoreSerializationError'
  | 'StoreSchemaTooNewError'

const STORE_NAMES: ReadonlySet<StoreErrorName> = new Set<StoreErrorName>([
  'StoreError',
  'StoreBusyError',
  'StoreConnectionError',
  'StoreSerializationError',
  'StoreSchemaTooNewError',
])

export type VouchErrorName =
  | 'MalformedXmlError'
  | 'InvalidTrustMessageError'
  | 'LimitExceededError'
  | 'InvalidEnvelopeError'
  | 'InvalidUriError'
  | 'InvalidJidError'
  | 'InvalidKeyIdError'
  | StoreErrorName
  | 'UntrustedKeyError'
  | 'ConfirmationDeniedError'
  | 'DecryptionError'

const NAMES: ReadonlySet<string> = new Set<VouchErrorName>([
  'MalformedXmlError',
  'InvalidTrustMessageError',
  'LimitExceededError',
  'InvalidEnvelopeError',
  'InvalidUriError',
  'InvalidJidError',
  'InvalidKeyIdError',
  ...STORE_NAMES,
  'UntrustedKeyError',
  'ConfirmationDeniedError',
  'DecryptionError',
])

/** True for any Vouch typed error, checked by name so duplicated package copies still match. */
export function isVouchError(e: unknown): e is VouchError {
  return e instanceof Error && NAMES.has(e.name) && 'rule' in e
}

/**
 * True for a store failure ({@link StoreError} or a subclass: `StoreBusyError`,
 * `StoreConnectionError`, `StoreSerializationError`, `StoreSchemaTooNewError`), checked by name:
 * the one test of "the store failed, roll back and keep the input" (as opposed to bad input,
 * which is recorded).
 */
export function isStoreFailure(e: unknown): boolean {
  return e instanceof Error && (STORE_NAMES as ReadonlySet<string>).has(e.name)
}

/** True for a Vouch error of the given name. */
export function isVouchErrorNamed<N extends VouchErrorName>(
  e: unknown,
  name: N,
): e is VouchError & { name: N } {
  return isVouchError(e) && e.name === name
}
