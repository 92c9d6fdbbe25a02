import { describe, it } from 'vitest'
import { ratchetDecrypt } from '../../src/ratchet.ts'
import { sessionEncrypt } from '../../src/session.ts'
import { associatedData } from '../../src/x3dh.ts'
import { expectError, provider as p } from '../helpers.ts'
import { establishedPair } from './helpers.ts'

describe('wrong associated data (OMEMO-MAC)', () => {
  it('IK_B ‖ IK_A (responder first) does not authenticate', async () => {
    const { alice, bob, a, b } = await establishedPair()
    const m = sessionEncrypt(p, a, new Uint8Array(48)).bytes
    await expectError(
      () => ratchetDecrypt(p, b.ratchet, m, associatedData(bob.identity.edPub, alice.identity.edPub)),
      'DecryptionError',
      'OMEMO-MAC',
    )
  })

  it('the Curve25519 forms of the identity keys do not authenticate (AD is Ed25519)', async () => {
    const { alice, bob, a, b } = await establishedPair()
    const m = sessionEncrypt(p, a, new Uint8Array(48)).bytes
    const ad = associatedData(
      p.edwardsToMontgomeryPublic(alice.identity.edPub),
      p.edwardsToMontgomeryPublic(bob.identity.edPub),
    )
    await expectError(() => ratchetDecrypt(p, b.ratchet, m, ad), 'DecryptionError', 'OMEMO-MAC')
  })

  it("a third party's identity key in the AD does not authenticate (unknown key share)", async () => {
    const { bob, a, b } = await establishedPair()
    const m = sessionEncrypt(p, a, new Uint8Array(48)).bytes
    const eve = await p.ed25519PublicKey(p.randomBytes(32))
    await expectError(
      () => ratchetDecrypt(p, b.ratchet, m, associatedData(eve, bob.identity.edPub)),
      'DecryptionError',
      'OMEMO-MAC',
    )
  })
})
