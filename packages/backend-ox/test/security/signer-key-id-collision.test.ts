/**
 * Attack: a second key of the sender whose (sub)key carries the 64-bit key id of the signing key
 * (a "colliding" key id). A real 64-bit collision costs 2^64 SHA-1 work, but none is needed: a
 * public key packet can be copied into another key, so a key the server publishes for alice can
 * hold a copy of alice's signing key as a subkey — same material, same creation time, hence the
 * same fingerprint and key id. Its fingerprint only has to sort before the genuine key's (a few
 * tries).
 *
 * The signer is the key whose signature verifies, identified by its full fingerprint; a key id
 * only picks candidates, and each candidate is verified on its own:
 * - a copy bound without the copied key's back-signature (all an attacker can make) verifies
 *   nothing, and must not shadow the genuine key (before: the first key-id match was the only one
 *   tried, and alice's genuine messages were refused as `OX-SIG`);
 * - a copy bound with the back-signature (only the holder of the signing key can make one) makes
 *   the signature verify under two keys at two trust levels: the signer cannot be told, so the
 *   message is refused (`OX-SIGNER`) rather than credited to whichever key sorts first (before:
 *   the distrusted key, so the message was attributed to the wrong key and level).
 */
import type { BareJid, KeyId } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import { beforeEach, describe, expect, it } from 'vitest'
import { fingerprintOf, generateOxKey, keyIdOf, NS_OX } from '../../src/index.ts'
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

const YEAR_AGO = new Date(Date.now() - 365 * 24 * 3600 * 1000)

/**
 * A key for `owner` (its own primary key, `xmpp:<owner>`, an encryption subkey) that also holds
 * `victim`'s primary key packet as a signing subkey, bound by the new primary key; with the
 * victim's back-signature (primary key binding, 0x19) only when `victimSecret` is given.
 */
async function keyWithCopiedSigningKey(
  owner: BareJid,
  victim: openpgp.PublicKey,
  victimSecret: openpgp.PrivateKey | undefined,
  sortsBefore: string,
): Promise<openpgp.PublicKey> {
  let host = await generateOxKey(owner, { date: YEAR_AGO })
  // the victim's fingerprint starts at 2 or above (beforeEach): each try sorts first with p >= 1/8
  for (let i = 0; fingerprintOf(host) >= sortsBefore; i++) {
    if (i > 200) throw new Error('could not make a key that sorts first')
    host = await generateOxKey(owner, { date: YEAR_AGO })
  }
  const copy = new openpgp.PublicSubkeyPacket() as openpgp.PublicSubkeyPacket & {
    read(bytes: Uint8Array): Promise<unknown>
  }
  await copy.read(victim.keyPacket.write())
  expect(copy.getFingerprint()).toBe(victim.getFingerprint()) // the same key id, by construction
  const bind = { key: host.keyPacket, bind: copy }
  type Signer = openpgp.SignaturePacket & {
    sign(key: unknown, data: unknown, date: Date, detached: boolean, config: unknown): Promise<void>
  }
  const binding = new openpgp.SignaturePacket() as Signer
  binding.signatureType = openpgp.enums.signature.subkeyBinding
  binding.publicKeyAlgorithm = host.keyPacket.algorithm
  binding.hashAlgorithm = openpgp.enums.hash.sha256
  binding.keyFlags = new Uint8Array([openpgp.enums.keyFlags.signData])
  if (victimSecret !== undefined) {
    const back = new openpgp.SignaturePacket() as Signer
    back.signatureType = openpgp.enums.signature.keyBinding
    back.publicKeyAlgorithm = victimSecret.keyPacket.algorithm
    back.hashAlgorithm = openpgp.enums.hash.sha256
    await back.sign(victimSecret.keyPacket, bind, YEAR_AGO, false, openpgp.config)
    binding.embeddedSignature = back
  }
  await binding.sign(host.keyPacket, bind, YEAR_AGO, false, openpgp.config)
  const packets = host.toPublic().toPacketList()
  packets.push(copy, binding)
  return new openpgp.PublicKey(packets)
}

let alice: Party
let bob: Party
let genuine: KeyId
beforeEach(async () => {
  // alice's key must leave room to sort before it: a fingerprint starting with 0 or 1 (1 run in 8)
  // would make the attacker's search below long (1 try in 256 succeeds for one starting with 00)
  for (let i = 0; ; i++) {
    ;[alice, bob] = await introducedParties(ALICE, BOB)
    if (fingerprintOf(await ownPrivate(alice)) >= '2') break
    if (i > 50) throw new Error('no key of alice sorts at 2 or above')
  }
  // bob verified alice's key: it is authenticated, and any later key of alice's is distrusted
  genuine = keyIdOf(await ownPrivate(alice))
  await bob.store.setTrustLevels(NS_OX, [{ owner: ALICE, keyIds: [genuine], level: 'authenticated' }], {
    provenance: { kind: 'manual' },
    at: Date.now(),
  })
})

describe('signer key id collision (the signer is the key that verified, by fingerprint)', () => {
  it("a copy of alice's signing key without its back-signature does not shadow the genuine key", async () => {
    const a = await ownPrivate(alice)
    const shadow = await keyWithCopiedSigningKey(ALICE, a.toPublic(), undefined, fingerprintOf(a))
    // ATM keysDiscovered (TOAKAFA after alice's first authentication) registers it distrusted
    const [imported] = await importKey(bob.ox, bob.store, ALICE, shadow.write(), 'automatically-distrusted')
    expect(imported?.status.usable).toBe(true)

    const sent = await alice.ox.encrypt(body('genuine'), [BOB])
    const got = await bob.ox.decrypt(sent.element, stanza(ALICE, BOB))
    expect(got.senderKey).toBe(genuine)
    expect(await bob.store.getTrustLevel(NS_OX, ALICE, got.senderKey as KeyId)).toBe('authenticated')
  })

  it('a signing key validly bound into two keys of the sender is ambiguous: OX-SIGNER, never the first match', async () => {
    const a = await ownPrivate(alice)
    const twin = await keyWithCopiedSigningKey(ALICE, a.toPublic(), a, fingerprintOf(a))
    const [imported] = await importKey(bob.ox, bob.store, ALICE, twin.write(), 'automatically-distrusted')
    expect(imported?.status.usable).toBe(true)

    const sent = await alice.ox.encrypt(body('whose?'), [BOB])
    const e = await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, BOB)))
    expect(e).toMatchObject({ name: 'DecryptionError', rule: 'OX-SIGNER' })
    expect(e.message).toContain(fingerprintOf(a))
    expect(e.message).toContain(fingerprintOf(twin))
    await bob.ox.removePublicKey(ALICE, keyIdOf(twin))
    // without the twin, the same message is alice's genuine key's again
    expect((await bob.ox.decrypt(sent.element, stanza(ALICE, BOB))).senderKey).toBe(genuine)
  })
})
