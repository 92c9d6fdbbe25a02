/**
 * Device ids and device overviews (XEP-0384, both versions): a new device id is 1 … 2³¹−1 and not
 * one the account lists already; the overview joins the device list and the stored records.
 */
import type { BareJid, KeyId } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { activeDeviceIds, knownDevices, knownKeyIds, pickDeviceId } from '../src/devices.ts'

describe('device ids', () => {
  it('a random id skips zero and the ids taken; a requested id is checked, not replaced', () => {
    const draws = [
      [0, 0, 0, 0], // 0: not a device id
      [0x80, 0, 0, 7], // 7 after the 31-bit mask: taken
      [0xff, 0xff, 0xff, 0xff], // 2³¹−1
    ]
    let i = 0
    const random = () => Uint8Array.from(draws[i++] as number[])
    expect(pickDeviceId(random, new Set([7]))).toBe(0x7fffffff)
    expect(i).toBe(3)
    expect(pickDeviceId(random, new Set([5]), 5)).toBe(5)
    for (const bad of [0, -1, 0x80000000, 1.5])
      expect(() => pickDeviceId(random, new Set(), bad), String(bad)).toThrow(RangeError)
  })

  it('the overview lists listed and stored devices once, sorted; keys and endpoints from it', async () => {
    const bob = 'bob@example.com' as BareJid
    const keys: Record<number, KeyId> = { 2: 'k2' as KeyId, 9: 'k9' as KeyId }
    const devices = await knownDevices(bob, [9, 3], [2, 9], async (id) =>
      keys[id] === undefined ? { hasSession: false } : { hasSession: id === 9, keyId: keys[id] },
    )
    expect(devices).toEqual([
      { owner: bob, deviceId: 2, active: false, hasSession: false, keyId: 'k2' },
      { owner: bob, deviceId: 3, active: true, hasSession: false },
      { owner: bob, deviceId: 9, active: true, hasSession: true, keyId: 'k9' },
    ])
    expect(activeDeviceIds(devices)).toEqual(['3', '9'])
    expect(knownKeyIds(devices)).toEqual(['k2', 'k9'])
  })
})
