/**
 * The OMEMO 2 {@link EncryptionBackend}: own device (identity, signed pre key, pre keys), other
 * devices' bundles and device lists, sessions and skipped keys, all in the store's backend state
 * under the namespace `omemo2`, written in one `transaction()` per message. Which devices a
 * message is encrypted to comes from the trust store's levels under the policy (D-6, TM-15/TM-21).
 */
import { buildEnvelope, NS_SCE, openEnvelope } from '@vouch/sce'
import type {
  AbortOptions,
  AccountTrustStore,
  BackendCapabilities,
  BackendDeps,
  BackendFactory,
  BareJid,
  DecryptedContent,
  DecryptOptions,
  EncryptionBackend,
  EncryptOptions,
  EncryptResult,
  FullJid,
  KeyId,
  KeyRef,
  SecurityPolicy,
  StanzaAddressing,
  TrustLevel,
} from '@vouch/tm-core'
import {
  ACCEPTED_FOR_ENCRYPTION,
  DecryptionError,
  InvalidKeyIdError,
  Element,
  isVouchError,
  keyIdFromBytes,
  keyIdToBytes,
  parseJid,
  parseXml,
  toBareJid,
  UntrustedKeyError,
} from '@vouch/tm-core'
import { decryptPayload, EMPTY_KEY_MATERIAL, encryptPayload } from './payload.ts'
import { type CryptoProvider, nodeCryptoProvider } from './provider.ts'
import { DEFAULT_RATCHET_LIMITS, type RatchetLimits } from './ratchet.ts'
import {
  acceptKeyExchange,
  createActiveSession,
  deserializeSession,
  parseKeyExchange,
  type Session,
  sameKeyExchange,
  serializeSession,
  sessionDecrypt,
  sessionEncrypt,
} from './session.ts'
import {
  type BundleData,
  buildEncrypted,
  type DeviceListEntry,
  DEFAULT_OMEMO_XML_LIMITS,
  type EncryptedElement,
  type KeyElement,
  MAX_DEVICE_ID,
  NS_OMEMO2,
  type OmemoXmlLimits,
  parseBundle,
  parseDeviceList,
  parseEncrypted,
} from './xep0384.ts'
import {
  type IdentityKeyPair,
  identityFromSeed,
  signSignedPreKey,
  verifySignedPreKey,
  x25519KeyPair,
} from './x3dh.ts'

/** Namespace of our backend state in the store. */
export const OMEMO_STATE_NAMESPACE = 'omemo2'

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
  /** how new devices are recorded (D-11); `undefined`: the store's policy, else `toakafa` */
  readonly securityPolicy?: SecurityPolicy
}

export const DEFAULT_OMEMO_POLICY: OmemoPolicy = Object.freeze({
  acceptedLevels: ACCEPTED_FOR_ENCRYPTION,
  maxAgeSeconds: 7 * 24 * 3600,
  futureSkewSeconds: 600,
})

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
      readonly content: DecryptedContent & { readonly signed: true; readonly senderKey: KeyId }
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
  /** the account (bare JID) of the store this backend was made over */
  readonly account: BareJid
  /** Creates our device (identity, signed pre key, pre keys). Rejects if one exists (unless `replace`). */
  createDevice(options?: {
    readonly deviceId?: number
    readonly replace?: boolean
  }): Promise<{ readonly deviceId: number; readonly keyId: KeyId }>
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
  takeEmptyMessages(): Promise<Array<{ readonly to: BareJid; readonly element: Element }>>
  /** Rotates the signed pre key when it is older than the rotation period (or `force`). */
  rotateSignedPreKey(options?: { readonly now?: Date; readonly force?: boolean }): Promise<boolean>
  encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options?: OmemoEncryptOptions,
  ): Promise<EncryptResult>
}

// ——— state records ———

interface SpkRecord {
  readonly id: number
  readonly priv: Uint8Array
  readonly pub: Uint8Array
  readonly sig: Uint8Array
  readonly createdAt: number
}

interface OwnRecord {
  readonly deviceId: number
  readonly identity: IdentityKeyPair
  readonly spk: SpkRecord
  readonly oldSpk?: SpkRecord
  readonly nextPreKeyId: number
}

interface DeviceRecord {
  readonly ik: Uint8Array
  readonly bundle?: BundleData
}

const te = new TextEncoder()
const td = new TextDecoder()
const b64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64')
const unb64 = (s: unknown): Uint8Array => new Uint8Array(Buffer.from(String(s), 'base64'))
const json = (v: unknown): Uint8Array => te.encode(JSON.stringify(v))
const unjson = (u: Uint8Array): Record<string, unknown> => JSON.parse(td.decode(u)) as Record<string, unknown>

function spkToJson(s: SpkRecord): unknown {
  return { id: s.id, priv: b64(s.priv), pub: b64(s.pub), sig: b64(s.sig), at: s.createdAt }
}
function spkFromJson(o: Record<string, unknown>): SpkRecord {
  return {
    id: Number(o.id),
    priv: unb64(o.priv),
    pub: unb64(o.pub),
    sig: unb64(o.sig),
    createdAt: Number(o.at),
  }
}
function bundleToJson(b: BundleData): unknown {
  return {
    spkId: b.spkId,
    spk: b64(b.spk),
    spks: b64(b.spks),
    ik: b64(b.ik),
    pks: b.preKeys.map((k) => [k.id, b64(k.pub)]),
  }
}
function bundleFromJson(o: Record<string, unknown>): BundleData {
  return {
    spkId: Number(o.spkId),
    spk: unb64(o.spk),
    spks: unb64(o.spks),
    ik: unb64(o.ik),
    preKeys: (o.pks as [number, string][]).map(([id, pub]) => ({ id, pub: unb64(pub) })),
  }
}

const K_OWN = 'own'
const K_PREKEYS = 'prekeys'
const kDevices = (jid: BareJid): string => `devices/${jid}`
const kDevice = (jid: BareJid, id: number): string => `device/${jid}/${id}`
const kSession = (jid: BareJid, id: number): string => `session/${jid}/${id}`
const kEmpty = (jid: BareJid, id: number): string => `empty/${jid}/${id}`

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

export function omemoBackend(init: OmemoInit = {}): BackendFactory<OmemoBackend> {
  return (deps: BackendDeps) => new OmemoBackendImpl(deps, init)
}

class OmemoBackendImpl implements OmemoBackend {
  readonly namespace = NS_OMEMO2
  readonly capabilities = OMEMO_CAPABILITIES
  readonly crypto: CryptoProvider
  get account(): BareJid {
    return this.#account
  }
  readonly #store: AccountTrustStore
  readonly #account: BareJid
  readonly #clock: () => Date
  readonly #random: (n: number) => Uint8Array
  readonly #defaultPolicy: SecurityPolicy
  readonly #policy: OmemoPolicy
  readonly #ratchetLimits: RatchetLimits
  readonly #xmlLimits: OmemoXmlLimits
  readonly #preKeyCount: number
  readonly #refillThreshold: number
  readonly #rotationMs: number
  readonly #heartbeatAfter: number
  readonly #rpad: { minLength?: number; maxLength?: number; minEnvelopeBytes?: number }
  /** decoded records by state key, valid while the stored bytes are byte-identical */
  readonly #cache = new Map<string, { bytes: Uint8Array; value: unknown }>()

  constructor(deps: BackendDeps, init: OmemoInit) {
    this.#store = deps.store
    this.#account = deps.store.account
    this.#clock = deps.now ?? (() => new Date())
    this.crypto = init.crypto ?? nodeCryptoProvider(deps.random === undefined ? {} : { random: deps.random })
    this.#random = (n) => this.crypto.randomBytes(n)
    this.#defaultPolicy = deps.securityPolicy ?? 'toakafa'
    this.#policy = { ...DEFAULT_OMEMO_POLICY, ...stripUndefined(init.policy) }
    this.#ratchetLimits = { ...DEFAULT_RATCHET_LIMITS, ...stripUndefined(init.ratchetLimits) }
    this.#xmlLimits = { ...DEFAULT_OMEMO_XML_LIMITS, ...stripUndefined(init.xmlLimits) }
    this.#preKeyCount = init.preKeyCount ?? 100
    this.#refillThreshold = init.preKeyRefillThreshold ?? 99
    this.#rotationMs = (init.signedPreKeyRotationSeconds ?? 7 * 24 * 3600) * 1000
    this.#heartbeatAfter = init.heartbeatAfter ?? 53
    this.#rpad = init.rpad ?? {}
    if (this.#preKeyCount < 25 || this.#preKeyCount > 1000)
      throw new RangeError('preKeyCount must be 25 … 1000')
  }

  // ——— cached state access ———

  async #load<T>(tx: AccountTrustStore, key: string, decode: (b: Uint8Array) => T): Promise<T | undefined> {
    const bytes = await tx.getState(OMEMO_STATE_NAMESPACE, key)
    if (bytes === undefined) {
      this.#cache.delete(key)
      return undefined
    }
    const hit = this.#cache.get(key)
    if (hit !== undefined && bytesEqual(hit.bytes, bytes)) return hit.value as T
    const value = decode(bytes)
    this.#cache.set(key, { bytes, value })
    return value
  }

  async #save<T>(tx: AccountTrustStore, key: string, value: T, encode: (v: T) => Uint8Array): Promise<void> {
    const bytes = encode(value)
    await tx.setState(OMEMO_STATE_NAMESPACE, key, bytes)
    this.#cache.set(key, { bytes, value })
  }

  /**
   * Runs `fn` in one transaction (of `within`, the caller's transaction, when given: a nested
   * transaction joins it); on failure drops every cached record (some may be mutated).
   */
  async #tx<T>(fn: (tx: AccountTrustStore) => Promise<T>, within?: AccountTrustStore): Promise<T> {
    try {
      return await (within ?? this.#store).transaction(fn)
    } catch (e) {
      this.#cache.clear()
      throw e
    }
  }

  #decodeOwn = (u: Uint8Array): OwnRecord => {
    const o = unjson(u)
    const seed = unb64(o.seed)
    const rec: OwnRecord = {
      deviceId: Number(o.deviceId),
      identity: identityFromSeed(this.crypto, seed),
      spk: spkFromJson(o.spk as Record<string, unknown>),
      nextPreKeyId: Number(o.nextPreKeyId),
    }
    return o.oldSpk === undefined ? rec : { ...rec, oldSpk: spkFromJson(o.oldSpk as Record<string, unknown>) }
  }

  static #encodeOwn(r: OwnRecord): Uint8Array {
    return json({
      deviceId: r.deviceId,
      seed: b64(r.identity.seed as Uint8Array),
      spk: spkToJson(r.spk),
      ...(r.oldSpk === undefined ? {} : { oldSpk: spkToJson(r.oldSpk) }),
      nextPreKeyId: r.nextPreKeyId,
    })
  }

  async #own(tx: AccountTrustStore): Promise<OwnRecord | undefined> {
    return this.#load(tx, K_OWN, this.#decodeOwn)
  }

  async #requireOwn(tx: AccountTrustStore): Promise<OwnRecord> {
    const own = await this.#own(tx)
    if (own === undefined)
      throw new InvalidKeyIdError(
        'OMEMO-OWN-DEVICE',
        `${this.#account} has no OMEMO 2 device yet (createDevice)`,
      )
    return own
  }

  async #preKeys(tx: AccountTrustStore): Promise<Map<number, { priv: Uint8Array; pub: Uint8Array }>> {
    const m = await this.#load(tx, K_PREKEYS, (u) => {
      const o = unjson(u) as Record<string, [string, string]>
      return new Map(
        Object.entries(o).map(([id, [priv, pub]]) => [Number(id), { priv: unb64(priv), pub: unb64(pub) }]),
      )
    })
    return m ?? new Map()
  }

  async #savePreKeys(
    tx: AccountTrustStore,
    m: Map<number, { priv: Uint8Array; pub: Uint8Array }>,
  ): Promise<void> {
    await this.#save(tx, K_PREKEYS, m, (v) =>
      json(Object.fromEntries([...v].map(([id, k]) => [id, [b64(k.priv), b64(k.pub)]]))),
    )
  }

  async #device(tx: AccountTrustStore, owner: BareJid, id: number): Promise<DeviceRecord | undefined> {
    return this.#load(tx, kDevice(owner, id), (u) => {
      const o = unjson(u)
      const ik = unb64(o.ik)
      return o.bundle === undefined
        ? { ik }
        : { ik, bundle: bundleFromJson(o.bundle as Record<string, unknown>) }
    })
  }

  async #saveDevice(tx: AccountTrustStore, owner: BareJid, id: number, d: DeviceRecord): Promise<void> {
    await this.#save(tx, kDevice(owner, id), d, (v) =>
      json({ ik: b64(v.ik), ...(v.bundle === undefined ? {} : { bundle: bundleToJson(v.bundle) }) }),
    )
  }

  async #deviceList(tx: AccountTrustStore, owner: BareJid): Promise<DeviceListEntry[] | undefined> {
    return this.#load(tx, kDevices(owner), (u) => JSON.parse(td.decode(u)) as DeviceListEntry[])
  }

  async #session(tx: AccountTrustStore, owner: BareJid, id: number): Promise<Session | undefined> {
    return this.#load(tx, kSession(owner, id), deserializeSession)
  }

  async #saveSession(tx: AccountTrustStore, owner: BareJid, id: number, s: Session): Promise<void> {
    await this.#save(tx, kSession(owner, id), s, serializeSession)
  }

  // ——— trust ———

  async #newKeyLevel(
    tx: AccountTrustStore,
    owner: BareJid,
  ): Promise<{ level: TrustLevel; policy: SecurityPolicy }> {
    const sp = this.#policy.securityPolicy ?? (await tx.getSecurityPolicy(NS_OMEMO2)) ?? this.#defaultPolicy
    if (sp === 'authenticated-only') return { level: 'automatically-distrusted', policy: sp }
    const once = await tx.wasAuthenticatedOnce(NS_OMEMO2, owner)
    return { level: once ? 'automatically-distrusted' : 'automatically-trusted', policy: sp }
  }

  async #recordKey(tx: AccountTrustStore, owner: BareJid, ik: Uint8Array): Promise<KeyId> {
    const keyId = keyIdFromBytes(ik)
    const { level, policy } = await this.#newKeyLevel(tx, owner)
    await tx.addKeys(
      NS_OMEMO2,
      owner,
      [keyId],
      { provenance: { kind: 'policy', policy }, at: this.#clock().getTime() },
      level,
    )
    return keyId
  }

  // ——— own device ———

  async createDevice(
    options: { readonly deviceId?: number; readonly replace?: boolean } = {},
  ): Promise<{ readonly deviceId: number; readonly keyId: KeyId }> {
    return this.#tx(async (tx) => {
      if (options.replace !== true && (await this.#own(tx)) !== undefined)
        throw new InvalidKeyIdError('OMEMO-OWN-DEVICE', `${this.#account} already has an OMEMO 2 device`)
      const taken = new Set((await this.#deviceList(tx, this.#account))?.map((d) => d.id) ?? [])
      let deviceId = options.deviceId
      if (deviceId !== undefined && (!Number.isInteger(deviceId) || deviceId < 1 || deviceId > MAX_DEVICE_ID))
        throw new RangeError('a device id is 1 … 2³¹−1')
      while (deviceId === undefined || (options.deviceId === undefined && taken.has(deviceId))) {
        const b = this.#random(4)
        const v =
          (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) &
          MAX_DEVICE_ID
        deviceId = v === 0 ? undefined : v
      }
      const identity = identityFromSeed(this.crypto, this.#random(32))
      const spk = this.#newSpk(identity, 1)
      const own: OwnRecord = { deviceId, identity, spk, nextPreKeyId: 1 }
      const pks = new Map<number, { priv: Uint8Array; pub: Uint8Array }>()
      const next = this.#fillPreKeys(pks, own.nextPreKeyId)
      await this.#save(tx, K_OWN, { ...own, nextPreKeyId: next }, OmemoBackendImpl.#encodeOwn)
      await this.#savePreKeys(tx, pks)
      const keyId = keyIdFromBytes(identity.edPub)
      await tx.setOwnKey(NS_OMEMO2, keyId)
      return { deviceId, keyId }
    })
  }

  #newSpk(identity: IdentityKeyPair, id: number): SpkRecord {
    const kp = x25519KeyPair(this.crypto)
    return {
      id,
      priv: kp.priv,
      pub: kp.pub,
      sig: signSignedPreKey(this.crypto, identity, kp.pub),
      createdAt: this.#clock().getTime(),
    }
  }

  /** Adds pre keys up to the count; returns the next free id. */
  #fillPreKeys(pks: Map<number, { priv: Uint8Array; pub: Uint8Array }>, nextId: number): number {
    let id = nextId
    while (pks.size < this.#preKeyCount) {
      pks.set(id, x25519KeyPair(this.crypto))
      id = id >= 0xffffffff ? 1 : id + 1
    }
    return id
  }

  async ownDeviceId(): Promise<number | undefined> {
    return (await this.#own(this.#store))?.deviceId
  }

  async ownKeys(_options?: AbortOptions): Promise<readonly KeyId[]> {
    const own = await this.#own(this.#store)
    return own === undefined ? [] : [keyIdFromBytes(own.identity.edPub)]
  }

  async ownBundle(): Promise<BundleData> {
    const own = await this.#requireOwn(this.#store)
    const pks = await this.#preKeys(this.#store)
    return {
      spkId: own.spk.id,
      spk: own.spk.pub,
      spks: own.spk.sig,
      ik: own.identity.edPub,
      preKeys: [...pks].map(([id, k]) => ({ id, pub: k.pub })),
    }
  }

  async ownDeviceList(): Promise<DeviceListEntry[]> {
    const own = await this.#requireOwn(this.#store)
    const list = (await this.#deviceList(this.#store, this.#account)) ?? []
    return list.some((d) => d.id === own.deviceId) ? [...list] : [...list, { id: own.deviceId }]
  }

  async rotateSignedPreKey(
    options: { readonly now?: Date; readonly force?: boolean } = {},
  ): Promise<boolean> {
    const now = (options.now ?? this.#clock()).getTime()
    return this.#tx(async (tx) => {
      const own = await this.#requireOwn(tx)
      if (options.force !== true && now - own.spk.createdAt < this.#rotationMs) return false
      const spk = {
        ...this.#newSpk(own.identity, own.spk.id >= 0xffffffff ? 1 : own.spk.id + 1),
        createdAt: now,
      }
      await this.#save(tx, K_OWN, { ...own, spk, oldSpk: own.spk }, OmemoBackendImpl.#encodeOwn)
      return true
    })
  }

  // ——— other devices ———

  async importDeviceList(ownerInput: BareJid, list: Element | readonly DeviceListEntry[]): Promise<void> {
    const owner = toBareJid(ownerInput, 'OMEMO-DEVICES')
    const entries = Array.isArray(list)
      ? [...(list as readonly DeviceListEntry[])]
      : parseDeviceList(list as Element, this.#xmlLimits)
    await this.#tx(async (tx) => {
      await this.#save(tx, kDevices(owner), entries, (v) => json(v))
    })
  }

  async importBundle(ownerInput: BareJid, deviceId: number, input: Element | BundleData): Promise<KeyId> {
    const owner = toBareJid(ownerInput, 'OMEMO-BUNDLE')
    const bundle = isBundleData(input) ? input : parseBundle(input, this.#xmlLimits)
    if (!verifySignedPreKey(this.crypto, { ...bundle }))
      throw new DecryptionError(
        'OMEMO-SPKS',
        `the signed pre key signature of ${owner}/${deviceId} does not verify`,
      )
    try {
      this.crypto.edwardsToMontgomeryPublic(bundle.ik)
    } catch (e) {
      throw new DecryptionError('OMEMO-BUNDLE', 'the identity key is not a valid Ed25519 point', { cause: e })
    }
    return this.#tx(async (tx) => {
      const known = await this.#device(tx, owner, deviceId)
      if (known !== undefined && !bytesEqual(known.ik, bundle.ik)) {
        // a device id that changed its identity key: a new key (its own trust decision), no old session
        await tx.deleteState(OMEMO_STATE_NAMESPACE, kSession(owner, deviceId))
        this.#cache.delete(kSession(owner, deviceId))
      }
      await this.#saveDevice(tx, owner, deviceId, { ik: bundle.ik, bundle })
      return this.#recordKey(tx, owner, bundle.ik)
    })
  }

  async devices(ownerInput: BareJid): Promise<OmemoDevice[]> {
    const owner = toBareJid(ownerInput, 'OMEMO-DEVICES')
    const tx = this.#store
    const list = new Set((await this.#deviceList(tx, owner))?.map((d) => d.id) ?? [])
    const ids = new Set<number>(list)
    for (const k of await tx.listState(OMEMO_STATE_NAMESPACE, `device/${owner}/`))
      ids.add(Number(k.slice(k.lastIndexOf('/') + 1)))
    const out: OmemoDevice[] = []
    for (const id of [...ids].sort((a, b) => a - b)) {
      const d = await this.#device(tx, owner, id)
      const hasSession = (await tx.getState(OMEMO_STATE_NAMESPACE, kSession(owner, id))) !== undefined
      const base = { owner, deviceId: id, active: list.has(id), hasSession }
      out.push(d === undefined ? base : { ...base, keyId: keyIdFromBytes(d.ik) })
    }
    return out
  }

  async keysOf(owner: BareJid, _options?: AbortOptions): Promise<readonly KeyId[]> {
    const ids = new Set<KeyId>()
    for (const d of await this.devices(owner)) if (d.keyId !== undefined) ids.add(d.keyId)
    return [...ids].sort()
  }

  async resolveKeyId(ownerInput: BareJid, keyId: KeyId): Promise<KeyId | undefined> {
    const owner = toBareJid(ownerInput, 'OMEMO-KEY')
    const bytes = keyIdToBytes(keyId)
    if (bytes.length !== 32) return undefined
    const candidates: Uint8Array[] = []
    if (owner === this.#account) {
      const own = await this.#own(this.#store)
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

  // ——— encryption ———

  async encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options: OmemoEncryptOptions = {},
  ): Promise<EncryptResult> {
    if ((options.mode ?? 'signcrypt') !== 'signcrypt')
      throw new RangeError(
        `OMEMO 2 only offers 'signcrypt' (authenticated encryption), not '${options.mode}'`,
      )
    const accepted = new Set(options.acceptedLevels ?? this.#policy.acceptedLevels)
    // TM-15/TM-21: with an explicit key list, no other device (own ones included) is encrypted to
    const only =
      options.onlyKeys === undefined
        ? undefined
        : new Set(
            options.onlyKeys
              .filter((k) => k.encryption === NS_OMEMO2)
              .map((k) => `${toBareJid(k.owner, 'OMEMO-TO')} ${k.keyId}`),
          )
    const now = options.now ?? this.#clock()
    const recipients = [...new Set(to.map((j) => toBareJid(j, 'OMEMO-TO')))]
    if (recipients.length === 0) throw new RangeError('no recipient')
    const sceTo = options.sceTo ?? (recipients[0] as BareJid)
    const envelope = buildEnvelope({
      content: payload,
      from: this.#account,
      to: sceTo,
      time: now,
      rpad: this.#rpad,
      random: this.#random,
    })
    const sealed = encryptPayload(this.crypto, te.encode(envelope.toString()))

    return this.#tx(async (tx) => {
      const own = await this.#requireOwn(tx)
      const owners = recipients.includes(this.#account) ? recipients : [...recipients, this.#account]
      const keys = new Map<BareJid, KeyElement[]>()
      const refs: KeyRef[] = []
      for (const owner of owners) {
        const levels = new Map(
          (await tx.getKeys(NS_OMEMO2, { owners: [owner] })).map((r) => [r.keyId, r.level] as const),
        )
        const list = await this.#deviceList(tx, owner)
        const ids = list?.map((d) => d.id) ?? []
        const elements: KeyElement[] = []
        let firstKnown: KeyId | undefined
        for (const id of ids) {
          if (owner === this.#account && id === own.deviceId) continue
          const dev = await this.#device(tx, owner, id)
          if (dev === undefined) continue
          const keyId = keyIdFromBytes(dev.ik)
          firstKnown ??= keyId
          if (!accepted.has(levels.get(keyId) ?? 'undecided')) continue
          if (only !== undefined && !only.has(`${owner} ${keyId}`)) continue
          let session = await this.#session(tx, owner, id)
          if (session === undefined || !bytesEqual(session.peerIk, dev.ik)) {
            if (dev.bundle === undefined || dev.bundle.preKeys.length === 0) continue
            session = createActiveSession(this.crypto, own.identity, dev.bundle)
          }
          const k = sessionEncrypt(this.crypto, session, sealed.keyMaterial)
          await this.#saveSession(tx, owner, id, session)
          elements.push({ rid: id, kex: k.kex, data: k.bytes })
          refs.push({ encryption: NS_OMEMO2, owner, keyId })
        }
        if (elements.length === 0 && owner !== this.#account)
          throw new UntrustedKeyError(owner, firstKnown ?? ('' as KeyId))
        if (elements.length > 0) keys.set(owner, elements)
      }
      const el: EncryptedElement = { sid: own.deviceId, keys, payload: sealed.ciphertext }
      return { element: buildEncrypted(el), recipients: refs }
    })
  }

  async takeEmptyMessages(): Promise<Array<{ readonly to: BareJid; readonly element: Element }>> {
    const out: Array<{ to: BareJid; element: Element }> = []
    for (const key of await this.#store.listState(OMEMO_STATE_NAMESPACE, 'empty/')) {
      const rest = key.slice('empty/'.length)
      const owner = rest.slice(0, rest.lastIndexOf('/')) as BareJid
      const id = Number(rest.slice(rest.lastIndexOf('/') + 1))
      const el = await this.#tx(async (tx) => {
        await tx.deleteState(OMEMO_STATE_NAMESPACE, key)
        const own = await this.#requireOwn(tx)
        const session = await this.#session(tx, owner, id)
        if (session === undefined) return undefined
        const k = sessionEncrypt(this.crypto, session, EMPTY_KEY_MATERIAL)
        await this.#saveSession(tx, owner, id, session)
        return buildEncrypted({
          sid: own.deviceId,
          keys: new Map([[owner, [{ rid: id, kex: k.kex, data: k.bytes }]]]),
        })
      })
      if (el !== undefined) out.push({ to: owner, element: el })
    }
    return out
  }

  // ——— decryption ———

  async decrypt(
    el: Element,
    stanza: StanzaAddressing,
    options: DecryptOptions = {},
  ): Promise<DecryptedContent> {
    const r = await this.decryptMessage(el, stanza, options)
    if (r.kind === 'content') return r.content
    // an empty message (heartbeat or key exchange answer) only advanced the session
    return {
      content: new Element('content', { xmlns: NS_SCE }),
      payload: [],
      senderJid: r.senderJid,
      carrier: NS_OMEMO2,
      encrypted: true,
      mode: 'signcrypt',
      signed: true,
      senderKey: r.senderKey,
      sessionOnly: true,
    }
  }

  async decryptMessage(
    el: Element,
    stanza: StanzaAddressing,
    options: DecryptOptions = {},
  ): Promise<OmemoDecryptResult> {
    const m = parseEncrypted(el, this.#xmlLimits)
    const sender = toBareJid(stanza.from, 'OMEMO-FROM')
    const fromParsed = parseJid(stanza.from, 'OMEMO-FROM')
    const senderFullJid = fromParsed.resource === undefined ? undefined : (stanza.from as FullJid)
    const expectedTo = toBareJid(options.expectedTo ?? stanza.to, 'OMEMO-TO')
    const maxAge = options.maxAgeSeconds ?? this.#policy.maxAgeSeconds
    const skew = options.futureSkewSeconds ?? this.#policy.futureSkewSeconds
    const now = options.now ?? this.#clock()

    return this.#tx(async (tx) => {
      const own = await this.#requireOwn(tx)
      const mine = m.keys.get(this.#account)?.filter((k) => k.rid === own.deviceId) ?? []
      if (mine.length === 0)
        throw new DecryptionError(
          'OMEMO-NOT-FOR-US',
          `no <key/> for our device ${own.deviceId} of ${this.#account}`,
        )
      if (mine.length > 1) throw new DecryptionError('OMEMO-XML', 'more than one <key/> for our device')
      if (sender === this.#account && m.sid === own.deviceId)
        throw new DecryptionError('OMEMO-OWN', 'a message from our own device')
      const key = mine[0] as KeyElement
      let session: Session
      let keyMaterial: Uint8Array
      let bundleChanged = false
      const known = await this.#device(tx, sender, m.sid)
      if (key.kex) {
        const kex = parseKeyExchange(key.data)
        if (known !== undefined && !bytesEqual(known.ik, kex.ik))
          throw new DecryptionError(
            'OMEMO-KEX',
            `the key exchange's identity key is not the one known for ${sender}/${m.sid}`,
          )
        const existing = await this.#session(tx, sender, m.sid)
        if (
          existing !== undefined &&
          existing.initiation === 'passive' &&
          sameKeyExchange(existing.kex, kex)
        ) {
          keyMaterial = sessionDecrypt(this.crypto, existing, kex.message, this.#ratchetLimits)
          session = existing
        } else {
          const spk =
            own.spk.id === kex.spkId ? own.spk : own.oldSpk?.id === kex.spkId ? own.oldSpk : undefined
          if (spk === undefined) throw new DecryptionError('OMEMO-KEX', `no signed pre key ${kex.spkId}`)
          const pks = await this.#preKeys(tx)
          const pk = pks.get(kex.pkId)
          if (pk === undefined)
            throw new DecryptionError(
              'OMEMO-KEX',
              `no pre key ${kex.pkId} (a key exchange needs an unused one-time pre key)`,
            )
          const accepted = acceptKeyExchange(
            this.crypto,
            own.identity,
            kex,
            { spk, pkPriv: pk.priv },
            this.#ratchetLimits,
          )
          session = accepted.session
          keyMaterial = accepted.plaintext
          const left = new Map(pks)
          left.delete(kex.pkId)
          let next = own.nextPreKeyId
          if (left.size <= this.#refillThreshold) next = this.#fillPreKeys(left, next)
          await this.#savePreKeys(tx, left)
          if (next !== own.nextPreKeyId)
            await this.#save(tx, K_OWN, { ...own, nextPreKeyId: next }, OmemoBackendImpl.#encodeOwn)
          bundleChanged = true
          if (known === undefined) await this.#saveDevice(tx, sender, m.sid, { ik: kex.ik })
          await this.#recordKey(tx, sender, kex.ik)
        }
        // answer every key exchange with an empty message (XEP-0384 §"Key exchange")
        await tx.setState(OMEMO_STATE_NAMESPACE, kEmpty(sender, m.sid), new Uint8Array(0))
      } else {
        const existing = await this.#session(tx, sender, m.sid)
        if (existing === undefined)
          throw new DecryptionError('OMEMO-NO-SESSION', `no session with ${sender}/${m.sid}`)
        keyMaterial = sessionDecrypt(this.crypto, existing, key.data, this.#ratchetLimits)
        session = existing
      }
      if (session.ratchet.receivedSinceSend >= this.#heartbeatAfter)
        await tx.setState(OMEMO_STATE_NAMESPACE, kEmpty(sender, m.sid), new Uint8Array(0))
      await this.#saveSession(tx, sender, m.sid, session)
      const senderKey = keyIdFromBytes(session.peerIk)

      if (m.payload === undefined) {
        // XEP-0384 §"Empty OMEMO messages": the ratchet carries 32 zero bytes and nothing else. A
        // real message whose <payload/> was stripped (by a server) carries other key material: it
        // is rejected and the ratchet step is not committed, so the genuine copy still decrypts.
        if (!bytesEqual(keyMaterial, EMPTY_KEY_MATERIAL))
          throw new DecryptionError(
            'OMEMO-PAYLOAD',
            'a message without <payload/> whose key material is not that of an empty message',
          )
        return {
          kind: 'empty',
          senderJid: sender,
          senderKey,
          senderDeviceId: m.sid,
          keyExchange: key.kex,
          bundleChanged,
        }
      }
      const plaintext = decryptPayload(this.crypto, m.payload, keyMaterial)
      let opened: ReturnType<typeof openEnvelope>
      try {
        opened = openEnvelope(parseXml(td.decode(plaintext)), {
          stanzaFrom: sender,
          stanzaTo: expectedTo,
          now,
          marginSeconds: Math.max(maxAge, skew),
        })
      } catch (e) {
        if (isVouchError(e) && e.name !== 'LimitExceededError')
          throw new DecryptionError(e.rule ?? 'SCE', `the SCE envelope is rejected: ${e.message}`, {
            cause: e,
          })
        throw e
      }
      const time = opened.time as Date
      const age = (now.getTime() - time.getTime()) / 1000
      if (age > maxAge)
        throw new DecryptionError('SCE-1', `the message is ${Math.round(age)} s old, over ${maxAge} s`)
      if (-age > skew)
        throw new DecryptionError('SCE-1', `the message is dated ${Math.round(-age)} s in the future`)
      const content = {
        content: opened.content,
        payload: opened.content.children.filter((c): c is Element => typeof c !== 'string'),
        senderJid: sender,
        ...(senderFullJid === undefined ? {} : { senderFullJid }),
        carrier: NS_OMEMO2,
        encrypted: true,
        mode: 'signcrypt' as const,
        time,
        to: opened.to === undefined ? [] : [opened.to],
        rpadLength: opened.rpadLength,
        signed: true as const,
        senderKey,
      }
      return { kind: 'content', content, senderDeviceId: m.sid, keyExchange: key.kex, bundleChanged }
    }, options.store)
  }
}

function isBundleData(v: Element | BundleData): v is BundleData {
  return (v as BundleData).spk instanceof Uint8Array
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  const out: Record<string, unknown> = {}
  if (o !== undefined) for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as Partial<T>
}
