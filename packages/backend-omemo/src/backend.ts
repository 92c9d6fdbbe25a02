/**
 * The OMEMO 2 {@link EncryptionBackend}, composed of its state ({@link OmemoState}: own device,
 * other devices' identity keys and bundles, device lists, sessions and skipped keys, all in the
 * store's backend state under the namespace `omemo2`), {@link encryptMessage} and
 * {@link decryptMessage}. Which devices a message is encrypted to comes from the trust store's
 * levels (D-6, TM-15/TM-21); the backend never writes a level: it stores key material and reports
 * the key ids it learns (from {@link OmemoBackend.importBundle}, {@link OmemoBackend.importDeviceList}
 * and `DecryptedContent.learnedKeys`), and ATM's `keysDiscovered` applies the security policy.
 */
import {
  activeDeviceIds,
  type ImportBundleOptions,
  type KnownDevice,
  knownDevices,
  knownKeyIds,
  pickDeviceId,
} from '@vouch/omemo-common'
import type {
  AbortOptions,
  AccountTrustStore,
  BackendCapabilities,
  BackendDeps,
  BackendFactory,
  BareJid,
  DecryptedContent,
  DecryptOptions,
  Element,
  EncryptionBackend,
  EncryptResult,
  KeyId,
  StanzaAddressing,
  TrustLevel,
} from '@vouch/tm-core'
import {
  ACCEPTED_FOR_ENCRYPTION,
  DecryptionError,
  InvalidKeyIdError,
  keyIdFromBytes,
  keyIdToBytes,
  toBareJid,
} from '@vouch/tm-core'
import { decryptContent, decryptMessage, type OmemoDecryptResult } from './decrypt.ts'
import { encryptMessage, replaceSessions, type OmemoEncryptOptions, takeEmptyMessages } from './encrypt.ts'
import { OMEMO_LEGACY_KEY_LINK } from './key-link.ts'
import { defaultCryptoProvider } from '@vouch/backend-omemo/provider'
import type { CryptoProvider } from './provider.ts'
import { DEFAULT_RATCHET_LIMITS, type RatchetLimits } from './ratchet.ts'
import { bytesEqual, OMEMO_STATE_NAMESPACE, OmemoState, type OwnRecord, type PreKeys } from './state.ts'
import {
  type BundleData,
  type DeviceListEntry,
  DEFAULT_OMEMO_XML_LIMITS,
  NS_OMEMO2,
  type OmemoXmlLimits,
  parseBundle,
  parseDeviceList,
} from './xep0384.ts'
import { generateIdentity, verifySignedPreKey, xeddsaCompatible } from './x3dh.ts'

export type { OmemoDecryptResult } from './decrypt.ts'
export type { OmemoEncryptOptions } from './encrypt.ts'
export { OMEMO_STATE_NAMESPACE } from './state.ts'

export const OMEMO_CAPABILITIES: BackendCapabilities = Object.freeze({
  oneKeyPerIdentity: false,
  keyIdLength: 32,
  signsTrustMessages: false,
  encryptsToSelf: false,
  // the ratchet consumes each message key: a second delivery is rejected with rule REPLAY
  detectsReplay: true,
  // the payload is an SCE envelope (XEP-0420): time, to and rpad are reported, and no
  // fallback <body/> may stand beside it (XEP-0420 v0.5.0)
  protectsEnvelope: true,
  fallbackBody: null,
  displayName: 'OMEMO',
})

/** The OMEMO security policy (STYLE rule 9): typed, safe by default, overridable per call. */
export interface OmemoPolicy {
  /** levels whose devices we encrypt to (chat default; trust messages pass `['authenticated']`) */
  readonly acceptedLevels: readonly TrustLevel[]
  /** how old the SCE `<time/>` may be, in seconds; default one week */
  readonly maxAgeSeconds: number
  /** how far in the future it may be (clock skew), in seconds; default 600 */
  readonly futureSkewSeconds: number
}

export const DEFAULT_OMEMO_POLICY: OmemoPolicy = Object.freeze({
  acceptedLevels: ACCEPTED_FOR_ENCRYPTION,
  maxAgeSeconds: 7 * 24 * 3600,
  futureSkewSeconds: 600,
})

export interface OmemoInit {
  readonly policy?: Partial<OmemoPolicy>
  /** the crypto provider; default the runtime's (`@vouch/backend-omemo/provider`) over `deps.random` */
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
  /**
   * SCE `<rpad/>` (D-7): the envelope is first filled to `minEnvelopeBytes` (default 1024), then
   * `minLength` … `maxLength` random characters (default 0 … 200) are added
   */
  readonly rpad?: {
    readonly minLength?: number
    readonly maxLength?: number
    readonly minEnvelopeBytes?: number
  }
}

/** A device of an account, as we know it (key id: the Ed25519 identity key, D-6). */
export type OmemoDevice = KnownDevice

export interface OmemoBackend extends EncryptionBackend {
  readonly crypto: CryptoProvider
  /** the account (bare JID) of the store this backend was made over */
  readonly account: BareJid
  /** Creates our device (identity, signed pre key, pre keys). Rejects if one exists (unless `replace`). */
  createDevice(options?: {
    readonly deviceId?: number
    readonly replace?: boolean
  }): Promise<{ readonly deviceId: number; readonly keyId: KeyId }>
  /** Our device id, or undefined before {@link createDevice}. */
  ownDeviceId(): Promise<number | undefined>
  /**
   * Whether clients that verify with XEdDSA (libsignal-based ones, Converse.js's libomemo.js) can
   * start sessions with our device: the sign bit of our Ed25519 identity key is clear. Every
   * device made by this version is; `false` flags a device made before (about half of them):
   * rotate it with `createDevice({ replace: true })` (see the README, "Sign bit"). Undefined
   * before {@link createDevice}.
   */
  ownDeviceXeddsaCompatible(): Promise<boolean | undefined>
  /**
   * Our identity key pair in its Curve25519 form (private scalar clamped as RFC 7748 says, public
   * u-coordinate): the same key pair, for running OMEMO 0.3 on this device with the same identity
   * (D-12; `@vouch/backend-omemo-legacy` `createDevice({ identityPrivateKey })`), as python-omemo
   * does. **Secret key material**: hand it to nothing that leaves the device. Undefined before
   * {@link createDevice}.
   */
  ownCurve25519Identity(): Promise<{ readonly pub: Uint8Array; readonly priv: Uint8Array } | undefined>
  /**
   * Our device ids that {@link createDevice} `{ replace: true }` replaced: the key directory
   * keeps them out of the device list it publishes (a rotated device is gone for good).
   */
  retiredDeviceIds(): Promise<readonly number[]>
  /** Our bundle, to publish (see `publishBundleRequest`). */
  ownBundle(): Promise<BundleData>
  /** Our account's device list with our device added (to publish with `publishDeviceListRequest`). */
  ownDeviceList(): Promise<DeviceListEntry[]>
  /**
   * Stores an account's device list (a PEP notification or fetch); resolves to the key ids of
   * the listed devices whose identity key is known (from a bundle or a key exchange).
   */
  importDeviceList(owner: BareJid, list: Element | readonly DeviceListEntry[]): Promise<readonly KeyId[]>
  /**
   * Stores a device's bundle (key material) after checking its signed pre key signature and
   * resolves to its key id (D-6: the Ed25519 identity key). No trust level is written: hand the
   * key id to ATM (`keysDiscovered`), which records it under the security policy; until then
   * the device is `undecided` and not encrypted to.
   * @throws DecryptionError `OMEMO-BUNDLE`, `OMEMO-SPKS`
   */
  importBundle(
    owner: BareJid,
    deviceId: number,
    bundle: Element | BundleData,
    options?: ImportBundleOptions,
  ): Promise<KeyId>
  /** Known devices of `owner`. */
  devices(owner: BareJid): Promise<OmemoDevice[]>
  /** The Ed25519 key id (D-6) for an id given in Ed25519 or Curve25519 form (alias), if known. */
  resolveKeyId(owner: BareJid, keyId: KeyId): Promise<KeyId | undefined>
  /**
   * Decrypts and tells empty messages apart: {@link decrypt} reports an empty message as
   * `sessionOnly`; this says so with `kind: 'empty'`, the sender device and whether our bundle
   * changed.
   */
  decryptMessage(el: Element, stanza: StanzaAddressing, options?: DecryptOptions): Promise<OmemoDecryptResult>
  /**
   * The empty messages we owe (answers to key exchanges, heartbeats), each built and its queue
   * entry removed in one transaction. Send each in a `<message to>` to the owner's bare JID.
   */
  takeEmptyMessages(): Promise<Array<{ readonly to: BareJid; readonly element: Element }>>
  /**
   * XEP-0384 (v0.9 §6, "clients MUST offer a way to manually replace broken sessions"): a new
   * session with each of `owner`'s devices `deviceIds` (default: every device of its latest list
   * with a stored bundle; never our own device), built on the stored bundle — fetch the current
   * one first (the key directory's `replaceSessions` does) — and replacing the session we had.
   * Each device is owed an empty message ({@link takeEmptyMessages}), which carries the key
   * exchange; its answer completes the new session. For the user's request only: never in
   * reaction to a decryption error (XEP-0384 v0.9 §8). One transaction; resolves to the devices
   * whose session was replaced.
   */
  replaceSessions(owner: BareJid, deviceIds?: readonly number[]): Promise<number[]>
  /**
   * XEP-0384 v0.9 §6: the catch-up read the archive to its end. The one-time pre keys that key
   * exchanges decrypted with `fromCatchUp` used were kept for it (a second sender may have taken
   * the same one while we were offline); now they are deleted.
   */
  catchUpDone(): Promise<void>
  /** Rotates the signed pre key when it is older than the rotation period (or `force`). */
  rotateSignedPreKey(options?: { readonly now?: Date; readonly force?: boolean }): Promise<boolean>
  encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options?: OmemoEncryptOptions,
  ): Promise<EncryptResult>
}

export function omemoBackend(init: OmemoInit = {}): BackendFactory<OmemoBackend> {
  return (deps: BackendDeps) => new OmemoBackendImpl(deps, init)
}

class OmemoBackendImpl implements OmemoBackend {
  readonly namespace = NS_OMEMO2
  readonly capabilities = OMEMO_CAPABILITIES
  /** D-12: the OMEMO 0.3 key id of the same key pair (key-link.ts) */
  readonly keyLinks = [OMEMO_LEGACY_KEY_LINK] as const
  readonly crypto: CryptoProvider
  readonly #state: OmemoState
  readonly #policy: OmemoPolicy

  get account(): BareJid {
    return this.#state.config.account
  }

  constructor(deps: BackendDeps, init: OmemoInit) {
    this.crypto =
      init.crypto ?? defaultCryptoProvider(deps.random === undefined ? {} : { random: deps.random })
    this.#policy = { ...DEFAULT_OMEMO_POLICY, ...stripUndefined(init.policy) }
    const preKeyCount = init.preKeyCount ?? 100
    if (preKeyCount < 25 || preKeyCount > 1000) throw new RangeError('preKeyCount must be 25 … 1000')
    const crypto = this.crypto
    this.#state = new OmemoState(deps.store, {
      account: deps.store.account,
      crypto,
      clock: deps.now ?? (() => new Date()),
      random: (n) => crypto.randomBytes(n),
      ratchetLimits: { ...DEFAULT_RATCHET_LIMITS, ...stripUndefined(init.ratchetLimits) },
      xmlLimits: { ...DEFAULT_OMEMO_XML_LIMITS, ...stripUndefined(init.xmlLimits) },
      preKeyCount,
      refillThreshold: init.preKeyRefillThreshold ?? 99,
      rotationMs: (init.signedPreKeyRotationSeconds ?? 7 * 24 * 3600) * 1000,
      heartbeatAfter: init.heartbeatAfter ?? 53,
      rpad: init.rpad ?? {},
    })
  }

  // ——— own device ———

  async createDevice(
    options: { readonly deviceId?: number; readonly replace?: boolean } = {},
  ): Promise<{ readonly deviceId: number; readonly keyId: KeyId }> {
    const state = this.#state
    const { account, crypto, random } = state.config
    return state.tx(async (tx) => {
      const previous = await state.own(tx)
      if (options.replace !== true && previous !== undefined)
        throw new InvalidKeyIdError('OMEMO-OWN-DEVICE', `${account} already has an OMEMO 2 device`)
      const taken = new Set((await state.deviceList(tx, account))?.map((d) => d.id) ?? [])
      const deviceId = pickDeviceId(random, taken, options.deviceId)
      // sign bit clear: reachable from XEdDSA verifiers (libsignal, libomemo.js); see generateIdentity
      const identity = await generateIdentity(crypto, random)
      const spk = await state.newSpk(identity, 1)
      const pks: PreKeys = new Map()
      const next = await state.fillPreKeys(pks, 1)
      const own: OwnRecord = { deviceId, identity, spk, nextPreKeyId: next }
      await state.saveOwn(tx, own)
      await state.savePreKeys(tx, pks)
      const keyId = keyIdFromBytes(identity.edPub)
      await tx.setOwnKey(NS_OMEMO2, keyId)
      // a rotation: the replaced device leaves our device list (published next by the key directory)
      if (previous !== undefined && previous.deviceId !== deviceId) {
        const retired = new Set(await readRetired(tx))
        retired.add(previous.deviceId)
        retired.delete(deviceId)
        await tx.setState(OMEMO_STATE_NAMESPACE, RETIRED_KEY, utf8.encode(JSON.stringify([...retired])))
        const list = await state.deviceList(tx, account)
        if (list !== undefined)
          await state.saveDeviceList(
            tx,
            account,
            list.filter((d) => d.id !== previous.deviceId),
          )
      }
      return { deviceId, keyId }
    })
  }

  async ownDeviceId(): Promise<number | undefined> {
    return (await this.#state.own(this.#state.store))?.deviceId
  }

  async ownDeviceXeddsaCompatible(): Promise<boolean | undefined> {
    const own = await this.#state.own(this.#state.store)
    return own === undefined ? undefined : xeddsaCompatible(own.identity.edPub)
  }

  async ownCurve25519Identity(): Promise<
    { readonly pub: Uint8Array; readonly priv: Uint8Array } | undefined
  > {
    const own = await this.#state.own(this.#state.store)
    if (own === undefined) return undefined
    const priv = Uint8Array.from(own.identity.xPriv)
    priv[0] = (priv[0] as number) & 248
    priv[31] = ((priv[31] as number) & 127) | 64
    return { pub: await this.#state.config.crypto.x25519PublicKey(priv), priv }
  }

  retiredDeviceIds(): Promise<readonly number[]> {
    return readRetired(this.#state.store)
  }

  async ownKeys(_options?: AbortOptions): Promise<readonly KeyId[]> {
    const own = await this.#state.own(this.#state.store)
    return own === undefined ? [] : [keyIdFromBytes(own.identity.edPub)]
  }

  async ownBundle(): Promise<BundleData> {
    const state = this.#state
    const own = await state.requireOwn(state.store)
    const pks = await state.preKeys(state.store)
    return {
      spkId: own.spk.id,
      spk: own.spk.pub,
      spks: own.spk.sig,
      ik: own.identity.edPub,
      preKeys: [...pks].map(([id, k]) => ({ id, pub: k.pub })),
    }
  }

  async ownDeviceList(): Promise<DeviceListEntry[]> {
    const state = this.#state
    const own = await state.requireOwn(state.store)
    const list = (await state.deviceList(state.store, state.config.account)) ?? []
    return list.some((d) => d.id === own.deviceId) ? [...list] : [...list, { id: own.deviceId }]
  }

  async rotateSignedPreKey(
    options: { readonly now?: Date; readonly force?: boolean } = {},
  ): Promise<boolean> {
    const state = this.#state
    const now = (options.now ?? state.config.clock()).getTime()
    return state.tx(async (tx) => {
      const own = await state.requireOwn(tx)
      if (options.force !== true && now - own.spk.createdAt < state.config.rotationMs) return false
      const spk = await state.newSpk(own.identity, own.spk.id >= 0xffffffff ? 1 : own.spk.id + 1, now)
      await state.saveOwn(tx, { ...own, spk, oldSpk: own.spk })
      return true
    })
  }

  // ——— other devices (key material; levels are ATM's) ———

  async importDeviceList(
    ownerInput: BareJid,
    list: Element | readonly DeviceListEntry[],
  ): Promise<readonly KeyId[]> {
    const state = this.#state
    const owner = toBareJid(ownerInput, 'OMEMO-DEVICES')
    const entries = Array.isArray(list)
      ? [...(list as readonly DeviceListEntry[])]
      : parseDeviceList(list as Element, state.config.xmlLimits)
    return state.tx(async (tx) => {
      await state.saveDeviceList(tx, owner, entries)
      const keys = new Set<KeyId>()
      for (const { id } of entries) {
        const d = await state.device(tx, owner, id)
        if (d !== undefined) keys.add(keyIdFromBytes(d.ik))
      }
      return [...keys].sort()
    })
  }

  async importBundle(
    ownerInput: BareJid,
    deviceId: number,
    input: Element | BundleData,
    options: ImportBundleOptions = {},
  ): Promise<KeyId> {
    const state = this.#state
    const owner = toBareJid(ownerInput, 'OMEMO-BUNDLE')
    const bundle = isBundleData(input) ? input : parseBundle(input, state.config.xmlLimits)
    if (!(await verifySignedPreKey(this.crypto, { ...bundle })))
      throw new DecryptionError(
        'OMEMO-SPKS',
        `the signed pre key signature of ${owner}/${deviceId} does not verify`,
      )
    try {
      this.crypto.edwardsToMontgomeryPublic(bundle.ik)
    } catch (e) {
      throw new DecryptionError('OMEMO-BUNDLE', 'the identity key is not a valid Ed25519 point', { cause: e })
    }
    const keyId = keyIdFromBytes(bundle.ik)
    if (options.expectedKey !== undefined && keyId !== options.expectedKey)
      throw new DecryptionError(
        'OMEMO-BUNDLE',
        `the bundle of ${owner}/${deviceId} has another identity key than the one expected`,
      )
    return state.tx(async (tx) => {
      const known = await state.device(tx, owner, deviceId)
      // a device id that changed its identity key: a new key (its own trust decision), no old session
      if (known !== undefined && !bytesEqual(known.ik, bundle.ik))
        await state.deleteSession(tx, owner, deviceId)
      await state.saveDevice(tx, owner, deviceId, { ik: bundle.ik, bundle })
      return keyId
    })
  }

  async devices(ownerInput: BareJid): Promise<OmemoDevice[]> {
    const state = this.#state
    const owner = toBareJid(ownerInput, 'OMEMO-DEVICES')
    const tx = state.store
    return knownDevices(
      owner,
      (await state.deviceList(tx, owner))?.map((d) => d.id) ?? [],
      await state.deviceIds(tx, owner),
      async (id) => {
        const d = await state.device(tx, owner, id)
        const hasSession = await state.hasSession(tx, owner, id)
        return d === undefined ? { hasSession } : { hasSession, keyId: keyIdFromBytes(d.ik) }
      },
    )
  }

  /** The device ids in `owner`'s latest device list (XEP-0384 device ids: one space for OMEMO 2 and 0.3). */
  async endpointsOf(owner: BareJid, _options?: AbortOptions): Promise<readonly string[]> {
    return activeDeviceIds(await this.devices(owner))
  }

  async keysOf(owner: BareJid, _options?: AbortOptions): Promise<readonly KeyId[]> {
    return knownKeyIds(await this.devices(owner))
  }

  async resolveKeyId(ownerInput: BareJid, keyId: KeyId): Promise<KeyId | undefined> {
    const owner = toBareJid(ownerInput, 'OMEMO-KEY')
    const bytes = keyIdToBytes(keyId)
    if (bytes.length !== 32) return undefined
    const candidates: Uint8Array[] = []
    if (owner === this.account) {
      const own = await this.#state.own(this.#state.store)
      if (own !== undefined) candidates.push(own.identity.edPub)
    }
    for (const d of await this.devices(owner))
      if (d.keyId !== undefined) candidates.push(keyIdToBytes(d.keyId))
    for (const ik of candidates) {
      if (bytesEqual(ik, bytes)) return keyIdFromBytes(ik)
      if (bytesEqual(this.crypto.edwardsToMontgomeryPublic(ik), bytes)) return keyIdFromBytes(ik)
    }
    return undefined
  }

  // ——— messages ———

  encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options: OmemoEncryptOptions = {},
  ): Promise<EncryptResult> {
    return encryptMessage(this.#state, payload, to, options, this.#policy.acceptedLevels)
  }

  replaceSessions(owner: BareJid, deviceIds?: readonly number[]): Promise<number[]> {
    return replaceSessions(this.#state, toBareJid(owner, 'OMEMO-TO'), deviceIds)
  }

  async catchUpDone(): Promise<void> {
    const state = this.#state
    await state.tx((tx) => state.dropKeptPreKeys(tx))
  }

  takeEmptyMessages(): Promise<Array<{ readonly to: BareJid; readonly element: Element }>> {
    return takeEmptyMessages(this.#state)
  }

  decrypt(el: Element, stanza: StanzaAddressing, options: DecryptOptions = {}): Promise<DecryptedContent> {
    return decryptContent(this.#state, el, stanza, options, this.#policy)
  }

  decryptMessage(
    el: Element,
    stanza: StanzaAddressing,
    options: DecryptOptions = {},
  ): Promise<OmemoDecryptResult> {
    return decryptMessage(this.#state, el, stanza, options, this.#policy)
  }
}

const RETIRED_KEY = 'retired-own-devices'
const utf8 = new TextEncoder()

async function readRetired(tx: AccountTrustStore): Promise<number[]> {
  const bytes = await tx.getState(OMEMO_STATE_NAMESPACE, RETIRED_KEY)
  if (bytes === undefined) return []
  const ids: unknown = JSON.parse(new TextDecoder().decode(bytes))
  return Array.isArray(ids) ? ids.filter((n): n is number => Number.isInteger(n)) : []
}

function isBundleData(v: Element | BundleData): v is BundleData {
  return (v as BundleData).spk instanceof Uint8Array
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  const out: Record<string, unknown> = {}
  if (o !== undefined) for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as Partial<T>
}
