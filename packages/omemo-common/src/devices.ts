/**
 * Devices of an account as an OMEMO backend knows them (both versions): a new device id for our
 * device, and the overview of somebody's devices from their latest device list and the device
 * records (identity keys) stored.
 */
import type { BareJid, KeyId } from '@vouch/tm-core'
import { MAX_DEVICE_ID } from './wire.ts'

/**
 * The device id for a new device: `requested` when given (checked: 1 … 2³¹−1), else a random one
 * that is not in `taken` (the account's device list).
 * @throws RangeError when `requested` is not a device id
 */
export function pickDeviceId(
  random: (n: number) => Uint8Array,
  taken: ReadonlySet<number>,
  requested?: number,
): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1 || requested > MAX_DEVICE_ID)
      throw new RangeError('a device id is 1 … 2³¹−1')
    return requested
  }
  for (;;) {
    const b = random(4)
    const v =
      (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) &
      MAX_DEVICE_ID
    if (v !== 0 && !taken.has(v)) return v
  }
}

/** A device of an account, as a backend knows it. */
export interface KnownDevice {
  readonly owner: BareJid
  readonly deviceId: number
  /** the identity key as key id (D-6), when known */
  readonly keyId?: KeyId
  /** in the owner's latest device list */
  readonly active: boolean
  readonly hasSession: boolean
}

/**
 * Every device of `owner` a backend knows: those of its latest device list (`listed`, active) and
 * those with a stored record (`stored`), by id; `describe` gives each one's key id and session.
 */
export async function knownDevices(
  owner: BareJid,
  listed: Iterable<number>,
  stored: Iterable<number>,
  describe: (id: number) => Promise<{ readonly keyId?: KeyId; readonly hasSession: boolean }>,
): Promise<KnownDevice[]> {
  const active = new Set(listed)
  const ids = new Set<number>(active)
  for (const id of stored) ids.add(id)
  const out: KnownDevice[] = []
  for (const deviceId of [...ids].sort((a, b) => a - b)) {
    const { keyId, hasSession } = await describe(deviceId)
    const base = { owner, deviceId, active: active.has(deviceId), hasSession }
    out.push(keyId === undefined ? base : { ...base, keyId })
  }
  return out
}

/** The device ids of the active devices (`EncryptionBackend.endpointsOf`). */
export function activeDeviceIds(devices: readonly KnownDevice[]): string[] {
  return devices.filter((d) => d.active).map((d) => String(d.deviceId))
}

/** The key ids of the devices whose key is known, sorted, once each (`EncryptionBackend.keysOf`). */
export function knownKeyIds(devices: readonly KnownDevice[]): KeyId[] {
  const ids = new Set<KeyId>()
  for (const d of devices) if (d.keyId !== undefined) ids.add(d.keyId)
  return [...ids].sort()
}
