import { parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { decodeOmemoKeyExchange, encodeOmemoKeyExchange } from '../../src/proto.ts'
import { createActiveSession } from '../../src/session.ts'
import { buildEncrypted, parseEncrypted } from '../../src/xep0384.ts'
import { expectError, makeDevice, provider as p } from '../helpers.ts'
import { backendPair, body, stanza } from './helpers.ts'

describe('key exchange without a one-time pre key (OMEMO-KEX)', () => {
  it('we never start a session from a bundle without pre keys', async () => {
    const alice = await makeDevice()
    const bob = await makeDevice()
    await expectError(
      () => createActiveSession(p, alice.identity, { ...bob.bundle, preKeys: [] }),
      'DecryptionError',
      'OMEMO-KEX',
    )
  })

  it('a bundle whose signed pre key signature does not verify is refused (OMEMO-SPKS)', async () => {
    const alice = await makeDevice()
    const bob = await makeDevice()
    const spks = bob.bundle.spks.slice()
    spks[10] = (spks[10] as number) ^ 1
    await expectError(
      () => createActiveSession(p, alice.identity, { ...bob.bundle, spks }),
      'DecryptionError',
      'OMEMO-SPKS',
    )
    const { alice: a, bob: b } = await backendPair()
    await expectError(
      async () =>
        a.backend.importBundle(b.jid, (await b.backend.ownDeviceId()) as number, {
          ...(await b.backend.ownBundle()),
          spks,
        }),
      'DecryptionError',
      'OMEMO-SPKS',
    )
  })

  it('a received key exchange naming an unknown (or already used) pre key is rejected, nothing stored', async () => {
    const { alice, bob } = await backendPair()
    const sent = parseEncrypted((await alice.backend.encrypt(body('x'), [bob.jid])).element)
    const [key] = sent.keys.get(bob.jid) ?? []
    if (key === undefined) throw new Error('no key')
    const kex = decodeOmemoKeyExchange(key.data)
    const forged = buildEncrypted({
      ...sent,
      keys: new Map([[bob.jid, [{ ...key, data: encodeOmemoKeyExchange({ ...kex, pkId: 999_999 }) }]]]),
    })
    await expectError(
      () => bob.backend.decrypt(forged, stanza(alice.jid, bob.jid)),
      'DecryptionError',
      'OMEMO-KEX',
    )
    expect((await bob.backend.devices(alice.jid)).every((d) => !d.hasSession)).toBe(true)
    // the genuine message still works (the failure consumed nothing)
    const ok = await bob.backend.decrypt(
      parseXml(buildEncrypted(sent).toString()),
      stanza(alice.jid, bob.jid),
    )
    expect(ok.payload[0]?.name).toBe('body')
  })

  it('after the pre key was used, a different key exchange with it is rejected', async () => {
    const { alice, bob } = await backendPair()
    const sent = parseEncrypted((await alice.backend.encrypt(body('x'), [bob.jid])).element)
    await bob.backend.decrypt(buildEncrypted(sent), stanza(alice.jid, bob.jid))
    const [key] = sent.keys.get(bob.jid) ?? []
    const kex = decodeOmemoKeyExchange(key?.data as Uint8Array)
    const ek = await p.x25519PublicKey(p.randomBytes(32))
    const forged = buildEncrypted({
      ...sent,
      keys: new Map([
        [bob.jid, [{ rid: key?.rid as number, kex: true, data: encodeOmemoKeyExchange({ ...kex, ek }) }]],
      ]),
    })
    await expectError(
      () => bob.backend.decrypt(forged, stanza(alice.jid, bob.jid)),
      'DecryptionError',
      'OMEMO-KEX',
    )
  })
})
