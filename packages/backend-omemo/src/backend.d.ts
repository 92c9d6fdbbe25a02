import type {
  BackendCapabilities,
  BackendFactory,
  BareJid,
  DecryptedContent,
  DecryptOptions,
  Element,
  EncryptionBackend,
  EncryptOptions,
  EncryptResult,
  KeyId,
  SecurityPolicy,
  StanzaAddressing,
  TrustLevel,
} from '@vouch/tm-core'
import { type CryptoProvider } from './provider.ts'
import { type RatchetLimits } from './ratchet.ts'
import { type BundleData, type DeviceListEntry, type OmemoXmlLimits } from './xep0384.ts'
/** Namespace of our backend state in the store. */
export declare const OMEMO_STATE_NAMESPACE = 'omemo2'
export declare const OMEMO_CAPABILITIES: BackendCapabilities
/** The OMEMO security policy (STYLE rule 9): typed, safe by default, overridable per call. */
export interface OmemoPolicy {
  /** levels whose devices we encrypt to (chat default; trust messages pass `['authenticated']`) */
  readonly acceptedLevels: readonly TrustLevel[]
  /** how old the SCE `<time/>` may be, in seconds; default one week */
  readonly maxAgeSeconds: number
  /** how far in the future it may be (clock skew), in seconds; default 600 */
  readonly futureSkewSeconds: number
  /** how new devices are recorded (D-11); `undefined`: the store's policy, else `toakafa` */
  readonly securityPolicy?: SecurityPolicy
}
export declare const DEFAULT_OMEMO_POLICY: OmemoPolicy
export interface OmemoInit {
  readonly policy?: Partial<OmemoPolicy>
  /** the crypto provider; default {@link nodeCryptoProvider} over `deps.random` */
  readonly crypto?: CryptoProvider
  readonly ratchetLimits?: Partial<RatchetLimits>
  readonly xmlLimits?: Partial<OmemoXmlLimits>
  /** pre keys in the bundle; default 100 */
  readonly preKeyCount?: number
  /** refill to {@link preKeyCount} once at most this many are left; default 99 (replace each used one) */
  readonly preKeyRefillThreshold?: number
  /** signed pre key lifetime in seconds; default 7 days */
  readonly signedPreKeyRotationSeconds?: number
  /** send an empty message after this many received without sending; default 53 */
  readonly heartbeatAfter?: number
  /** SCE `<rpad/>` length bounds; default 0 … 200 */
  readonly rpad?: {
    readonly minLength?: number
    readonly maxLength?: number
  }
}
export interface OmemoEncryptOptions extends EncryptOptions {
  /** the SCE `<to/>` (bare); default the first recipient (a group chat passes the room) */
  readonly sceTo?: BareJid
}
/** A device of an account, as we know it. */
export interface OmemoDevice {
  readonly owner: BareJid
  readonly deviceId: number
  /** the Ed25519 identity key as key id (D-6), when known */
  readonly keyId?: KeyId
  /** in the owner's latest device list */
  readonly active: boolean
  readonly hasSession: boolean
}
/** What {@link OmemoBackend.decryptMessage} returns. */
export type OmemoDecryptResult =
  | {
      readonly kind: 'content'
      readonly content: DecryptedContent & {
        readonly signed: true
        readonly senderKey: KeyId
      }
      readonly senderDeviceId: number
      readonly keyExchange: boolean
      /** our bundle changed (a pre key was used): republish it */
      readonly bundleChanged: boolean
    }
  | {
      /** a message without payload (heartbeat, key exchange answer): state advanced, nothing to read */
      readonly kind: 'empty'
      readonly senderJid: BareJid
      readonly senderKey: KeyId
      readonly senderDeviceId: number
      readonly keyExchange: boolean
      readonly bundleChanged: boolean
    }
export interface OmemoBackend extends EncryptionBackend {
  readonly crypto: CryptoProvider
  /** Creates our device (identity, signed pre key, pre keys). Rejects if one exists (unless `replace`). */
  createDevice(options?: { readonly deviceId?: number; readonly replace?: boolean }): Promise<{
    readonly deviceId: number
    readonly keyId: KeyId
  }>
  /** Our device id, or undefined before {@link createDevice}. */
  ownDeviceId(): Promise<number | undefined>
  /** Our bundle, to publish (see `publishBundleRequest`). */
  ownBundle(): Promise<BundleData>
  /** Our account's device list with our device added (to publish with `publishDeviceListRequest`). */
  ownDeviceList(): Promise<DeviceListEntry[]>
  /** Stores an account's device list (a PEP notification or fetch). */
  importDeviceList(owner: BareJid, list: Element | readonly DeviceListEntry[]): Promise<void>
  /**
   * Stores a device's bundle after checking its signed pre key signature, and records its key
   * in the trust store at the policy's level (keys already stored keep theirs).
   * @throws DecryptionError `OMEMO-BUNDLE`, `OMEMO-SPKS`
   */
  importBundle(owner: BareJid, deviceId: number, bundle: Element | BundleData): Promise<KeyId>
  /** Known devices of `owner`. */
  devices(owner: BareJid): Promise<OmemoDevice[]>
  /** The Ed25519 key id (D-6) for an id given in Ed25519 or Curve25519 form (alias), if known. */
  resolveKeyId(owner: BareJid, keyId: KeyId): Promise<KeyId | undefined>
  /** Decrypts and tells empty messages apart (what {@link decrypt} does, without the throw). */
  decryptMessage(el: Element, stanza: StanzaAddressing, options?: DecryptOptions): Promise<OmemoDecryptResult>
  /**
   * The empty messages we owe (answers to key exchanges, heartbeats), each built and its queue
   * entry removed in one transaction. Send each in a `<message to>` to the owner's bare JID.
   */
  takeEmptyMessages(): Promise<
    Array<{
      readonly to: BareJid
      readonly element: Element
    }>
  >
  /** Rotates the signed pre key when it is older than the rotation period (or `force`). */
  rotateSignedPreKey(options?: { readonly now?: Date; readonly force?: boolean }): Promise<boolean>
  encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options?: OmemoEncryptOptions,
  ): Promise<EncryptResult>
}
export declare function omemoBackend(init?: OmemoInit): BackendFactory<OmemoBackend>
//# sourceMappingURL=backend.d.ts.map
