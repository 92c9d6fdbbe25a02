/**
 * ATM-S1 … S6 with D-12 identity linking: a local decision about one protocol's key also decides
 * its twin in another protocol (the same key pair); that twin's change is planned as a local
 * decision in its own protocol, over the carrier when that protocol is body-only (OMEMO 0.3).
 * The case that needs it: an own device running OMEMO 2 and OMEMO 0.3 with one key pair, added
 * after the other own devices had authenticated and distrusted OMEMO 0.3 keys of contacts.
 */
import type { BareJid, KeyId, KeyRef } from '@vouch/tm-core'
import { NS_OMEMO_2, NS_OMEMO_LEGACY } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { OutgoingTrustMessage } from '../src/index.ts'
import { A1, A2, A3, ALICE, ALICE_PHONE, BOB, CAROL, OMEMO_LEGACY, trustMessage } from './helpers.ts'
import { AX1, AX2, AX3, BE, BE2, BX, BX2, CX1, CX2, OMEMO_LINKED, seedLinkedWorld } from './link-fixture.ts'
import { type Endpoint, endpoint, receive, STORES } from './stores.ts'

const NS2 = NS_OMEMO_2
const NS03 = NS_OMEMO_LEGACY

const LABELS = new Map<string, string>([
  [`${ALICE} ${A2}`, 'A2'],
  [`${ALICE} ${A3}`, 'A3'],
  [`${BOB} ${BE}`, 'BE'],
])
/** An outgoing message in a comparable form: readers by label, sorted. */
const shape = (o: OutgoingTrustMessage) => ({
  to: o.to,
  encryption: o.message.encryption,
  carrier: o.carrier,
  owners: o.message.keyOwners,
  readers: o.allowedKeys
    .map((k: KeyRef) => `${k.encryption} ${LABELS.get(`${k.owner} ${k.keyId}`) ?? k.keyId}`)
    .sort(),
})
const owner = (jid: BareJid, trust: KeyId[], distrust: KeyId[] = []) => ({ jid, trust, distrust })

describe.each(STORES)('ATM-S3/S4 with D-12 identity linking ($name)', (storeEntry) => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  /**
   * This device (A1/AX1) and a sibling (A2/AX2) run both protocols; Bob runs both too (BE/BX),
   * Carol OMEMO 0.3 only. A new device A3/AX3 of Alice runs both and is known, not yet decided.
   */
  async function setup(policy = {}, world: Parameters<typeof seedLinkedWorld>[1] = {}): Promise<Endpoint> {
    ep = await endpoint({
      store: storeEntry,
      backends: [OMEMO_LINKED, OMEMO_LEGACY],
      ownKeys: { [NS2]: A1, [NS03]: AX1 },
      policy,
    })
    await seedLinkedWorld(ep, world)
    return ep
  }

  /** What authenticating the new device sends, in either protocol (ATM-S3, ATM-S4, both protocols). */
  const newDeviceMessages = [
    // OMEMO 2, the decision itself
    {
      to: BOB,
      encryption: NS2,
      carrier: undefined,
      owners: [owner(ALICE, [A3])],
      readers: [`${NS2} A2`, `${NS2} BE`],
    },
    {
      to: ALICE,
      encryption: NS2,
      carrier: undefined,
      owners: [owner(BOB, [BE]), owner(ALICE, [A2])],
      readers: [`${NS2} A3`],
    },
    // OMEMO 0.3, the twin's, over OMEMO 2: the new device is not told about itself (A3 is AX3)
    {
      to: BOB,
      encryption: NS03,
      carrier: NS2,
      owners: [owner(ALICE, [AX3])],
      readers: [`${NS2} A2`, `${NS2} BE`],
    },
    {
      to: ALICE,
      encryption: NS03,
      carrier: NS2,
      owners: [owner(BOB, [BX]), owner(CAROL, [CX1], [CX2]), owner(ALICE, [AX2])],
      // only the new device: A2 is AX2, which the message lists
      readers: [`${NS2} A3`],
    },
  ]

  it('ATM-S4 + D-12: authenticating a new own device’s OMEMO 2 key sends it, over OMEMO 2, every authenticated and distrusted OMEMO 0.3 key (its OMEMO 0.3 twin authenticated by identity linking); ATM-S3 + D-12: its OMEMO 0.3 key goes to Bob, with a copy for A2', async () => {
    await setup()
    const r = await ep.atm.authenticate(NS2, ALICE, [A3])
    expect(r.changes.map((c) => [c.encryption, c.keyId, c.level])).toEqual([
      [NS2, A3, 'authenticated'],
      [NS03, AX3, 'authenticated'],
    ])
    expect(r.outgoing.map(shape)).toEqual(newDeviceMessages)
    // never encrypted in OMEMO 0.3 (TM-15, TM-21 are read in the carrier)
    expect(r.outgoing.flatMap((o) => o.allowedKeys.map((k) => k.encryption))).not.toContain(NS03)
  })

  it('ATM-S4 + D-12, the other way: authenticating the new device’s OMEMO 0.3 key (its Conversations code) sends the same messages, the OMEMO 2 ones planned for its twin', async () => {
    await setup()
    const r = await ep.atm.authenticate(NS03, ALICE, [AX3])
    expect(await ep.store.getTrustLevel(NS2, ALICE, A3)).toBe('authenticated')
    const out = r.outgoing.map(shape)
    expect(out).toEqual([...newDeviceMessages.slice(2), ...newDeviceMessages.slice(0, 2)])
  })

  it('ATM-S3 + D-12 without a contact authenticated in OMEMO 2: the new device’s OMEMO 0.3 key goes to our own bare JID for A2', async () => {
    await setup({}, { bob: false })
    const r = await ep.atm.authenticate(NS2, ALICE, [A3])
    expect(r.outgoing.map(shape)).toEqual([
      {
        to: ALICE,
        encryption: NS2,
        carrier: undefined,
        owners: [owner(ALICE, [A3])],
        readers: [`${NS2} A2`],
      },
      {
        to: ALICE,
        encryption: NS2,
        carrier: undefined,
        owners: [owner(ALICE, [A2])],
        readers: [`${NS2} A3`],
      },
      { to: ALICE, encryption: NS03, carrier: NS2, owners: [owner(ALICE, [AX3])], readers: [`${NS2} A2`] },
      {
        to: ALICE,
        encryption: NS03,
        carrier: NS2,
        owners: [owner(CAROL, [CX1], [CX2]), owner(ALICE, [AX2])],
        readers: [`${NS2} A3`],
      },
    ])
  })

  it('ATM-S5 + D-12: distrusting a sibling’s OMEMO 2 key tells Bob about both its keys; no all-keys message (ATM-S4 is for authentications only)', async () => {
    await setup()
    const r = await ep.atm.distrust(NS2, ALICE, [A2])
    expect(await ep.store.getTrustLevel(NS03, ALICE, AX2)).toBe('manually-distrusted')
    expect(r.outgoing.map(shape)).toEqual([
      {
        to: BOB,
        encryption: NS2,
        carrier: undefined,
        owners: [owner(ALICE, [], [A2])],
        readers: [`${NS2} BE`],
      },
      { to: BOB, encryption: NS03, carrier: NS2, owners: [owner(ALICE, [], [AX2])], readers: [`${NS2} BE`] },
    ])
  })

  it('D-5 with D-12: a received decision that identity linking carries to the twin sends nothing', async () => {
    await setup()
    const r = await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A2,
      message: trustMessage(NS2, [{ jid: ALICE, trust: [A3] }]),
    })
    expect(r.outcome).toBe('applied')
    expect(await ep.store.getTrustLevel(NS03, ALICE, AX3)).toBe('authenticated')
    expect(r.outgoing).toEqual([])
  })

  it('ATM-S3/S4 + D-12, twin announced later: the new device’s OMEMO 0.3 key, announced after its OMEMO 2 key was authenticated here, inherits the decision and keysDiscovered returns its OMEMO 0.3 messages', async () => {
    await setup({}, { twinsAnnounced: false })
    const r = await ep.atm.authenticate(NS2, ALICE, [A3])
    expect(r.outgoing.map(shape)).toEqual(newDeviceMessages.slice(0, 2))
    const later = await ep.atm.keysDiscovered(NS03, ALICE, [AX3])
    expect(later.added.map((k) => [k.keyId, k.level])).toEqual([[AX3, 'authenticated']])
    expect(later.outgoing.map(shape)).toEqual(newDeviceMessages.slice(2))
    // announced again: already stored, nothing new
    expect((await ep.atm.keysDiscovered(NS03, ALICE, [AX3])).outgoing).toEqual([])
  })

  it('D-5 with D-12, twin announced later: a key whose twin was authenticated by a received trust message inherits it and sends nothing', async () => {
    await setup({}, { twinsAnnounced: false })
    await receive(ep.atm, {
      from: ALICE_PHONE,
      key: A2,
      message: trustMessage(NS2, [{ jid: ALICE, trust: [A3] }]),
    })
    const later = await ep.atm.keysDiscovered(NS03, ALICE, [AX3])
    expect(later.added.map((k) => [k.keyId, k.level])).toEqual([[AX3, 'authenticated']])
    expect(later.outgoing).toEqual([])
  })

  it('ATM-S6 + D-12, twin announced later: a contact’s OMEMO 0.3 key whose OMEMO 2 twin was distrusted here is distrusted when it appears, and our own endpoints are told over OMEMO 2', async () => {
    await setup({}, { twinsAnnounced: false })
    await ep.atm.distrust(NS2, BOB, [BE2])
    const later = await ep.atm.keysDiscovered(NS03, BOB, [BX2])
    expect(later.added.map((k) => [k.keyId, k.level])).toEqual([[BX2, 'manually-distrusted']])
    expect(later.outgoing.map(shape)).toEqual([
      { to: ALICE, encryption: NS03, carrier: NS2, owners: [owner(BOB, [], [BX2])], readers: [`${NS2} A2`] },
    ])
  })

  it('D-12: with linkIdentities: false only the decided protocol’s messages are sent (the twin is not decided)', async () => {
    await setup({ linkIdentities: false })
    const r = await ep.atm.authenticate(NS2, ALICE, [A3])
    expect(await ep.store.getTrustLevel(NS03, ALICE, AX3)).not.toBe('authenticated')
    expect(r.outgoing.map(shape)).toEqual(newDeviceMessages.slice(0, 2))
  })
})
