/**
 * ATM is the only writer of trust levels (ARCHITECTURE.md; the backend writes none, D-11):
 * `removePublicKey` takes the key material out of the keyring and leaves the trust record to ATM
 * and the store, as an OMEMO device that leaves its device list keeps its record. Were the record
 * deleted with the key, a server could launder a distrusted key: drop it from the directory, have
 * it removed, announce it again, and ATM's `keysDiscovered` would see a new key (TOAKAFA:
 * automatically trusted) — ATM-P2 says a level decided before a key is fetched again stays.
 */
import type { KeyId } from '@vouch/tm-core'
import { NS_OX } from '@vouch/tm-core'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  ALICE,
  BOB,
  body,
  importKey,
  introducedParties,
  ownPrivate,
  type Party,
  rejectionOf,
  stanza,
} from '../helpers.ts'
import { keyIdOf } from '../../src/index.ts'

let alice: Party
let bob: Party
let aliceId: KeyId
beforeEach(async () => {
  ;[alice, bob] = await introducedParties(ALICE, BOB)
  aliceId = keyIdOf(await ownPrivate(alice))
})

describe('removePublicKey writes no trust (ATM is the only writer of trust levels; ATM-P2)', () => {
  it('removes the key material only: out of the keyring, never encrypted to, verifies nothing', async () => {
    await bob.store.setTrustLevels(NS_OX, [{ owner: ALICE, keyIds: [aliceId], level: 'authenticated' }], {
      provenance: { kind: 'manual' },
      at: Date.now(),
    })
    const record = await bob.store.getKey(NS_OX, ALICE, aliceId)
    const sent = await alice.ox.encrypt(body('before removal'), [BOB])

    await bob.ox.removePublicKey(ALICE, aliceId)

    expect(await bob.ox.keysOf(ALICE)).toEqual([])
    expect(await bob.ox.knownKeys(ALICE)).toEqual([])
    expect(await rejectionOf(bob.ox.encrypt(body('x'), [ALICE]))).toMatchObject({ name: 'UntrustedKeyError' })
    expect(await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-SIGNER',
    })
    // the trust record is exactly as ATM left it (level, provenance, times)
    expect(await bob.store.getKey(NS_OX, ALICE, aliceId)).toEqual(record)
  })

  it('a removed key announced again comes back at the level it had (no distrusted key laundered)', async () => {
    await bob.store.setTrustLevels(
      NS_OX,
      [{ owner: ALICE, keyIds: [aliceId], level: 'manually-distrusted' }],
      { provenance: { kind: 'manual' }, at: Date.now() },
    )
    await bob.ox.removePublicKey(ALICE, aliceId)
    // fetched again and registered as ATM keysDiscovered does (TOAKAFA would trust a new key)
    await importKey(bob.ox, bob.store, ALICE, await alice.ox.exportPublicKey(), 'automatically-trusted')
    expect(await bob.ox.keysOf(ALICE)).toEqual([aliceId])
    expect(await bob.store.getTrustLevel(NS_OX, ALICE, aliceId)).toBe('manually-distrusted')
    expect(await rejectionOf(bob.ox.encrypt(body('x'), [ALICE]))).toMatchObject({ name: 'UntrustedKeyError' })
  })

  it('removing a key we do not hold, or with a bad owner, changes nothing', async () => {
    const keys = await bob.store.getKeys(NS_OX)
    const otherId = keyIdOf(await ownPrivate(bob))
    await bob.ox.removePublicKey(ALICE, otherId)
    expect(await rejectionOf(bob.ox.removePublicKey('not a jid@' as typeof ALICE, aliceId))).toMatchObject({
      name: 'InvalidJidError',
      rule: 'OX-UID',
    })
    expect(await bob.store.getKeys(NS_OX)).toEqual(keys)
    expect(await bob.ox.keysOf(ALICE)).toEqual([aliceId])
  })
})
