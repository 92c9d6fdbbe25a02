/**
 * The OMEMO 2 backend's state: our own device (identity, signed pre keys, pre keys), other
 * devices' identity keys and bundles, device lists, sessions and the empty messages we owe, all in
 * the store's backend state under {@link OMEMO_STATE_NAMESPACE}. Decoded records are cached while
 * their stored bytes stay byte-identical; {@link OmemoState.tx} runs one transaction (joining the
 * caller's when given) and drops the cache when it fails.
 *
 * Key material only: trust levels are ATM's (the backend reads them, never writes them).
 */
import { base64 } from '@scure/base'
import type { AccountTrustStore, BareJid } from '@vouch/tm-core'
import { InvalidKeyIdError } from '@vouch/tm-core'
import type { CryptoProvider } from './provider.ts'
import type { RatchetLimits } from './ratchet.ts'
import { deserializeSession, type Session, serializeSession } from './session.ts'
import type { BundleData, DeviceListEntry, OmemoXmlLimits } from './xep0384.ts'
import { type IdentityKeyPair, identityFromSeed, signSignedPreKey, x25519KeyPair } from './x3dh.ts'

/** Namespace of our backend state in the store. */
export const OMEMO_STATE_NAMESPACE = 'omemo2'

// ——— records ———

export interface SpkRecord {
  readonly id: number
  readonly priv: Uint8Array
  readonly pub: Uint8Array
  readonly sig: Uint8Array
  readonly createdAt: number
}

export interface OwnRecord {
  readonly deviceId: number
  readonly identity: IdentityKeyPair
  readonly spk: SpkRecord
  readonly oldSpk?: SpkRecord
  readonly nextPreKeyId: number
}

export interface DeviceRecord {
  /** the device's Ed25519 identity key (its key id, D-6) */
  readonly ik: Uint8Array
  readonly bundle?: BundleData
}

export type PreKeys = Map<number, { priv: Uint8Array; pub: Uint8Array }>

/** The backend's settings, resolved from `OmemoInit` and `BackendDeps`. */
export interface OmemoConfig {
  readonly account: BareJid
  readonly crypto: CryptoProvider
  readonly clock: () => Date
  readonly random: (n: number) => Uint8Array
  readonly ratchetLimits: RatchetLimits
  readonly xmlLimits: OmemoXmlLimits
  readonly preKeyCount: number
  readonly refillThreshold: number
  readonly rotationMs: number
  readonly heartbeatAfter: number
  readonly rpad: { minLength?: number; maxLength?: number; minEnvelopeBytes?: number }
}

// ——— codecs ———

const te = new TextEncoder()
export const td = new TextDecoder()
export const utf8 = (s: string): Uint8Array => te.encode(s)
const b64 = (u: Uint8Array): string => base64.encode(u)
const unb64 = (s: unknown): Uint8Array => base64.decode(String(s))
const json = (v: unknown): Uint8Array => te.encode(JSON.stringify(v))
const unjson = (u: Uint8Array): Record<string, unknown> => JSON.parse(td.decode(u)) as Record<string, unknown>

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

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
function encodeOwn(r: OwnRecord): Uint8Array {
  return json({
    deviceId: r.deviceId,
    seed: b64(r.identity.seed as Uint8Array),
    spk: spkToJson(r.spk),
    ...(r.oldSpk === undefined ? {} : { oldSpk: spkToJson(r.oldSpk) }),
    nextPreKeyId: r.nextPreKeyId,
  })
}
const encodePreKeys = (v: PreKeys): Uint8Array =>
  json(Object.fromEntries([...v].map(([id, k]) => [id, [b64(k.priv), b64(k.pub)]])))
function decodePreKeys(u: Uint8Array): PreKeys {
  const o = unjson(u) as Record<string, [string, string]>
  return new Map(
    Object.entries(o).map(([id, [priv, pub]]) => [Number(id), { priv: unb64(priv), pub: unb64(pub) }]),
  )
}
function decodeDevice(u: Uint8Array): DeviceRecord {
  const o = unjson(u)
  const ik = unb64(o.ik)
  return o.bundle === undefined ? { ik } : { ik, bundle: bundleFromJson(o.bundle as Record<string, unknown>) }
}
const encodeDevice = (v: DeviceRecord): Uint8Array =>
  json({ ik: b64(v.ik), ...(v.bundle === undefined ? {} : { bundle: bundleToJson(v.bundle) }) })
const decodeDeviceList = (u: Uint8Array): DeviceListEntry[] => JSON.parse(td.decode(u)) as DeviceListEntry[]

// ——— state keys ———

const K_OWN = 'own'
const K_PREKEYS = 'prekeys'
const kDevices = (jid: BareJid): string => `devices/${jid}`
const kDevice = (jid: BareJid, id: number): string => `device/${jid}/${id}`
const kSession = (jid: BareJid, id: number): string => `session/${jid}/${id}`
const kEmpty = (jid: BareJid, id: number): string => `empty/${jid}/${id}`
const EMPTY_PREFIX = 'empty/'
const NOTHING = new Uint8Array(0)

/** Typed, cached access to the backend state; every method reads and writes through `tx`. */
export class OmemoState {
  readonly store: AccountTrustStore
  readonly config: OmemoConfig
  /** decoded records by state key, valid while the stored bytes are byte-identical */
  readonly #cache = new Map<string, { bytes: Uint8Array; value: unknown }>()

  constructor(store: AccountTrustStore, config: OmemoConfig) {
    this.store = store
    this.config = config
  }

  /**
   * Runs `fn` in one transaction (of `within`, the caller's transaction, when given: a nested
   * transaction joins it); on failure drops every cached record (some may be mutated).
   */
  async tx<T>(fn: (tx: AccountTrustStore) => Promise<T>, within?: AccountTrustStore): Promise<T> {
    try {
      return await (within ?? this.store).transaction(fn)
    } catch (e) {
      this.#cache.clear()
      throw e
    }
  }

  async #load<T>(
    tx: AccountTrustStore,
    key: string,
    decode: (b: Uint8Array) => T | Promise<T>,
  ): Promise<T | undefined> {
    const bytes = await tx.getState(OMEMO_STATE_NAMESPACE, key)
    if (bytes === undefined) {
      this.#cache.delete(key)
      return undefined
    }
    const hit = this.#cache.get(key)
    if (hit !== undefined && bytesEqual(hit.bytes, bytes)) return hit.value as T
    const value = await decode(bytes)
    this.#cache.set(key, { bytes, value })
    return value
  }

  async #save<T>(tx: AccountTrustStore, key: string, value: T, encode: (v: T) => Uint8Array): Promise<void> {
    const bytes = encode(value)
    await tx.setState(OMEMO_STATE_NAMESPACE, key, bytes)
    this.#cache.set(key, { bytes, value })
  }

  async #delete(tx: AccountTrustStore, key: string): Promise<void> {
    await tx.deleteState(OMEMO_STATE_NAMESPACE, key)
    this.#cache.delete(key)
  }

  // ——— own device ———

  readonly #decodeOwn = async (u: Uint8Array): Promise<OwnRecord> => {
    const o = unjson(u)
    const rec: OwnRecord = {
      deviceId: Number(o.deviceId),
      identity: await identityFromSeed(this.config.crypto, unb64(o.seed)),
      spk: spkFromJson(o.spk as Record<string, unknown>),
      nextPreKeyId: Number(o.nextPreKeyId),
    }
    return o.oldSpk === undefined ? rec : { ...rec, oldSpk: spkFromJson(o.oldSpk as Record<string, unknown>) }
  }

  own(tx: AccountTrustStore): Promise<OwnRecord | undefined> {
    return this.#load(tx, K_OWN, this.#decodeOwn)
  }

  async requireOwn(tx: AccountTrustStore): Promise<OwnRecord> {
    const own = await this.own(tx)
    if (own === undefined)
      throw new InvalidKeyIdError(
        'OMEMO-OWN-DEVICE',
        `${this.config.account} has no OMEMO 2 device yet (createDevice)`,
      )
    return own
  }

  saveOwn(tx: AccountTrustStore, own: OwnRecord): Promise<void> {
    return this.#save(tx, K_OWN, own, encodeOwn)
  }

  async preKeys(tx: AccountTrustStore): Promise<PreKeys> {
    return (await this.#load(tx, K_PREKEYS, decodePreKeys)) ?? new Map()
  }

  savePreKeys(tx: AccountTrustStore, m: PreKeys): Promise<void> {
    return this.#save(tx, K_PREKEYS, m, encodePreKeys)
  }

  /** A new signed pre key `id` under `identity`, created now. */
  async newSpk(
    identity: IdentityKeyPair,
    id: number,
    createdAt = this.config.clock().getTime(),
  ): Promise<SpkRecord> {
    const kp = await x25519KeyPair(this.config.crypto)
    return {
      id,
      priv: kp.priv,
      pub: kp.pub,
      sig: await signSignedPreKey(this.config.crypto, identity, kp.pub),
      createdAt,
    }
  }

  /** Adds pre keys up to the configured count; returns the next free id. */
  async fillPreKeys(pks: PreKeys, nextId: number): Promise<number> {
    let id = nextId
    const ids: number[] = []
    while (pks.size + ids.length < this.config.preKeyCount) {
      ids.push(id)
      id = id >= 0xffffffff ? 1 : id + 1
    }
    // side by side: an asynchronous provider makes them at once
    const made = await Promise.all(ids.map(() => x25519KeyPair(this.config.crypto)))
    for (const [i, kp] of made.entries()) pks.set(ids[i] as number, kp)
    return id
  }

  // ——— other devices ———

  device(tx: AccountTrustStore, owner: BareJid, id: number): Promise<DeviceRecord | undefined> {
    return this.#load(tx, kDevice(owner, id), decodeDevice)
  }

  saveDevice(tx: AccountTrustStore, owner: BareJid, id: number, d: DeviceRecord): Promise<void> {
    return this.#save(tx, kDevice(owner, id), d, encodeDevice)
  }

  /** Device ids of `owner` with a stored device record (identity key known). */
  async deviceIds(tx: AccountTrustStore, owner: BareJid): Promise<number[]> {
    return (await tx.listState(OMEMO_STATE_NAMESPACE, `device/${owner}/`)).map((k) =>
      Number(k.slice(k.lastIndexOf('/') + 1)),
    )
  }

  deviceList(tx: AccountTrustStore, owner: BareJid): Promise<DeviceListEntry[] | undefined> {
    return this.#load(tx, kDevices(owner), decodeDeviceList)
  }

  saveDeviceList(tx: AccountTrustStore, owner: BareJid, entries: DeviceListEntry[]): Promise<void> {
    return this.#save(tx, kDevices(owner), entries, json)
  }

  // ——— sessions ———

  session(tx: AccountTrustStore, owner: BareJid, id: number): Promise<Session | undefined> {
    return this.#load(tx, kSession(owner, id), deserializeSession)
  }

  async hasSession(tx: AccountTrustStore, owner: BareJid, id: number): Promise<boolean> {
    return (await tx.getState(OMEMO_STATE_NAMESPACE, kSession(owner, id))) !== undefined
  }

  saveSession(tx: AccountTrustStore, owner: BareJid, id: number, s: Session): Promise<void> {
    return this.#save(tx, kSession(owner, id), s, serializeSession)
  }

  deleteSession(tx: AccountTrustStore, owner: BareJid, id: number): Promise<void> {
    return this.#delete(tx, kSession(owner, id))
  }

  // ——— empty messages we owe ———

  /** Remembers that we owe `owner`/`id` an empty message (a key exchange answer, a heartbeat). */
  oweEmpty(tx: AccountTrustStore, owner: BareJid, id: number): Promise<void> {
    return tx.setState(OMEMO_STATE_NAMESPACE, kEmpty(owner, id), NOTHING)
  }

  /** Every device we owe an empty message. */
  async owedEmpty(tx: AccountTrustStore): Promise<Array<{ owner: BareJid; id: number; key: string }>> {
    return (await tx.listState(OMEMO_STATE_NAMESPACE, EMPTY_PREFIX)).map((key) => {
      const rest = key.slice(EMPTY_PREFIX.length)
      const slash = rest.lastIndexOf('/')
      return { owner: rest.slice(0, slash) as BareJid, id: Number(rest.slice(slash + 1)), key }
    })
  }

  /** Removes the entry `key` of {@link owedEmpty}. */
  paidEmpty(tx: AccountTrustStore, key: string): Promise<void> {
    return tx.deleteState(OMEMO_STATE_NAMESPACE, key)
  }
}
