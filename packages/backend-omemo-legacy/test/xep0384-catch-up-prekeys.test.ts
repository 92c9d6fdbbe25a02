/**
 * XEP-0384 (v0.9 §6, the same practice for v0.3): a one-time pre key used by a key exchange read
 * during a catch-up is kept until the catch-up ends, so that a second sender who took the same
 * pre key from Bob's unchanged bundle while he was offline is still read; read live, that second
 * key exchange is refused (OMEMO03-KEX), and after `catchUpDone` too.
 */
import type { Element } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { NS_AXOLOTL } from '../src/wire.ts'
import { addressing, body, bodyText, expectError, type Party, party } from './helpers.ts'

/** `x` learns Bob's device with a bundle offering one pre key only: the one every sender takes. */
async function learnOnePreKey(x: Party, bob: Party): Promise<number> {
  const bundle = await bob.backend.ownBundle()
  const only = bundle.preKeys[0] as (typeof bundle.preKeys)[number]
  await x.backend.importDeviceList(bob.jid, [bob.deviceId])
  const key = await x.backend.importBundle(bob.jid, bob.deviceId, { ...bundle, preKeys: [only] })
  await x.store.addKeys(
    NS_AXOLOTL,
    bob.jid,
    [key],
    { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
    'automatically-trusted',
  )
  return only.id
}

async function scene() {
  const bob = await party('bob@example.org')
  const senders = await Promise.all(
    ['alice@example.org', 'carol@example.org', 'dave@example.org'].map((j) => party(j)),
  )
  for (const s of senders) await bob.backend.importDeviceList(s.jid, [s.deviceId])
  const shared = new Set(await Promise.all(senders.map((s) => learnOnePreKey(s, bob))))
  expect(shared.size).toBe(1)
  const sent: Element[] = []
  for (const s of senders) sent.push((await s.backend.encrypt(body(`from ${s.jid}`), [bob.jid])).element)
  return { bob, senders: senders as [Party, Party, Party], preKeyId: [...shared][0] as number, sent }
}

describe('pre keys during a catch-up (XEP-0384)', () => {
  it('OMEMO03-KEX: read live, a second key exchange on a pre key already used is refused', async () => {
    const { bob, senders, sent } = await scene()
    expect(
      bodyText((await bob.backend.decrypt(sent[0] as Element, addressing(senders[0], bob))).payload),
    ).toBe(`from ${senders[0].jid}`)
    await expectError(
      bob.backend.decrypt(sent[1] as Element, addressing(senders[1], bob)),
      'DecryptionError',
      'OMEMO03-KEX',
    )
  })

  it('XEP-0384 §6: read during a catch-up, both key exchanges on the same pre key are read; it leaves the bundle at the first; after catchUpDone a third is refused', async () => {
    const { bob, senders, preKeyId, sent } = await scene()
    const [alice, carol, dave] = senders
    const opts = { fromCatchUp: true }
    expect(
      bodyText((await bob.backend.decrypt(sent[0] as Element, addressing(alice, bob), opts)).payload),
    ).toBe(`from ${alice.jid}`)
    expect((await bob.backend.ownBundle()).preKeys.map((k) => k.id)).not.toContain(preKeyId)
    expect(
      bodyText((await bob.backend.decrypt(sent[1] as Element, addressing(carol, bob), opts)).payload),
    ).toBe(`from ${carol.jid}`)
    await bob.backend.catchUpDone()
    await expectError(
      bob.backend.decrypt(sent[2] as Element, addressing(dave, bob), opts),
      'DecryptionError',
      'OMEMO03-KEX',
    )
    // Carol's session works on
    const again = await carol.backend.encrypt(body('carol again'), [bob.jid])
    expect(bodyText((await bob.backend.decrypt(again.element, addressing(carol, bob))).payload)).toBe(
      'carol again',
    )
  })
})
