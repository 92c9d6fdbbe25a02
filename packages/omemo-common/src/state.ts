/**
 * The backend state both OMEMO backends keep in the trust store (`AccountTrustStore` backend
 * state, one namespace per backend): one key space (own device, pre keys, other devices, device
 * lists, sessions, the empty messages we owe) and a cache of decoded records that stays valid
 * while the stored bytes are byte-identical (another process writing the same store is seen).
 * {@link BackendState.tx} runs one transaction, joining the caller's when given, and drops the
 * cache when it fails (a record may have been changed in place).
 *
 * Key material only: trust levels are ATM's (the backends read them, never write them).
 */
import { base64 } from '@scure/base'
import type { AccountTrustStore, BareJid } from '@vouch/tm-core'
import { b64 } from './wire.ts'

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

const te = new TextEncoder()
const td = new TextDecoder()

/** The JSON and Base64 codecs of state records. */
export const stateCodec = Object.freeze({
  te,
  td,
  b64,
  unb64: (s: unknown): Uint8Array => base64.decode(String(s)),
  json: (v: unknown): Uint8Array => te.encode(JSON.stringify(v)),
  unjson: (u: Uint8Array): Record<string, unknown> => JSON.parse(td.decode(u)) as Record<string, unknown>,
})

const EMPTY_PREFIX = 'empty/'
const NOTHING = new Uint8Array(0)

/** The state keys (one key space for both backends, each in its own namespace). */
export const stateKey = Object.freeze({
  own: 'own',
  preKeys: 'prekeys',
  keptPreKeys: 'prekeys-kept',
  deviceList: (jid: BareJid): string => `devices/${jid}`,
  device: (jid: BareJid, id: number): string => `device/${jid}/${id}`,
  session: (jid: BareJid, id: number): string => `session/${jid}/${id}`,
  empty: (jid: BareJid, id: number): string => `${EMPTY_PREFIX}${jid}/${id}`,
})

/** A device we owe an empty message, with its state key (for {@link BackendState.paidEmpty}). */
export interface OwedEmpty {
  readonly owner: BareJid
  readonly id: number
  readonly key: string
}

/** Cached, transactional access to one backend's state; every method reads and writes through `tx`. */
export class BackendState {
  readonly store: AccountTrustStore
  /** the backend state namespace (`omemo2`, `omemo03`) */
  readonly namespace: string
  readonly #cache = new Map<string, { bytes: Uint8Array; value: unknown }>()

  constructor(store: AccountTrustStore, namespace: string) {
    this.store = store
    this.namespace = namespace
  }

  /** Runs `fn` in one transaction (of `within`, the caller's, when given); on failure drops the cache. */
  async tx<T>(fn: (tx: AccountTrustStore) => Promise<T>, within?: AccountTrustStore): Promise<T> {
    try {
      return await (within ?? this.store).transaction(fn)
    } catch (e) {
      this.#cache.clear()
      throw e
    }
  }

  /** The record at `key`, decoded once while its stored bytes stay the same. */
  protected async load<T>(
    tx: AccountTrustStore,
    key: string,
    decode: (b: Uint8Array) => T | Promise<T>,
  ): Promise<T | undefined> {
    const bytes = await tx.getState(this.namespace, key)
    if (bytes === undefined) {
      this.#cache.delete(key)
      return undefined
    }
    const hit = this.#cache.get(key)
    if (hit !== undefined && (hit.bytes === bytes || bytesEqual(hit.bytes, bytes))) return hit.value as T
    const value = await decode(bytes)
    this.#cache.set(key, { bytes, value })
    return value
  }

  protected async save<T>(
    tx: AccountTrustStore,
    key: string,
    value: T,
    encode: (v: T) => Uint8Array,
  ): Promise<void> {
    const bytes = encode(value)
    await tx.setState(this.namespace, key, bytes)
    this.#cache.set(key, { bytes, value })
  }

  protected async remove(tx: AccountTrustStore, key: string): Promise<void> {
    await tx.deleteState(this.namespace, key)
    this.#cache.delete(key)
  }

  /** Whether a record is stored at `key` (nothing decoded). */
  async has(tx: AccountTrustStore, key: string): Promise<boolean> {
    return (await tx.getState(this.namespace, key)) !== undefined
  }

  /** Device ids of `owner` with a stored device record (identity key known). */
  async deviceIds(tx: AccountTrustStore, owner: BareJid): Promise<number[]> {
    return (await tx.listState(this.namespace, `device/${owner}/`)).map((k) =>
      Number(k.slice(k.lastIndexOf('/') + 1)),
    )
  }

  /** Remembers that we owe `owner`/`id` an empty message (a key exchange answer, a heartbeat). */
  oweEmpty(tx: AccountTrustStore, owner: BareJid, id: number): Promise<void> {
    return tx.setState(this.namespace, stateKey.empty(owner, id), NOTHING)
  }

  /** Every device we owe an empty message. */
  async owedEmpty(tx: AccountTrustStore): Promise<OwedEmpty[]> {
    return (await tx.listState(this.namespace, EMPTY_PREFIX)).map((key) => {
      const rest = key.slice(EMPTY_PREFIX.length)
      const slash = rest.lastIndexOf('/')
      return { owner: rest.slice(0, slash) as BareJid, id: Number(rest.slice(slash + 1)), key }
    })
  }

  /** Removes the entry `key` of {@link owedEmpty}. */
  paidEmpty(tx: AccountTrustStore, key: string): Promise<void> {
    return tx.deleteState(this.namespace, key)
  }

  /** Our one-time pre keys on offer (the bundle's), by id. */
  async preKeys(tx: AccountTrustStore): Promise<Map<number, StoredKeyPair>> {
    return (await this.load(tx, stateKey.preKeys, decodePreKeys)) ?? new Map()
  }

  savePreKeys(tx: AccountTrustStore, m: ReadonlyMap<number, StoredKeyPair>): Promise<void> {
    return this.save(tx, stateKey.preKeys, m, encodePreKeys)
  }

  /**
   * A key exchange used our one-time pre key `id` of `onOffer` (XEP-0384 v0.3 §4.5, v0.9 §6): it
   * leaves the bundle, which `refill` tops up once at most `refillThreshold` are left, and when the
   * key exchange was read during a catch-up its pair is kept until the catch-up ends
   * ({@link keepPreKey}). Nothing happens for a pre key no longer on offer (one kept already).
   * Resolves to whether the bundle changed and the next free pre key id (`nextId` when none was
   * made). In the caller's transaction.
   */
  async usePreKey(
    tx: AccountTrustStore,
    onOffer: ReadonlyMap<number, StoredKeyPair>,
    id: number,
    o: {
      readonly fromCatchUp: boolean
      readonly refillThreshold: number
      readonly nextId: number
      readonly refill: (pks: Map<number, StoredKeyPair>, nextId: number) => Promise<number>
    },
  ): Promise<{ readonly bundleChanged: boolean; readonly nextId: number }> {
    const pair = onOffer.get(id)
    if (pair === undefined) return { bundleChanged: false, nextId: o.nextId }
    const left = new Map(onOffer)
    left.delete(id)
    const nextId = left.size <= o.refillThreshold ? await o.refill(left, o.nextId) : o.nextId
    await this.savePreKeys(tx, left)
    if (o.fromCatchUp) await this.keepPreKey(tx, id, pair)
    return { bundleChanged: true, nextId }
  }

  /**
   * One-time pre keys that key exchanges read during a catch-up used (XEP-0384 v0.9 §6): out of
   * the bundle at once, their private parts kept until the catch-up ends, so that a second key
   * exchange on the same pre key (another sender who took it from the same bundle while we were
   * offline) is still read. Deleted by {@link dropKeptPreKeys}.
   */
  async keptPreKeys(tx: AccountTrustStore): Promise<Map<number, StoredKeyPair>> {
    return (await this.load(tx, stateKey.keptPreKeys, decodePreKeys)) ?? new Map()
  }

  /** Keeps pre key `id` (just used by a key exchange read during a catch-up) until the catch-up ends. */
  async keepPreKey(tx: AccountTrustStore, id: number, pair: StoredKeyPair): Promise<void> {
    const kept = new Map(await this.keptPreKeys(tx))
    kept.set(id, pair)
    await this.save(tx, stateKey.keptPreKeys, kept, encodePreKeys)
  }

  /** The pre key `id` a key exchange names: one of `onOffer` (the bundle's), else one kept for the catch-up. */
  async preKeyNamed(
    tx: AccountTrustStore,
    onOffer: ReadonlyMap<number, StoredKeyPair>,
    id: number,
  ): Promise<StoredKeyPair | undefined> {
    return onOffer.get(id) ?? (await this.keptPreKeys(tx)).get(id)
  }

  /** The catch-up ended: deletes the kept pre keys. */
  async dropKeptPreKeys(tx: AccountTrustStore): Promise<void> {
    if ((await this.keptPreKeys(tx)).size > 0) await this.remove(tx, stateKey.keptPreKeys)
  }
}

/** A Curve25519 key pair as both backends store it. */
export interface StoredKeyPair {
  readonly pub: Uint8Array
  readonly priv: Uint8Array
}

/** A signed pre key as both backends store it. */
export interface StoredSignedPreKey extends StoredKeyPair {
  readonly id: number
  readonly sig: Uint8Array
  readonly createdAt: number
}

/** Pre keys by id: `{ "<id>": [priv, pub] }` in Base64. */
export function encodePreKeys(v: ReadonlyMap<number, StoredKeyPair>): Uint8Array {
  const { json, b64 } = stateCodec
  return json(Object.fromEntries([...v].map(([id, k]) => [id, [b64(k.priv), b64(k.pub)]])))
}

export function decodePreKeys(u: Uint8Array): Map<number, { pub: Uint8Array; priv: Uint8Array }> {
  const o = stateCodec.unjson(u) as Record<string, [string, string]>
  const { unb64 } = stateCodec
  return new Map(
    Object.entries(o).map(([id, [priv, pub]]) => [Number(id), { priv: unb64(priv), pub: unb64(pub) }]),
  )
}

/** A signed pre key as JSON: `{ id, priv, pub, sig, at }`, keys in Base64. */
export function signedPreKeyToJson(s: StoredSignedPreKey): unknown {
  const { b64 } = stateCodec
  return { id: s.id, priv: b64(s.priv), pub: b64(s.pub), sig: b64(s.sig), at: s.createdAt }
}

export function signedPreKeyFromJson(o: Record<string, unknown>): StoredSignedPreKey {
  const { unb64 } = stateCodec
  return {
    id: Number(o.id),
    priv: unb64(o.priv),
    pub: unb64(o.pub),
    sig: unb64(o.sig),
    createdAt: Number(o.at),
  }
}
