/**
 * The OMEMO 0.3 {@link EncryptionBackend} (`eu.siacs.conversations.axolotl`), composed of its
 * state ({@link LegacyState}: own device, other devices' identity keys and bundles, device lists,
 * libsignal session records, all in the store's backend state under the namespace `omemo03`),
 * {@link encryptMessage} and {@link decryptMessage}. The Signal protocol itself (X3DH, the
 * Double Ratchet, the WhisperMessage format) is libsignal-protocol-typescript's.
 *
 * Which devices a message is encrypted to comes from the trust store's levels (D-6, TM-15/TM-21);
 * the backend never writes a level: it stores key material and reports the key ids it learns
 * (from {@link LegacyOmemoBackend.importBundle}, {@link LegacyOmemoBackend.importDeviceList} and
 * `DecryptedContent.learnedKeys`), and ATM's `keysDiscovered` applies the security policy.
 */
import { KeyHelper } from '@privacyresearch/libsignal-protocol-typescript'
import {
  activeDeviceIds,
  type ImportBundleOptions,
  type KnownDevice,
  knownDevices,
  knownKeyIds,
  pickDeviceId,
  stateKey,
} from '@vouch/omemo-common'
import type {
  AbortOptions,
  BackendCapabilities,
  BackendDeps,
  BackendFactory,
  BareJid,
  DecryptedContent,
  DecryptOptions,
  Element,
  EncryptionBackend,
  EncryptOptions,
  EncryptResult,
  KeyId,
  StanzaAddressing,
  TrustLevel,
} from '@vouch/tm-core'
import {
  ACCEPTED_FOR_ENCRYPTION,
  DecryptionError,
  InvalidKeyIdError,
  randomBytes,
  toBareJid,
} from '@vouch/tm-core'
import {
  curveKeyPair,
  installCurve,
  installWebCrypto,
  type LegacyCurve,
  type LibsignalWebCrypto,
  verifySignature,
} from './curve.ts'
import { decryptContent, decryptMessage, fillPreKeys, type LegacyDecryptResult } from './decrypt.ts'
import { encryptMessage, replaceSessions, keyIdOf, takeEmptyMessages } from './encrypt.ts'
import { ab } from './signal-store.ts'
import { bytesEqual, LegacyState, type OwnRecord, type PreKeys, type SignedPreKeyRecord } from './state.ts'
import {
  DEFAULT_LEGACY_XML_LIMITS,
  type LegacyBundle,
  type LegacyXmlLimits,
  NS_AXOLOTL,
  parseBundle,
  parseDeviceList,
} from './wire.ts'

export type { LegacyDecryptResult } from './decrypt.ts'
export { LEGACY_STATE_NAMESPACE } from './state.ts'

export const LEGACY_OMEMO_CAPABILITIES: BackendCapabilities = Object.freeze({
  oneKeyPerIdentity: false,
  keyIdLength: 32,
  signsTrustMessages: false,
  encryptsToSelf: false,
  // the ratchet consumes each message key: a second delivery is rejected with rule REPLAY
  detectsReplay: true,
  // no envelope: the plaintext is the bare body text (no protected time, recipients or padding)
  protectsEnvelope: false,
  // so no <trust-message/> either: ATM sends trust messages about OMEMO 0.3 keys over another protocol (D-12)
  bodyOnly: true,
  // deployed clients put a hint for clients without OMEMO in the <body/> (Conversations' text)
  fallbackBody: 'I sent you an OMEMO encrypted message but your client doesn’t seem to support that.',
  displayName: 'OMEMO',
})

/** The OMEMO 0.3 security policy (STYLE rule 9): typed, safe by default, overridable per call. */
export interface LegacyOmemoPolicy {
  /** levels whose devices we encrypt to (chat default) */
  readonly acceptedLevels: readonly TrustLevel[]
}

export const DEFAULT_LEGACY_OMEMO_POLICY: LegacyOmemoPolicy = Object.freeze({
  acceptedLevels: ACCEPTED_FOR_ENCRYPTION,
})

export interface LegacyOmemoInit {
  readonly policy?: Partial<LegacyOmemoPolicy>
  /**
   * The curve libsignal-protocol-typescript uses in this process (its `setCurve` is global);
   * e.g. `nodeCurve()` from `@vouch/backend-omemo-legacy/node`. Default: whatever is installed
   * (the library's asm.js curve unless someone installed another).
   */
  readonly curve?: LegacyCurve
  /**
   * The Web Crypto libsignal uses in this process (its `setWebCrypto` is global too); e.g.
   * `nodeWebCrypto()` from `@vouch/backend-omemo-legacy/node`. Default: `globalThis.crypto`.
   */
  readonly webCrypto?: LibsignalWebCrypto
  readonly xmlLimits?: Partial<LegacyXmlLimits>
  /** pre keys in the bundle; default 100 (XEP-0384 v0.3: at least 20, Conversations keeps 100) */
  readonly preKeyCount?: number
  /** refill to {@link preKeyCount} once at most this many are left; default 99 (replace each used one) */
  readonly preKeyRefillThreshold?: number
  /** signed pre key lifetime in seconds; default 7 days */
  readonly signedPreKeyRotationSeconds?: number
  /** send an empty message after this many received without sending; default 53 */
  readonly heartbeatAfter?: number
}

/** A device of an account, as we know it (key id: the Curve25519 identity key, D-6). */
export type LegacyOmemoDevice = KnownDevice

export interface LegacyOmemoBackend extends EncryptionBackend {
  /** the account (bare JID) of the store this backend was made over */
  readonly account: BareJid
  /** Creates our device (identity, signed pre key, pre keys). Rejects if one exists (unless `replace`). */
  createDevice(options?: {
    readonly deviceId?: number
    readonly replace?: boolean
    /**
     * A Curve25519 private key (32 bytes; clamped here) to use as the identity instead of a fresh
     * one: the OMEMO 2 identity of the same device (`@vouch/backend-omemo`
     * `ownCurve25519Identity()`), so both versions share one identity (D-12) and one device id.
     */
    readonly identityPrivateKey?: Uint8Array
  }): Promise<{ readonly deviceId: number; readonly keyId: KeyId }>
  /** Our device id, or undefined before {@link createDevice}. */
  ownDeviceId(): Promise<number | undefined>
  /** Our bundle, to publish. */
  ownBundle(): Promise<LegacyBundle>
  /** Our account's device list with our device added. */
  ownDeviceList(): Promise<number[]>
  /** Stores an account's device list; resolves to the key ids of listed devices whose identity key is known. */
  importDeviceList(owner: BareJid, list: Element | readonly number[]): Promise<readonly KeyId[]>
  /**
   * Stores a device's bundle (key material) after checking its signed pre key signature (XEdDSA)
   * and resolves to its key id (D-6). No trust level is written (ATM's `keysDiscovered` does).
   * @throws DecryptionError `OMEMO03-BUNDLE`, `OMEMO03-SPKS`
   */
  importBundle(
    owner: BareJid,
    deviceId: number,
    bundle: Element | LegacyBundle,
    options?: ImportBundleOptions,
  ): Promise<KeyId>
  /** Known devices of `owner`. */
  devices(owner: BareJid): Promise<LegacyOmemoDevice[]>
  /** Decrypts and tells empty (key transport) messages apart. */
  decryptMessage(
    el: Element,
    stanza: StanzaAddressing,
    options?: DecryptOptions,
  ): Promise<LegacyDecryptResult>
  /** The empty messages we owe (key exchange answers, heartbeats), to send to each owner's bare JID. */
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
  /** The stored libsignal session record with a device (figures, tests): its JSON, or undefined. */
  sessionRecord(owner: BareJid, deviceId: number): Promise<string | undefined>
}

export function legacyOmemoBackend(init: LegacyOmemoInit = {}): BackendFactory<LegacyOmemoBackend> {
  if (init.curve !== undefined) installCurve(init.curve)
  if (init.webCrypto !== undefined) installWebCrypto(init.webCrypto)
  return (deps: BackendDeps) => new LegacyOmemoBackendImpl(deps, init)
}

async function newSignedPreKey(
  identity: OwnRecord['identity'],
  id: number,
  createdAt: number,
): Promise<SignedPreKeyRecord> {
  const k = await KeyHelper.generateSignedPreKey({ pubKey: ab(identity.pub), privKey: ab(identity.priv) }, id)
  return {
    id,
    pub: new Uint8Array(k.keyPair.pubKey),
    priv: new Uint8Array(k.keyPair.privKey),
    sig: new Uint8Array(k.signature),
    createdAt,
  }
}

class LegacyOmemoBackendImpl implements LegacyOmemoBackend {
  readonly namespace = NS_AXOLOTL
  readonly capabilities = LEGACY_OMEMO_CAPABILITIES
  readonly #state: LegacyState
  readonly #policy: LegacyOmemoPolicy

  get account(): BareJid {
    return this.#state.config.account
  }

  constructor(deps: BackendDeps, init: LegacyOmemoInit) {
    this.#policy = { ...DEFAULT_LEGACY_OMEMO_POLICY, ...stripUndefined(init.policy) }
    const preKeyCount = init.preKeyCount ?? 100
    if (preKeyCount < 20 || preKeyCount > 1000) throw new RangeError('preKeyCount must be 20 … 1000')
    this.#state = new LegacyState(deps.store, {
      account: deps.store.account,
      clock: deps.now ?? (() => new Date()),
      random: deps.random ?? randomBytes,
      xmlLimits: { ...DEFAULT_LEGACY_XML_LIMITS, ...stripUndefined(init.xmlLimits) },
      preKeyCount,
      refillThreshold: init.preKeyRefillThreshold ?? preKeyCount - 1,
      rotationMs: (init.signedPreKeyRotationSeconds ?? 7 * 24 * 3600) * 1000,
      heartbeatAfter: init.heartbeatAfter ?? 53,
    })
  }

  // ——— own device ———

  async createDevice(
    options: {
      readonly deviceId?: number
      readonly replace?: boolean
      readonly identityPrivateKey?: Uint8Array
    } = {},
  ): Promise<{ readonly deviceId: number; readonly keyId: KeyId }> {
    const state = this.#state
    const { account, random, clock } = state.config
    // key generation (async, the library's) before the transaction
    let identity: OwnRecord['identity']
    if (options.identityPrivateKey === undefined) {
      const idk = await KeyHelper.generateIdentityKeyPair()
      identity = { pub: new Uint8Array(idk.pubKey), priv: new Uint8Array(idk.privKey) }
    } else {
      if (options.identityPrivateKey.length !== 32)
        throw new RangeError('an identity private key is 32 bytes')
      const kp = await curveKeyPair(options.identityPrivateKey)
      identity = { pub: Uint8Array.of(0x05, ...kp.pub), priv: kp.priv }
    }
    const spk = await newSignedPreKey(identity, 1, clock().getTime())
    const pks: PreKeys = new Map()
    const next = await fillPreKeys(pks, 1, state.config.preKeyCount)
    return state.tx(async (tx) => {
      if (options.replace !== true && (await state.own(tx)) !== undefined)
        throw new InvalidKeyIdError('OMEMO03-OWN-DEVICE', `${account} already has an OMEMO 0.3 device`)
      const deviceId = pickDeviceId(
        random,
        new Set((await state.deviceList(tx, account)) ?? []),
        options.deviceId,
      )
      const own: OwnRecord = { deviceId, identity, spk, nextPreKeyId: next }
      await state.saveOwn(tx, own)
      await state.savePreKeys(tx, pks)
      const keyId = keyIdOf(identity.pub)
      await tx.setOwnKey(NS_AXOLOTL, keyId)
      return { deviceId, keyId }
    })
  }

  async ownDeviceId(): Promise<number | undefined> {
    return (await this.#state.own(this.#state.store))?.deviceId
  }

  async ownKeys(_options?: AbortOptions): Promise<readonly KeyId[]> {
    const own = await this.#state.own(this.#state.store)
    return own === undefined ? [] : [keyIdOf(own.identity.pub)]
  }

  async ownBundle(): Promise<LegacyBundle> {
    const state = this.#state
    const own = await state.requireOwn(state.store)
    const pks = await state.preKeys(state.store)
    return {
      signedPreKeyId: own.spk.id,
      signedPreKey: own.spk.pub,
      signedPreKeySignature: own.spk.sig,
      identityKey: own.identity.pub,
      preKeys: [...pks].map(([id, k]) => ({ id, key: k.pub })),
    }
  }

  async ownDeviceList(): Promise<number[]> {
    const state = this.#state
    const own = await state.requireOwn(state.store)
    const list = (await state.deviceList(state.store, state.config.account)) ?? []
    return list.includes(own.deviceId) ? [...list] : [...list, own.deviceId]
  }

  async rotateSignedPreKey(
    options: { readonly now?: Date; readonly force?: boolean } = {},
  ): Promise<boolean> {
    const state = this.#state
    const now = (options.now ?? state.config.clock()).getTime()
    const current = await state.requireOwn(state.store)
    if (options.force !== true && now - current.spk.createdAt < state.config.rotationMs) return false
    const id = current.spk.id >= 0xffffff ? 1 : current.spk.id + 1
    const spk = await newSignedPreKey(current.identity, id, now)
    return state.tx(async (tx) => {
      const own = await state.requireOwn(tx)
      if (own.spk.id !== current.spk.id) return false // rotated meanwhile
      await state.saveOwn(tx, { ...own, spk, oldSpk: own.spk })
      return true
    })
  }

  // ——— other devices (key material; levels are ATM's) ———

  async importDeviceList(ownerInput: BareJid, list: Element | readonly number[]): Promise<readonly KeyId[]> {
    const state = this.#state
    const owner = toBareJid(ownerInput, 'OMEMO03-DEVICES')
    const ids = Array.isArray(list)
      ? [...(list as readonly number[])]
      : parseDeviceList(list as Element, state.config.xmlLimits)
    return state.tx(async (tx) => {
      await state.saveDeviceList(tx, owner, ids)
      const keys = new Set<KeyId>()
      for (const id of ids) {
        const d = await state.device(tx, owner, id)
        if (d !== undefined) keys.add(keyIdOf(d.ik))
      }
      return [...keys].sort()
    })
  }

  async importBundle(
    ownerInput: BareJid,
    deviceId: number,
    input: Element | LegacyBundle,
    options: ImportBundleOptions = {},
  ): Promise<KeyId> {
    const state = this.#state
    const owner = toBareJid(ownerInput, 'OMEMO03-BUNDLE')
    const bundle = isBundle(input) ? input : parseBundle(input, state.config.xmlLimits)
    if (!(await verifyBundle(bundle)))
      throw new DecryptionError(
        'OMEMO03-SPKS',
        `the signed pre key signature of ${owner}/${deviceId} does not verify`,
      )
    const keyId = keyIdOf(bundle.identityKey)
    if (options.expectedKey !== undefined && keyId !== options.expectedKey)
      throw new DecryptionError(
        'OMEMO03-BUNDLE',
        `the bundle of ${owner}/${deviceId} has another identity key than the one expected`,
      )
    return state.tx(async (tx) => {
      const known = await state.device(tx, owner, deviceId)
      // a device id that changed its identity key: a new key (its own trust decision), no old session
      if (known !== undefined && !bytesEqual(known.ik, bundle.identityKey))
        await state.deleteSession(tx, owner, deviceId)
      await state.saveDevice(tx, owner, deviceId, { ik: bundle.identityKey, bundle })
      return keyId
    })
  }

  async devices(ownerInput: BareJid): Promise<LegacyOmemoDevice[]> {
    const state = this.#state
    const owner = toBareJid(ownerInput, 'OMEMO03-DEVICES')
    const tx = state.store
    return knownDevices(
      owner,
      (await state.deviceList(tx, owner)) ?? [],
      await state.deviceIds(tx, owner),
      async (id) => {
        const d = await state.device(tx, owner, id)
        const hasSession = await state.has(tx, stateKey.session(owner, id))
        return d === undefined ? { hasSession } : { hasSession, keyId: keyIdOf(d.ik) }
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

  async sessionRecord(ownerInput: BareJid, deviceId: number): Promise<string | undefined> {
    const owner = toBareJid(ownerInput, 'OMEMO03-DEVICES')
    return (await this.#state.session(this.#state.store, owner, deviceId))?.record
  }

  // ——— messages ———

  encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options: EncryptOptions = {},
  ): Promise<EncryptResult> {
    return encryptMessage(this.#state, payload, to, options, this.#policy.acceptedLevels)
  }

  replaceSessions(owner: BareJid, deviceIds?: readonly number[]): Promise<number[]> {
    return replaceSessions(this.#state, toBareJid(owner, 'OMEMO03-TO'), deviceIds)
  }

  async catchUpDone(): Promise<void> {
    const state = this.#state
    await state.tx((tx) => state.dropKeptPreKeys(tx))
  }

  takeEmptyMessages(): Promise<Array<{ readonly to: BareJid; readonly element: Element }>> {
    return takeEmptyMessages(this.#state)
  }

  decrypt(el: Element, stanza: StanzaAddressing, options: DecryptOptions = {}): Promise<DecryptedContent> {
    return decryptContent(this.#state, el, stanza, options)
  }

  decryptMessage(
    el: Element,
    stanza: StanzaAddressing,
    options: DecryptOptions = {},
  ): Promise<LegacyDecryptResult> {
    return decryptMessage(this.#state, el, stanza, options)
  }
}

/** XEdDSA check of a bundle's signed pre key (over its 33-byte form), with the curve libsignal uses. */
function verifyBundle(b: LegacyBundle): Promise<boolean> {
  return verifySignature(b.identityKey.subarray(1), b.signedPreKey, b.signedPreKeySignature)
}

function isBundle(v: Element | LegacyBundle): v is LegacyBundle {
  return (v as LegacyBundle).signedPreKey instanceof Uint8Array
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  const out: Record<string, unknown> = {}
  if (o !== undefined) for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as Partial<T>
}
