/**
 * The OMEMO 0.3 backend's state: our device (identity, signed pre keys, pre keys), other
 * devices' identity keys and bundles, device lists, libsignal session records (pruned, see
 * `prune.ts`) and the empty messages we owe, all in the store's backend state under
 * {@link LEGACY_STATE_NAMESPACE}, in the key space and with the cache of `BackendState`
 * (`@vouch/omemo-common`, shared with the OMEMO 2 backend).
 *
 * Key material only: trust levels are ATM's (the backend reads them, never writes them).
 */
import type { AccountTrustStore, BareJid } from '@vouch/tm-core'
import { InvalidKeyIdError } from '@vouch/tm-core'
import {
  BackendState,
  bytesEqual,
  signedPreKeyFromJson,
  signedPreKeyToJson,
  stateCodec,
  stateKey,
} from '@vouch/omemo-common'
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

const { te, td, b64, unb64, json, unjson } = stateCodec
export { bytesEqual }

const kpToJson = (k: KeyPair33): unknown => ({ pub: b64(k.pub), priv: b64(k.priv) })
const kpFromJson = (o: Record<string, unknown>): KeyPair33 => ({ pub: unb64(o.pub), priv: unb64(o.priv) })
const spkToJson = signedPreKeyToJson
const spkFromJson = signedPreKeyFromJson

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

/** Typed access to the backend state (the key space, the cache and the transactions are `BackendState`'s). */
export class LegacyState extends BackendState {
  readonly config: LegacyConfig

  constructor(store: AccountTrustStore, config: LegacyConfig) {
    super(store, LEGACY_STATE_NAMESPACE)
    this.config = config
  }

  own(tx: AccountTrustStore): Promise<OwnRecord | undefined> {
    return this.load(tx, stateKey.own, decodeOwn)
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
    return this.save(tx, stateKey.own, own, encodeOwn)
  }

  device(tx: AccountTrustStore, owner: BareJid, id: number): Promise<DeviceRecord | undefined> {
    return this.load(tx, stateKey.device(owner, id), decodeDevice)
  }

  saveDevice(tx: AccountTrustStore, owner: BareJid, id: number, d: DeviceRecord): Promise<void> {
    return this.save(tx, stateKey.device(owner, id), d, encodeDevice)
  }

  deviceList(tx: AccountTrustStore, owner: BareJid): Promise<number[] | undefined> {
    return this.load(tx, stateKey.deviceList(owner), decodeDeviceList)
  }

  saveDeviceList(tx: AccountTrustStore, owner: BareJid, ids: readonly number[]): Promise<void> {
    return this.save(tx, stateKey.deviceList(owner), [...ids], json)
  }

  session(tx: AccountTrustStore, owner: BareJid, id: number): Promise<SessionEntry | undefined> {
    return this.load(tx, stateKey.session(owner, id), decodeSession)
  }

  saveSession(tx: AccountTrustStore, owner: BareJid, id: number, s: SessionEntry): Promise<void> {
    return this.save(tx, stateKey.session(owner, id), s, encodeSession)
  }

  deleteSession(tx: AccountTrustStore, owner: BareJid, id: number): Promise<void> {
    return this.remove(tx, stateKey.session(owner, id))
  }
}
