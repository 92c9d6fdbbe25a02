/**
 * D-12 identity linking: an OMEMO 2 identity key (Ed25519) and an OMEMO 0.3 identity key
 * (Curve25519) of the same key pair are one identity. The engine knows no protocol: the OMEMO 2
 * backend declares a `KeyLink` (here a table with the shape of the real map: Ed25519 → X25519 is a
 * function, X25519 → Ed25519 gives two candidates, one per sign bit). The real map is tested in
 * `@vouch/backend-omemo` (`key-link.test.ts`) and end to end in the simulator.
 */
import { NS_OMEMO_2, NS_OMEMO_LEGACY } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { AtmEvents } from '../src/index.ts'
import {
  A1,
  A2,
  ALICE,
  ALICE_PHONE,
  BOB,
  BOB_PHONE,
  OMEMO_LEGACY,
  omemoKey,
  seed,
  trustMessage,
} from './helpers.ts'
import { AX1, BE, BE_OTHER_SIGN, BE2, BX, BX2, OMEMO_LINKED } from './link-fixture.ts'
import { type Endpoint, endpoint, receive, STORES } from './stores.ts'

const NS2 = NS_OMEMO_2
const NS03 = NS_OMEMO_LEGACY

describe.each(STORES)('D-12 identity linking ($name)', (storeEntry) => {
  let ep: Endpoint
  afterEach(async () => ep.close())
  const make = async (policy = {}) => {
    ep = await endpoint({
      store: storeEntry,
      backends: [OMEMO_LINKED, OMEMO_LEGACY],
      ownKeys: { [NS2]: A1, [NS03]: AX1 },
      policy,
    })
    return ep
  }

  it('D-12: authenticating the OMEMO 2 key authenticates the OMEMO 0.3 key of the same pair', async () => {
    await make()
    await ep.atm.keysDiscovered(NS03, BOB, [BX])
    const r = await ep.atm.authenticate(NS2, BOB, [BE])
    expect(await ep.store.getTrustLevel(NS03, BOB, BX)).toBe('authenticated')
    expect(r.changes.map((c) => [c.encryption, c.keyId, c.level])).toEqual([
      [NS2, BE, 'authenticated'],
      [NS03, BX, 'authenticated'],
    ])
    expect((await ep.store.getKey(NS03, BOB, BX))?.provenance).toEqual({ kind: 'manual' })
  })

  it('D-12: no record is made for a twin the owner does not use; when it appears, it inherits the decision', async () => {
    await make()
    await ep.atm.authenticate(NS2, BOB, [BE])
    expect(await ep.store.getKey(NS03, BOB, BX)).toBeUndefined()
    await ep.atm.keysDiscovered(NS03, BOB, [BX])
    expect(await ep.store.getTrustLevel(NS03, BOB, BX)).toBe('authenticated')
  })

  it('D-12: authenticating the OMEMO 0.3 key authenticates only the OMEMO 2 key Bob publishes, not the other sign’s point', async () => {
    await make()
    await ep.atm.keysDiscovered(NS2, BOB, [BE])
    await ep.atm.authenticate(NS03, BOB, [BX])
    expect(await ep.store.getTrustLevel(NS2, BOB, BE)).toBe('authenticated')
    expect(await ep.store.getKey(NS2, BOB, BE_OTHER_SIGN)).toBeUndefined()
  })

  it('D-12: a distrust crosses too', async () => {
    await make()
    await ep.atm.keysDiscovered(NS2, BOB, [BE])
    await ep.atm.distrust(NS03, BOB, [BX])
    expect(await ep.store.getTrustLevel(NS2, BOB, BE)).toBe('manually-distrusted')
  })

  it('D-12: a key that appears later inherits its twin’s decision instead of the policy’s level', async () => {
    await make()
    await ep.atm.authenticate(NS03, BOB, [BX]) // Bob's OMEMO 2 key not known yet
    await ep.atm.distrust(NS03, BOB, [BX2])
    const r = await ep.atm.keysDiscovered(NS2, BOB, [BE, BE2, omemoKey('B3')])
    expect(await ep.store.getTrustLevel(NS2, BOB, BE)).toBe('authenticated')
    expect(await ep.store.getTrustLevel(NS2, BOB, BE2)).toBe('manually-distrusted')
    // an unlinked new key gets the policy's level (TOAKAFA: Bob was authenticated once in OMEMO 2 now)
    expect(await ep.store.getTrustLevel(NS2, BOB, omemoKey('B3'))).toBe('automatically-distrusted')
    expect(r.added.map((k) => k.keyId).sort()).toEqual([BE, BE2, omemoKey('B3')].sort())
  })

  it('D-12: when the twins disagree, a new key inherits the distrust (fail safe)', async () => {
    await make()
    // the other sign's point authenticated in OMEMO 2 (a stale record), the 0.3 key distrusted
    await seed(ep.store, NS2, BOB, [BE_OTHER_SIGN], 'authenticated')
    await seed(ep.store, NS03, BOB, [BX], 'manually-distrusted')
    await ep.atm.keysDiscovered(NS2, BOB, [BE])
    expect(await ep.store.getTrustLevel(NS2, BOB, BE)).toBe('manually-distrusted')
  })

  it('D-12: linkIdentities: false keeps the protocols apart', async () => {
    await make({ linkIdentities: false })
    await ep.atm.authenticate(NS2, BOB, [BE])
    expect(await ep.store.getKey(NS03, BOB, BX)).toBeUndefined()
    await ep.atm.authenticate(NS03, BOB, [BX2])
    await ep.atm.keysDiscovered(NS2, BOB, [BE2])
    expect(await ep.store.getTrustLevel(NS2, BOB, BE2)).not.toBe('authenticated')
  })

  it('D-12, ATM-R2: an automatic decision from an authenticated sender crosses too, with the sender’s provenance and a linkedFrom event', async () => {
    await make()
    await seed(ep.store, NS2, BOB, [BE], 'authenticated')
    await ep.atm.keysDiscovered(NS03, BOB, [BX2])
    const events: AtmEvents['level-changed'][] = []
    ep.atm.on('level-changed', (e) => events.push(e))
    const r = await receive(ep.atm, {
      from: BOB_PHONE,
      key: BE,
      message: trustMessage(NS2, [{ jid: BOB, trust: [BE2] }]),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS03, BOB, BX2)).toBe('authenticated')
    const crossed = events.find((e) => e.key.encryption === NS03)
    expect(crossed).toMatchObject({
      key: { encryption: NS03, owner: BOB, keyId: BX2 },
      to: 'authenticated',
      provenance: { kind: 'atm', senderJid: BOB, senderKey: BE },
      linkedFrom: { encryption: NS2, owner: BOB, keyId: BE2 },
    })
  })

  it('D-10 across the link: under manualDecisionsFinal an automatic trust does not pass the twin’s manual distrust', async () => {
    await make({ manualDecisionsFinal: true })
    await seed(ep.store, NS2, BOB, [BE], 'authenticated')
    await ep.atm.distrust(NS03, BOB, [BX2]) // manual, on the 0.3 twin only (BE2 not known yet)
    await receive(ep.atm, {
      from: BOB_PHONE,
      key: BE,
      message: trustMessage(NS2, [{ jid: BOB, trust: [BE2] }]),
    })
    expect(await ep.store.getTrustLevel(NS2, BOB, BE2)).toBe('authenticated')
    expect(await ep.store.getTrustLevel(NS03, BOB, BX2)).toBe('manually-distrusted')
  })

  it('D-12, ATM-P1: postponed decisions sent by a key are released when its twin is authenticated', async () => {
    await make()
    // Bob's Vouch device (OMEMO 2 key BE) vouches for his second device before we trust it
    const r = await receive(ep.atm, {
      from: BOB_PHONE,
      key: BE,
      message: trustMessage(NS2, [{ jid: BOB, trust: [BE2] }]),
    })
    expect(r.outcome).toBe('postponed')
    // we scan his Conversations code, which shows the OMEMO 0.3 form of the same key
    await ep.atm.keysDiscovered(NS2, BOB, [BE])
    await ep.atm.authenticate(NS03, BOB, [BX])
    expect(await ep.store.getTrustLevel(NS2, BOB, BE)).toBe('authenticated')
    expect(await ep.store.getTrustLevel(NS2, BOB, BE2)).toBe('authenticated')
  })

  it('X8: our own key’s twin is never stored nor changed by a decision', async () => {
    await make()
    await seed(ep.store, NS2, ALICE, [A2], 'authenticated')
    await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A2,
      message: trustMessage(NS03, [{ jid: ALICE, distrust: [AX1] }]),
    })
    expect(await ep.store.getKey(NS03, ALICE, AX1)).toBeUndefined()
    await ep.atm.keysDiscovered(NS03, ALICE, [AX1])
    expect(await ep.store.getKey(NS03, ALICE, AX1)).toBeUndefined()
  })
})
