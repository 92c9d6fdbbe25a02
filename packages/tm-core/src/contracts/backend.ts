import type { Element } from '@xmpp/xml'
import type { AbortOptions } from './common.ts'
import type { BareJid, EncryptionNamespace, FullJid, KeyId } from './ids.ts'
import type { KeyLink } from './key-link.ts'
import type { AccountTrustStore } from './store.ts'
import type { KeyRef, SecurityPolicy, TrustLevel } from './trust.ts'

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
  /**
   * Every message is also encrypted to the sender's own key, so the sending endpoint can read its
   * own sent copies (OX: yes; OMEMO: other own devices only). Default false.
   */
  readonly encryptsToSelf?: boolean
  /**
   * The backend itself rejects a ciphertext delivered a second time (rule `REPLAY`). Default
   * false: replay is then handled above the backend, by stanza ids and the signed `<time/>`
   * (which the backend checks against a window and reports unchanged for every delivery).
   */
  readonly detectsReplay?: boolean
  /**
   * Every decrypted message reports a protected sending time, protected recipients and the
   * padding length (`time`, `to`, `rpadLength` of {@link DecryptedContent}): an SCE envelope
   * (OMEMO 2) or OX's `<signcrypt/>`. A protocol without one (OMEMO 0.3) leaves it false: its
   * messages carry none of the three, and the compliance suite skips those checks visibly.
   * Default false.
   */
  readonly protectsEnvelope?: boolean
  /**
   * The fallback `<body/>` an encrypted stanza of this protocol carries for clients that cannot
   * read it: a text (OX, OMEMO 0.3), or `null` when the protocol forbids one (XEP-0420 v0.5.0:
   * none beside an SCE envelope; the `<store/>` hint and XEP-0380 `<encryption/>` take its
   * place). Default: none, unless the app sets one.
   */
  readonly fallbackBody?: string | null
  /** XEP-0380 human-readable name of the protocol (`OMEMO`, `OpenPGP for XMPP`). */
  readonly displayName?: string
  /** disco#info features beside the namespace itself (e.g. OX's `urn:xmpp:openpgp:im:0`). */
  readonly discoFeatures?: readonly string[]
  /**
   * The protocol carries a body text only (OMEMO 0.3: no envelope, the plaintext is the
   * `<body/>` text), so it cannot carry a `<trust-message/>`: ATM sends trust messages about its
   * keys over another protocol the recipients are authenticated in (D-12). Default false.
   */
  readonly bodyOnly?: boolean
}

/**
 * What is protected, when a backend offers a choice (XEP-0373 §3.1):
 * - `signcrypt`: signed and encrypted (the only mode for chat, XEP-0374 §3.1; the default);
 * - `sign`: signed, not encrypted (TM-14: an unencrypted trust message; needs
 *   {@link BackendCapabilities.signsTrustMessages});
 * - `crypt`: encrypted, not signed (never for chat or trust messages).
 */
export type ProtectionMode = 'signcrypt' | 'sign' | 'crypt'

/** Which keys a message is encrypted to, and how it is protected. */
export interface EncryptOptions extends AbortOptions {
  /**
   * Encrypt only to keys at these levels (default {@link ACCEPTED_FOR_ENCRYPTION}; trust
   * messages: `['authenticated']`, TM-15/TM-21). The sender's own key (the one it decrypts with)
   * is always included; its other own keys follow these levels like anybody's.
   */
  readonly acceptedLevels?: readonly TrustLevel[]
  /**
   * An explicit key list (TM-15/TM-21: a trust message's `allowedKeys`). When given, the message
   * is encrypted for exactly those of these keys that the backend can reach, intersected with
   * {@link acceptedLevels}, and never for any other key — other own keys/devices included. Only
   * the sender's own key itself (the one it decrypts with) may still be a recipient, where the
   * protocol always encrypts to it (OX, where all own endpoints share that one key). A recipient
   * JID left without any listed key at an accepted level rejects as without `onlyKeys`
   * (`UntrustedKeyError`), except our own JID. Keys of another protocol are ignored.
   */
  readonly onlyKeys?: readonly KeyRef[]
  /** Default `signcrypt`. A mode the backend does not offer is rejected. */
  readonly mode?: ProtectionMode
  /** Sending time written into the protected content (`<time/>`); default: the clock. */
  readonly now?: Date
}

/** What {@link EncryptionBackend.encrypt} produced. */
export interface EncryptResult {
  /** The element to put into the `<message/>` (OX `<openpgp/>`, OMEMO `<encrypted/>`). */
  readonly element: Element
  /** Every key the message was encrypted to, own keys included; empty when not encrypted. */
  readonly recipients: readonly KeyRef[]
}

/** The stanza that carried an encrypted element (its `from` and `to` attributes). */
export interface StanzaAddressing {
  readonly from: FullJid | BareJid
  readonly to: FullJid | BareJid
}

/** Receiver options: the checks every backend runs on a received message. */
export interface DecryptOptions extends AbortOptions {
  /**
   * The time the message was sent, as far as this endpoint knows: the receiver clock for live
   * messages, the XEP-0203 delay / archive stamp for offline and archived ones. Default: the clock.
   */
  readonly now?: Date
  /** How far the protected `<time/>` may lie before {@link now} (seconds; backend default). */
  readonly maxAgeSeconds?: number
  /** How far it may lie after {@link now}: clock skew tolerance (seconds; backend default). */
  readonly futureSkewSeconds?: number
  /**
   * The message was read from the server's archive during a catch-up (XEP-0313). An OMEMO backend
   * keeps a one-time pre key such a key exchange used until {@link EncryptionBackend.catchUpDone},
   * so that a second key exchange on the same pre key (two senders who took it from the same
   * bundle while we were offline) is still read (XEP-0384 v0.9 §6); the key leaves the bundle at
   * once all the same.
   */
  readonly fromCatchUp?: boolean
  /**
   * The recipient the protected `<to/>` must name; default the stanza's `to`. For our own sent
   * copies (Carbons, MAM) whose outer `to` is not the conversation partner, pass the partner.
   */
  readonly expectedTo?: BareJid
  /**
   * The stanza is a group chat message (`type='groupchat'`): protocols whose chat profile makes a
   * protected recipient mandatory there (OMEMO 2's SCE `<to/>`) require it. Default false.
   */
  readonly groupChat?: boolean
  /** Accept a signed but unencrypted message (TM-14, trust messages only). Default false. */
  readonly allowSignedOnly?: boolean
  /** Accept an encrypted but unsigned message (never for chat). Default false. */
  readonly allowUnsigned?: boolean
  /**
   * The transaction to decrypt in (kysely `trx` style): every state the backend writes for this
   * message (a ratchet step, a consumed pre key, the replay memory) is written through it, so it
   * commits together with what the caller writes there (the trust decision, the processed id), or
   * not at all. Default: the backend opens its own transaction on its store.
   */
  readonly store?: AccountTrustStore
}

interface DecryptedBase {
  /** the plaintext content: an SCE `<envelope/>` (OMEMO 2) or an OX content element */
  readonly content: Element
  /** the protected stanza children: OX `<payload/>` children, SCE `<content/>` children */
  readonly payload: readonly Element[]
  /** bare JID of the sender, as the stanza said and the crypto confirmed (when signed) */
  readonly senderJid: BareJid
  /** full JID of the stanza sender, when known */
  readonly senderFullJid?: FullJid
  /** namespace of the protocol that carried the message */
  readonly carrier: EncryptionNamespace
  /** false for a signed-only message (OX `<sign/>`) */
  readonly encrypted: boolean
  /** how the message was protected */
  readonly mode: ProtectionMode
  /**
   * the protected sending time (OX/SCE `<time/>`), checked against the window; reported only by
   * a backend that {@link BackendCapabilities.protectsEnvelope}
   */
  readonly time?: Date
  /** the protected recipients (OX/SCE `<to/>`), bare; only with `protectsEnvelope` */
  readonly to?: readonly BareJid[]
  /** length in characters of the random padding (`<rpad/>`), 0 when absent; only with `protectsEnvelope` */
  readonly rpadLength?: number
  /**
   * Which affixes the protected envelope carried (SCE: `<rpad/>`, `<time/>`, `<from/>`, `<to/>`),
   * for the app: a chat message may lack the optional ones (XEP-0384 v0.9.1's SCE profile), a
   * trust message never does (TM-17 … TM-20). Only with `protectsEnvelope`; optional.
   */
  readonly affixes?: {
    readonly rpad: boolean
    readonly time: boolean
    readonly from: boolean
    readonly to: boolean
  }
  /**
   * The message only advanced the session (an OMEMO 2 empty message: a key exchange answer or a
   * heartbeat): there is nothing to read (`payload` is empty). Default false.
   */
  readonly sessionOnly?: boolean
  /**
   * Key ids of the sender that this message made known to the backend (e.g. a key exchange from
   * a device not fetched before). The backend stores their key material, never a trust level:
   * the caller hands them to ATM (`keysDiscovered`) in the same transaction.
   */
  readonly learnedKeys?: readonly KeyId[]
}

/** What a backend reports for every message it decrypted (or verified). */
export type DecryptedContent =
  | (DecryptedBase & {
      readonly signed: true
      /** the sender's key id, taken from the decryption/verification, never from the XML */
      readonly senderKey: KeyId
    })
  | (DecryptedBase & {
      /** an unsigned message (OX `<crypt/>`): the sender is not authenticated */
      readonly signed: false
      readonly senderKey?: undefined
    })

/** What every backend factory receives (STYLE rule 2: named dependencies). */
export interface BackendDeps {
  /** the local account's trust store: trust levels, own key, backend state */
  readonly store: AccountTrustStore
  /** CSPRNG bytes; default `globalThis.crypto.getRandomValues` (Web Crypto, in browsers and Node) */
  readonly random?: (n: number) => Uint8Array
  /** the clock; default `() => new Date()` */
  readonly now?: () => Date
  /**
   * @deprecated Backends store key material only and never choose a trust level: the level of a
   * new key is ATM's (`keysDiscovered`, with its policy). Ignored by the bundled backends.
   */
  readonly securityPolicy?: SecurityPolicy
}

/** A backend plugin: a factory over named dependencies, no global registry. */
export type BackendFactory<B extends EncryptionBackend = EncryptionBackend> = (deps: BackendDeps) => B

/**
 * An encryption backend. Backends encrypt and decrypt for their protocol; which keys they
 * encrypt to comes from the trust store's levels under the policy (they never decide trust).
 *
 * Errors (checked by `name`): `encrypt` rejects with `UntrustedKeyError` when a recipient has no
 * key at an accepted level; `decrypt` rejects with `DecryptionError` whose `rule` names the
 * failed check, or `LimitExceededError` for oversized input. A message not addressed to this
 * endpoint that carries nothing to read (an OMEMO empty message for other devices) rejects with
 * a `DecryptionError` flagged `nothingToRead` (its protocol's "not for us" rule): the receiver
 * may skip it quietly; one that carries content is never flagged.
 */
export interface EncryptionBackend {
  /** XEP-0434 `encryption` attribute, e.g. 'urn:xmpp:omemo:2' | 'urn:xmpp:openpgp:0' */
  readonly namespace: EncryptionNamespace
  readonly capabilities: BackendCapabilities
  /** Our own key id(s) for this protocol. */
  ownKeys(options?: AbortOptions): Promise<readonly KeyId[]>
  /** Usable key ids known for `owner` (whatever their trust level). */
  keysOf(owner: BareJid, options?: AbortOptions): Promise<readonly KeyId[]>
  /**
   * Protects `payload` (stanza children) for the bare JIDs `to`, encrypted to their keys at the
   * accepted levels and to our own.
   */
  encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options?: EncryptOptions,
  ): Promise<EncryptResult>
  /** Decrypts (or verifies) an element received in a stanza, with every receiver check. */
  decrypt(el: Element, stanza: StanzaAddressing, options?: DecryptOptions): Promise<DecryptedContent>
  /**
   * Identity linking (D-12): for each other protocol whose key ids can name the same key pair as
   * this backend's, how they correspond. ATM gives both ids of one key pair the same decision.
   * Optional: most backends have none.
   */
  readonly keyLinks?: readonly KeyLink[]
  /**
   * The endpoints (devices) `owner` announces in this protocol's latest device list, as ids of an
   * id space the protocol shares with others of its family (XEP-0384 device ids, decimal: a client
   * speaking OMEMO 2 and OMEMO 0.3 lists one device id in both), or `undefined` when the protocol
   * announces no endpoints (OX: one key per identity). The binding compares them across backends
   * to choose a protocol that reaches every endpoint of a contact. Optional.
   */
  endpointsOf?(owner: BareJid, options?: AbortOptions): Promise<readonly string[] | undefined>
  /**
   * The catch-up whose messages were decrypted with {@link DecryptOptions.fromCatchUp} read the
   * archive to its end: what was kept for it goes (OMEMO: the one-time pre keys its key exchanges
   * used). Optional.
   */
  catchUpDone?(options?: AbortOptions): Promise<void>
}
