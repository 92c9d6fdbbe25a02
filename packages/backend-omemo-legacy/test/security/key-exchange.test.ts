/**
 * Key exchange checks the library does not make itself (libsignal-protocol-typescript 0.0.16
 * neither awaits `isTrustedIdentity` on receive nor refuses a PreKeyWhisperMessage whose one-time
 * pre key is gone — it then builds the session without it): rules OMEMO03-KEX,
 * OMEMO03-UNKNOWN-DEVICE, OMEMO03-TO, OMEMO03-NOT-FOR-US (flagged `nothingToRead` only for a message
 * without `<payload/>`). Each rejection changes no state.
 */
import type { BareJid, DecryptionError, Element } from '@vouch/tm-core'
import { isNothingToRead } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { NS_AXOLOTL } from '../../src/wire.ts'
import { addressing, body, bodyText, expectError, introduce, pair, party, snapshot } from '../helpers.ts'

describe('key exchange checks', () => {
  it('OMEMO03-KEX: a key exchange naming a pre key we do not have is rejected (no session without a one-time pre key)', async () => {
    const [alice, bob] = await pair()
    const real = await bob.backend.ownBundle()
    const other = await party('carol@example.org')
    const fake = {
      ...real,
      preKeys: [{ id: 999_999, key: (await other.backend.ownBundle()).preKeys[0]?.key as Uint8Array }],
    }
    await alice.backend.importBundle(bob.jid, bob.deviceId, fake)
    const kex = await alice.backend.encrypt(body('x'), [bob.jid])
    const before = await snapshot(bob)
    const e = await expectError(
      bob.backend.decrypt(kex.element, addressing(alice, bob)),
      'DecryptionError',
      'OMEMO03-KEX',
    )
    expect(e.message).toMatch(/pre key 999999/)
    expect(await snapshot(bob)).toBe(before)
  })

  it('OMEMO03-KEX: a used one-time pre key cannot start a second session', async () => {
    const bob = await party('bob@example.org')
    const alice = await party('alice@example.org')
    const carol = await party('carol@example.org')
    const one = await bob.backend.ownBundle()
    const single = { ...one, preKeys: one.preKeys.slice(0, 1) }
    for (const p of [alice, carol]) {
      await introduce(p, bob)
      await p.backend.importBundle(bob.jid, bob.deviceId, single)
      await introduce(bob, p)
    }
    await bob.backend.decrypt(
      (await alice.backend.encrypt(body('a'), [bob.jid])).element,
      addressing(alice, bob),
    )
    const second = await carol.backend.encrypt(body('c'), [bob.jid])
    await expectError(
      bob.backend.decrypt(second.element, addressing(carol, bob)),
      'DecryptionError',
      'OMEMO03-KEX',
    )
  })

  it('OMEMO03-KEX: a key exchange with another identity key for a known device is rejected', async () => {
    const [alice, bob] = await pair()
    // mallory uses alice's device id and stanza address, with her own identity
    const mallory = await party('alice@example.org')
    await introduce(mallory, bob)
    const forged = await mallory.backend.encrypt(body('I am alice'), [bob.jid])
    forged.element.getChild('header')?.attr('sid', String(alice.deviceId))
    const before = await snapshot(bob)
    await expectError(
      bob.backend.decrypt(forged.element, addressing(alice, bob)),
      'DecryptionError',
      'OMEMO03-KEX',
    )
    expect(await snapshot(bob)).toBe(before)
  })

  it('OMEMO03-BUNDLE: a bundle fetched again for a known device (expectedKey) with another identity key is rejected and stores nothing', async () => {
    const [alice, bob] = await pair()
    const mallory = await party('alice@example.org') // publishes under alice's device id
    const before = await snapshot(bob)
    const bobsKeyForAlice = (await bob.backend.keysOf(alice.jid))[0]
    await expectError(
      bob.backend.importBundle(alice.jid, alice.deviceId, await mallory.backend.ownBundle(), {
        ...(bobsKeyForAlice === undefined ? {} : { expectedKey: bobsKeyForAlice }),
      }),
      'DecryptionError',
      'OMEMO03-BUNDLE',
    )
    expect(await snapshot(bob)).toBe(before)
    // the same key: stored again
    expect(
      await bob.backend.importBundle(alice.jid, alice.deviceId, await alice.backend.ownBundle(), {
        expectedKey: bobsKeyForAlice as NonNullable<typeof bobsKeyForAlice>,
      }),
    ).toBe(bobsKeyForAlice)
  })

  it('OMEMO03-UNKNOWN-DEVICE: a message from a device not in the sender’s device list is rejected', async () => {
    const [alice, bob] = await pair()
    await bob.backend.importDeviceList(alice.jid, [12345])
    const m = await alice.backend.encrypt(body('x'), [bob.jid])
    const before = await snapshot(bob)
    await expectError(
      bob.backend.decrypt(m.element, addressing(alice, bob)),
      'DecryptionError',
      'OMEMO03-UNKNOWN-DEVICE',
    )
    expect(await snapshot(bob)).toBe(before)
    // once the list names the device again, the same message decrypts
    await bob.backend.importDeviceList(alice.jid, [alice.deviceId])
    expect(bodyText((await bob.backend.decrypt(m.element, addressing(alice, bob))).payload)).toBe('x')
  })

  it('OMEMO03-TO: a message whose stanza is addressed to another account is rejected', async () => {
    const [alice, bob] = await pair()
    const m = await alice.backend.encrypt(body('for bob'), [bob.jid])
    await expectError(
      bob.backend.decrypt(m.element, { from: alice.jid, to: 'mallory@example.net' as BareJid }),
      'DecryptionError',
      'OMEMO03-TO',
    )
  })

  it('OMEMO03-NOT-FOR-US: a message without a <key/> for our device is rejected', async () => {
    const [alice, bob] = await pair()
    const carol = await party('carol@example.org')
    await introduce(alice, carol)
    const m = await alice.backend.encrypt(body('for carol'), [carol.jid])
    expect(m.element.attrs.xmlns).toBe(NS_AXOLOTL)
    const e = await expectError(
      bob.backend.decrypt(m.element, addressing(alice, bob)),
      'DecryptionError',
      'OMEMO03-NOT-FOR-US',
    )
    // it carries a payload: a message exists that this device cannot read, so it is reported
    expect(isNothingToRead(e)).toBe(false)
    expect((e as DecryptionError).nothingToRead).toBe(false)
  })

  it('OMEMO03-NOT-FOR-US: a key transport message (no <payload/>) for another own device is flagged nothingToRead, state unchanged', async () => {
    const [alice, bob] = await pair()
    // Alice's second device: it gets Bob's answer to the first one's key exchange (Carbons, MAM)
    const phone = await party('alice@example.org')
    await introduce(phone, bob)
    await bob.backend.decrypt(
      (await alice.backend.encrypt(body('hello'), [bob.jid])).element,
      addressing(alice, bob),
    )
    const [answer, ...more] = await bob.backend.takeEmptyMessages()
    expect(more).toHaveLength(0)
    expect(answer?.element.getChild('payload')).toBeUndefined()
    const before = await snapshot(phone)
    const e = await expectError(
      phone.backend.decrypt(answer?.element as Element, addressing(bob, phone)),
      'DecryptionError',
      'OMEMO03-NOT-FOR-US',
    )
    expect(isNothingToRead(e)).toBe(true)
    expect(await snapshot(phone)).toBe(before)
    // the device it names reads it as the empty message it is
    expect(
      (await alice.backend.decrypt(answer?.element as Element, addressing(bob, alice))).sessionOnly,
    ).toBe(true)
  })
})
