/**
 * D-12, issue 12 point 6: one device running OMEMO 2 and OMEMO 0.3 with one identity key pair and
 * one device id (as python-omemo does). `@vouch/backend-omemo` hands out its identity in Curve25519
 * form (`ownCurve25519Identity`), this backend's `createDevice({ identityPrivateKey })` takes it:
 * the OMEMO 0.3 key id is then the OMEMO 2 key's twin under the key link ATM uses, and a deployed
 * client (another OMEMO 0.3 party) verifies the bundle (XEdDSA signature with that key) and talks
 * to the device both ways.
 */
import { omemoBackend } from '@vouch/backend-omemo'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { legacyOmemoBackend } from '../src/backend.ts'
import { addressing, body, bodyText, introduce, type Party, party } from './helpers.ts'

const dual = async (jid: BareJid) => {
  const store = memoryStore().forAccount(jid)
  const omemo2 = omemoBackend({ preKeyCount: 25 })({ store })
  const legacy = legacyOmemoBackend({ preKeyCount: 20 })({ store })
  return { store, omemo2, legacy }
}

describe('D-12: OMEMO 0.3 on the OMEMO 2 identity of the same device', () => {
  it('the OMEMO 0.3 key is the twin of the OMEMO 2 key (one key pair), with the same device id', async () => {
    const d = await dual('alice@example.org' as BareJid)
    expect(await d.omemo2.ownCurve25519Identity()).toBeUndefined()
    const { deviceId, keyId } = await d.omemo2.createDevice()
    const identity = await d.omemo2.ownCurve25519Identity()
    if (identity === undefined) throw new Error('no identity')
    // clamped as RFC 7748 says
    expect((identity.priv[0] as number) & 7).toBe(0)
    expect((identity.priv[31] as number) & 0xc0).toBe(0x40)
    const legacy = await d.legacy.createDevice({ deviceId, identityPrivateKey: identity.priv })
    expect(legacy.deviceId).toBe(deviceId)
    expect(Buffer.from(legacy.keyId, 'base64')).toEqual(Buffer.from(identity.pub))
    const link = d.omemo2.keyLinks?.[0]
    expect(link?.toLinked(keyId)).toBe(legacy.keyId)
    expect(link?.fromLinked(legacy.keyId)).toContain(keyId)
  })

  it('a plain OMEMO 0.3 party verifies the bundle (XEdDSA by the shared key) and chats with the device both ways', async () => {
    const jid = 'alice@example.org' as BareJid
    const d = await dual(jid)
    const { deviceId } = await d.omemo2.createDevice()
    const identity = await d.omemo2.ownCurve25519Identity()
    await d.legacy.createDevice({ deviceId, identityPrivateKey: identity?.priv as Uint8Array })
    await d.legacy.importDeviceList(jid, [deviceId])
    const alice: Party = { jid, store: d.store, backend: d.legacy, deviceId }
    const carol = await party('carol@example.net')
    await introduce(carol, alice) // importBundle checks the signed pre key signature
    await introduce(alice, carol)
    const toAlice = await carol.backend.encrypt(body('hi Alice'), [alice.jid])
    const r = await alice.backend.decrypt(toAlice.element, addressing(carol, alice))
    expect(bodyText(r.payload)).toBe('hi Alice')
    const toCarol = await alice.backend.encrypt(body('hi Carol'), [carol.jid])
    const back = await carol.backend.decrypt(toCarol.element, addressing(alice, carol))
    expect(bodyText(back.payload)).toBe('hi Carol')
    expect(back.senderKey).toBe((await d.legacy.ownKeys())[0])
  })

  it('a wrong-sized identity private key is refused and creates no device', async () => {
    const d = await dual('alice@example.org' as BareJid)
    await expect(d.legacy.createDevice({ identityPrivateKey: new Uint8Array(31) })).rejects.toThrow(
      RangeError,
    )
    expect(await d.legacy.ownDeviceId()).toBeUndefined()
  })
})
