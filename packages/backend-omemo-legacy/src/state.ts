/**
 * The OMEMO 0.3 backend's state: our device (identity, signed pre keys, pre keys), other
 * devices' identity keys and bundles, device lists, libsignal session records (pruned, see
 * `prune.ts`) and the empty messages we owe, all in the store's backend state under
 * {@link LEGACY_STATE_NAMESPACE}. Decoded records are cached while their stored bytes stay
 * byte-identical; {@link LegacyState.tx} runs one transaction (joining the caller's when given)
 * and drops the cache when it fails.
 *
 * Key material only: trust levels are ATM's (the backend reads them, never writes them).
 */
import { base64 } from '@scure/base'
import type { AccountTrustStore, BareJid } from '@vouch/tm-core'
import { InvalidKeyIdError } from '@vouch/tm-core'
import type { LegacyBundle, LegacyXmlLimits } from './wire.ts'

/** Namespace of our backend state in the store. */
export const LEGACY_STATE_NAMESPACE = 'omemo03'

export interface KeyPair33 {
  /** 0x05 ‖ 32-byte Curve25519 public key */
  readonly pub: Uint8Array
  /** 32-byte private scalar */
  readonly priv: Uint8Array
}

export interface SignedPreKeyRecord extends KeyPair33 {
  readonly id: number
  readonly sig: Uint8Array
  readonly createdAt: number
}

export interface OwnRecord {
  readonly deviceId: number
  readonly identity: KeyPair33
  readonly spk: SignedPreKeyRecord
  readonly oldSpk?: SignedPreKeyRecord
  readonly nextPreKeyId: number
}

export interface DeviceRecord {
  /** the device's identity key, 0x05 ‖ 32 bytes (its key id, D-6, is the 32 bytes) */
  readonly ik: Uint8Array
  readonly bundle?: LegacyBundle
}

export type PreKeys = Map<number, KeyPair33>

/** A session record as stored: libsignal's serialized record and messages received since we last sent. */
export interface SessionEntry {
  readonly record: string
  readonly receivedSinceSend: number
}

export interface LegacyConfig {
  readonly account: BareJid
  readonly clock: () => Date
  readonly random: (n: number) => Uint8Array
  readonly xmlLimits: LegacyXmlLimits
  readonly preKeyCount: number
  readonly refillThreshold: number
  readonly rotationMs: number
  readonly heartbeatAfter: number
}

// ——— codecs ———

const te = new TextEncoder()
const td = new TextDecoder()
const b64 = (u: Uint8Array): string => base64.encode(u)
const unb64 = (s: unknown): Uint8Array => base64.decode(String(s))
const json = (v: unknown): Uint8Array => te.encode(JSON.stringify(v))
const unjson = (u: Uint8Array): Record<string, unknown> => JSON.parse(td.decode(u)) as Record<string, unknown>

/** Whether two byte strings are equal (four bytes at a time where both are aligned: the cache compares whole records). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length
  if (n !== b.length) return false
  let i = 0
  if (n >= 64 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const words = n >>> 2
    const a32 = new Int32Array(a.buffer, a.byteOffset, words)
    const b32 = new Int32Array(b.buffer, b.byteOffset, words)
    for (let w = 0; w < words; w++) if (a32[w] !== b32[w]) return false
    i = words << 2
  }
  for (; i < n; i++) if (a[i] !== b[i]) return false
  return true
}

const kpToJson = (k: KeyPair33): unknown => ({ pub: b64(k.pub), priv: b64(k.priv) })
const kpFromJson = (o: Record<string, unknown>): KeyPair33 => ({ pub: unb64(o.pub), priv: unb64(o.priv) })
const spkToJson = (s: SignedPreKeyRecord): unknown => ({
  id: s.id,
  pub: b64(s.pub),
  priv: b64(s.priv),
  sig: b64(s.sig),
  at: s.createdAt,
})
const spkFromJson = (o: Record<string, unknown>): SignedPreKeyRecord => ({
  id: Number(o.id),
  pub: unb64(o.pub),
  priv: unb64(o.priv),
  sig: unb64(o.sig),
  createdAt: Number(o.at),
})

function encodeOwn(r: OwnRecord): Uint8Array {
  return json({
    deviceId: r.deviceId,
    identity: kpToJson(r.identity),
    spk: spkToJson(r.spk),
    ...(r.oldSpk === undefined ? {} : { oldSpk: spkToJson(r.oldSpk) }),
    nextPreKeyId: r.nextPreKeyId,
  })
}
function decodeOwn(u: Uint8Array): OwnRecord {
  const o = unjson(u)
  const rec: OwnRecord = {
    deviceId: Number(o.deviceId),
    identity: kpFromJson(o.identity as Record<string, unknown>),
    spk: spkFromJson(o.spk as Record<string, unknown>),
    nextPreKeyId: Number(o.nextPreKeyId),
  }
  return o.oldSpk === undefined ? rec : { ...rec, oldSpk: spkFromJson(o.oldSpk as Record<string, unknown>) }
}
const encodePreKeys = (v: PreKeys): Uint8Array =>
  json(Object.fromEntries([...v].map(([id, k]) => [id, [b64(k.priv), b64(k.pub)]])))
function decodePreKeys(u: Uint8Array): PreKeys {
  const o = unjson(u) as Record<string, [string, string]>
  return new Map(
    Object.entries(o).map(([id, [priv, pub]]) => [Number(id), { priv: unb64(priv), pub: unb64(pub) }]),
  )
}
function bundleToJson(b: LegacyBundle): unknown {
  return {
    spkId: b.signedPreKeyId,
    spk: b64(b.signedPreKey),
    sig: b64(b.signedPreKeySignature),
    ik: b64(b.identityKey),
    pks: b.preKeys.map((k) => [k.id, b64(k.key)]),
  }
}
function bundleFromJson(o: Record<string, unknown>): LegacyBundle {
  return {
    signedPreKeyId: Number(o.spkId),
    signedPreKey: unb64(o.spk),
    signedPreKeySignature: unb64(o.sig),
    identityKey: unb64(o.ik),
    preKeys: (o.pks as [number, string][]).map(([id, key]) => ({ id, key: unb64(key) })),
  }
}
const encodeDevice = (v: DeviceRecord): Uint8Array =>
  json({ ik: b64(v.ik), ...(v.bundle === undefined ? {} : { bundle: bundleToJson(v.bundle) }) })
function decodeDevice(u: Uint8Array): DeviceRecord {
  const o = unjson(u)
  const ik = unb64(o.ik)
  return o.bundle === undefined ? { ik } : { ik, bundle: bundleFromJson(o.bundle as Record<string, unknown>) }
}
const decodeDeviceList = (u: Uint8Array): number[] => JSON.parse(td.decode(u)) as number[]
/** `<received since send>\n<libsignal record>` */
const encodeSession = (s: SessionEntry): Uint8Array => te.encode(`${s.receivedSinceSend}\n${s.record}`)
function decodeSession(u: Uint8Array): SessionEntry {
  const text = td.decode(u)
  const nl = text.indexOf('\n')
  return { receivedSinceSend: Number(text.slice(0, nl)), record: text.slice(nl + 1) }
}

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
export class LegacyState {
  readonly store: AccountTrustStore
  readonly config: LegacyConfig
  readonly #cache = new Map<string, { bytes: Uint8Array; value: unknown }>()

  constructor(store: AccountTrustStore, config: LegacyConfig) {
    this.store = store
    this.config = config
  }

  /** Runs `fn` in one transaction (joining `within` when given); on failure drops the cache. */
  async tx<T>(fn: (tx: AccountTrustStore) => Promise<T>, within?: AccountTrustStore): Promise<T> {
    try {
      return await (within ?? this.store).transaction(fn)
    } catch (e) {
      this.#cache.clear()
      throw e
    }
  }

  async #load<T>(tx: AccountTrustStore, key: string, decode: (b: Uint8Array) => T): Promise<T | undefined> {
    const bytes = await tx.getState(LEGACY_STATE_NAMESPACE, key)
    if (bytes === undefined) {
      this.#cache.delete(key)
      return undefined
    }
    const hit = this.#cache.get(key)
    if (hit !== undefined && (hit.bytes === bytes || bytesEqual(hit.bytes, bytes))) return hit.value as T
    const value = decode(bytes)
    this.#cache.set(key, { bytes, value })
    return value
  }

  async #save<T>(tx: AccountTrustStore, key: string, value: T, encode: (v: T) => Uint8Array): Promise<void> {
    const bytes = encode(value)
    await tx.setState(LEGACY_STATE_NAMESPACE, key, bytes)
    this.#cache.set(key, { bytes, value })
  }

  async #delete(tx: AccountTrustStore, key: string): Promise<void> {
    await tx.deleteState(LEGACY_STATE_NAMESPACE, key)
    this.#cache.delete(key)
  }

  own(tx: AccountTrustStore): Promise<OwnRecord | undefined> {
    return this.#load(tx, K_OWN, decodeOwn)
  }

  async requireOwn(tx: AccountTrustStore): Promise<OwnRecord> {
    const own = await this.own(tx)
    if (own === undefined)
      throw new InvalidKeyIdError(
        'OMEMO03-OWN-DEVICE',
        `${this.config.account} has no OMEMO 0.3 device yet (createDevice)`,
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

  device(tx: AccountTrustStore, owner: BareJid, id: number): Promise<DeviceRecord | undefined> {
    return this.#load(tx, kDevice(owner, id), decodeDevice)
  }

  saveDevice(tx: AccountTrustStore, owner: BareJid, id: number, d: DeviceRecord): Promise<void> {
    return this.#save(tx, kDevice(owner, id), d, encodeDevice)
  }

  /** Device ids of `owner` with a stored device record (identity key known). */
  async deviceIds(tx: AccountTrustStore, owner: BareJid): Promise<number[]> {
    return (await tx.listState(LEGACY_STATE_NAMESPACE, `device/${owner}/`)).map((k) =>
      Number(k.slice(k.lastIndexOf('/') + 1)),
    )
  }

  deviceList(tx: AccountTrustStore, owner: BareJid): Promise<number[] | undefined> {
    return this.#load(tx, kDevices(owner), decodeDeviceList)
  }

  saveDeviceList(tx: AccountTrustStore, owner: BareJid, ids: readonly number[]): Promise<void> {
    return this.#save(tx, kDevices(owner), [...ids], json)
  }

  session(tx: AccountTrustStore, owner: BareJid, id: number): Promise<SessionEntry | undefined> {
    return this.#load(tx, kSession(owner, id), decodeSession)
  }

  saveSession(tx: AccountTrustStore, owner: BareJid, id: number, s: SessionEntry): Promise<void> {
    return this.#save(tx, kSession(owner, id), s, encodeSession)
  }

  deleteSession(tx: AccountTrustStore, owner: BareJid, id: number): Promise<void> {
    return this.#delete(tx, kSession(owner, id))
  }

  oweEmpty(tx: AccountTrustStore, owner: BareJid, id: number): Promise<void> {
    return tx.setState(LEGACY_STATE_NAMESPACE, kEmpty(owner, id), NOTHING)
  }

  async owedEmpty(tx: AccountTrustStore): Promise<Array<{ owner: BareJid; id: number; key: string }>> {
    return (await tx.listState(LEGACY_STATE_NAMESPACE, EMPTY_PREFIX)).map((key) => {
      const rest = key.slice(EMPTY_PREFIX.length)
      const slash = rest.lastIndexOf('/')
      return { owner: rest.slice(0, slash) as BareJid, id: Number(rest.slice(slash + 1)), key }
    })
  }

  paidEmpty(tx: AccountTrustStore, key: string): Promise<void> {
    return tx.deleteState(LEGACY_STATE_NAMESPACE, key)
  }
}
