/**
 * The OMEMO 2 backend's state: our own device (identity, signed pre keys, pre keys), other
 * devices' identity keys and bundles, device lists, sessions and the empty messages we owe, all in
 * the store's backend state under {@link OMEMO_STATE_NAMESPACE}, in the key space and with the
 * cache of `BackendState` (`@vouch/omemo-common`, shared with the OMEMO 0.3 backend).
 *
 * Key material only: trust levels are ATM's (the backend reads them, never writes them).
 */
import type { AccountTrustStore, BareJid } from '@vouch/tm-core'
import {
  BackendState,
  bytesEqual,
  signedPreKeyFromJson,
  signedPreKeyToJson,
  stateCodec,
  stateKey,
} from '@vouch/omemo-common'
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

const { te, td, b64, unb64, json, unjson } = stateCodec
export { bytesEqual, td }
export const utf8 = (s: string): Uint8Array => te.encode(s)
const spkToJson = signedPreKeyToJson
const spkFromJson = signedPreKeyFromJson

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
function decodeDevice(u: Uint8Array): DeviceRecord {
  const o = unjson(u)
  const ik = unb64(o.ik)
  return o.bundle === undefined ? { ik } : { ik, bundle: bundleFromJson(o.bundle as Record<string, unknown>) }
}
const encodeDevice = (v: DeviceRecord): Uint8Array =>
  json({ ik: b64(v.ik), ...(v.bundle === undefined ? {} : { bundle: bundleToJson(v.bundle) }) })
const decodeDeviceList = (u: Uint8Array): DeviceListEntry[] => JSON.parse(td.decode(u)) as DeviceListEntry[]

/** Typed access to the backend state (the key space, the cache and the transactions are `BackendState`'s). */
export class OmemoState extends BackendState {
  readonly config: OmemoConfig

  constructor(store: AccountTrustStore, config: OmemoConfig) {
    super(store, OMEMO_STATE_NAMESPACE)
    this.config = config
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
    return this.load(tx, stateKey.own, this.#decodeOwn)
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
    return this.save(tx, stateKey.own, own, encodeOwn)
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
    return this.load(tx, stateKey.device(owner, id), decodeDevice)
  }

  saveDevice(tx: AccountTrustStore, owner: BareJid, id: number, d: DeviceRecord): Promise<void> {
    return this.save(tx, stateKey.device(owner, id), d, encodeDevice)
  }

  deviceList(tx: AccountTrustStore, owner: BareJid): Promise<DeviceListEntry[] | undefined> {
    return this.load(tx, stateKey.deviceList(owner), decodeDeviceList)
  }

  saveDeviceList(tx: AccountTrustStore, owner: BareJid, entries: DeviceListEntry[]): Promise<void> {
    return this.save(tx, stateKey.deviceList(owner), entries, json)
  }

  // ——— sessions ———

  session(tx: AccountTrustStore, owner: BareJid, id: number): Promise<Session | undefined> {
    return this.load(tx, stateKey.session(owner, id), deserializeSession)
  }

  async hasSession(tx: AccountTrustStore, owner: BareJid, id: number): Promise<boolean> {
    return this.has(tx, stateKey.session(owner, id))
  }

  saveSession(tx: AccountTrustStore, owner: BareJid, id: number, s: Session): Promise<void> {
    return this.save(tx, stateKey.session(owner, id), s, serializeSession)
  }

  deleteSession(tx: AccountTrustStore, owner: BareJid, id: number): Promise<void> {
    return this.remove(tx, stateKey.session(owner, id))
  }
}
