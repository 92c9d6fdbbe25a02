/**
 * TM-15/TM-21 with several devices per account: `EncryptOptions.onlyKeys` (a trust message's
 * allowed keys) keeps every other device out of the `<header/>`, our own other devices included
 * (XEP-0450 Example 2: A1 → Bob about A2 must not be readable by A2).
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, Element, FullJid, KeyRef } from '@vouch/tm-core'
import { Element as XmlElement } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { NS_OMEMO2, type OmemoBackend, omemoBackend, parseEncrypted } from '../src/index.ts'
import { expectError, standInForAtm } from './helpers.ts'

const ALICE = 'alice@example.org' as BareJid
const BOB = 'bob@example.org' as BareJid

interface Device {
  readonly jid: BareJid
  readonly backend: OmemoBackend
  readonly store: AccountTrustStore
  readonly deviceId: number
  readonly key: KeyRef
}

async function device(jid: BareJid): Promise<Device> {
  const store = memoryStore().forAccount(jid)
  const backend = omemoBackend({ preKeyCount: 25 })({ store })
  const { deviceId, keyId } = await backend.createDevice()
  return { jid, backend, store, deviceId, key: { encryption: NS_OMEMO2, owner: jid, keyId } }
}

/**
 * A1, A2 (Alice) and B1 (Bob), every device list and bundle known everywhere, every key
 * automatically trusted (recorded as ATM's keysDiscovered would: the backend writes no level).
 */
async function world(): Promise<{ a1: Device; a2: Device; b1: Device }> {
  const a1 = await device(ALICE)
  const a2 = await device(ALICE)
  const b1 = await device(BOB)
  const all = [a1, a2, b1]
  for (const d of all) {
    for (const jid of [ALICE, BOB]) {
      const ids = all.filter((o) => o.jid === jid).map((o) => ({ id: o.deviceId }))
      await d.backend.importDeviceList(jid, ids)
    }
    for (const o of all) {
      if (o === d) continue
      const keyId = await d.backend.importBundle(o.jid, o.deviceId, await o.backend.ownBundle())
      await standInForAtm(d.store, o.jid, [keyId])
    }
  }
  return { a1, a2, b1 }
}

const body = (t: string): Element => new XmlElement('body', { xmlns: 'jabber:client' }).t(t)
const rids = (el: Element): number[] =>
  [...parseEncrypted(el).keys.values()]
    .flat()
    .map((k) => k.rid)
    .sort()
const from = (d: Device): FullJid => `${d.jid}/x` as FullJid

describe('OMEMO 2 onlyKeys (TM-15, TM-21)', () => {
  it('TM-21: without onlyKeys our other devices are encrypted to; with onlyKeys = [B1] only B1 is', async () => {
    const { a1, a2, b1 } = await world()
    const plain = await a1.backend.encrypt(body('chat'), [BOB])
    expect(rids(plain.element)).toEqual([a2.deviceId, b1.deviceId].sort())

    const tm = await a1.backend.encrypt(body('example 2'), [BOB], {
      onlyKeys: [b1.key],
      acceptedLevels: ['automatically-trusted'],
    })
    expect(rids(tm.element)).toEqual([b1.deviceId])
    expect(tm.recipients).toEqual([b1.key])
    const r = await b1.backend.decrypt(tm.element, { from: from(a1), to: BOB })
    expect(r.payload[0]?.text()).toBe('example 2')
    await expectError(
      () => a2.backend.decrypt(tm.element, { from: from(a1), to: BOB }),
      'DecryptionError',
      'OMEMO-NOT-FOR-US',
    )
  })

  it('TM-21: to our own bare JID with onlyKeys = [A2], only A2 is encrypted to', async () => {
    const { a1, a2 } = await world()
    const tm = await a1.backend.encrypt(body('example 1'), [ALICE], {
      onlyKeys: [a2.key],
      acceptedLevels: ['automatically-trusted'],
    })
    expect(rids(tm.element)).toEqual([a2.deviceId])
    expect(tm.recipients).toEqual([a2.key])
  })

  it('TM-15: a recipient with no listed key at an accepted level rejects with UntrustedKeyError', async () => {
    const { a1, a2 } = await world()
    await expectError(
      () =>
        a1.backend.encrypt(body('x'), [BOB], {
          onlyKeys: [a2.key],
          acceptedLevels: ['automatically-trusted'],
        }),
      'UntrustedKeyError',
    )
  })
})
