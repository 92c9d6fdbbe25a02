/**
 * D-12 on the simulator (production receive pipeline, XEP-0434 codec, Carbons, MAM, adversarial
 * delivery): trust messages about OMEMO 0.3 keys (`eu.siacs.conversations.axolotl`, a body-only
 * protocol: it cannot carry a trust message) travel between Alice's own endpoints over the
 * simulated OMEMO 2. Bob runs a pure OMEMO 0.3 client (Conversations, no ATM): his keys are not
 * simulated endpoints, only key ids Alice's endpoints learn from his device list.
 */
import type { AtmBackend } from '@vouch/atm'
import type { KeyId, KeyLink } from '@vouch/tm-core'
import { keyIdFromBytes, keyIdToBytes, NS_OMEMO_2, NS_OMEMO_LEGACY, parseBareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { createNetwork, type Network, type SimEndpoint } from '../src/index.ts'

const LEGACY: AtmBackend = {
  namespace: NS_OMEMO_LEGACY,
  capabilities: { oneKeyPerIdentity: false, keyIdLength: 32, bodyOnly: true },
}
const BOB = parseBareJid('bob@example.com')
const key = (n: number): KeyId => keyIdFromBytes(new Uint8Array(32).fill(n))
const BL1 = key(0xb1)
const BL2 = key(0xb2)

async function aliceWithThreeEndpoints(seed: number): Promise<Network> {
  const net = await createNetwork({
    seed,
    extraBackends: [LEGACY],
    adversary: { reorder: true, duplicate: 0.3, dropToArchive: 0.3 },
  })
  for (let i = 0; i < 3; i++) await net.addEndpoint('alice')
  await net.authenticateMutually('alice/1', 'alice/2')
  await net.authenticateMutually('alice/1', 'alice/3')
  await net.run()
  expect(await net.converged()).toBe(true)
  // Bob's OMEMO 0.3 device list reaches every endpoint
  for (const ep of net.endpoints) await ep.atm.keysDiscovered(NS_OMEMO_LEGACY, BOB, [BL1, BL2])
  return net
}

describe('D-12 trust across protocols on the simulator', () => {
  for (const seed of [1, 2, 3]) {
    it(`ATM-S1/R1 with OMEMO 0.3 keys (issue 12 §3c): Bob authenticated once on alice/1 is authenticated on alice/2 and alice/3, carried by OMEMO 2 (seed ${seed}, reordering, duplicates, MAM)`, async () => {
      const net = await aliceWithThreeEndpoints(seed)
      try {
        await net.setOnline('alice/3', false)
        // alice/1 scans Bob's Conversations code (@vouch/uri parseScannedUri → this Trust Message URI)
        const r = await net
          .endpoint('alice/1')
          .atm.applyUri(
            { jid: BOB, encryption: NS_OMEMO_LEGACY, trust: [BL1], distrust: [] },
            { uriSource: 'scan', confirm: async () => true },
          )
        expect(r.outgoing.map((o) => [o.to, o.carrier, o.message.encryption])).toEqual([
          [net.accountJid('alice'), NS_OMEMO_2, NS_OMEMO_LEGACY],
        ])
        net.sendOutgoing('alice/1', r.outgoing)
        await net.run()
        await net.setOnline('alice/3', true) // catches up from the archive
        await net.run()
        for (const label of ['alice/1', 'alice/2', 'alice/3']) {
          const store = net.endpoint(label).store
          expect(await store.getTrustLevel(NS_OMEMO_LEGACY, BOB, BL1), label).toBe('authenticated')
          // TOAKAFA (D-11) per protocol: Bob's other 0.3 device is no longer blindly trusted
          expect(await store.getTrustLevel(NS_OMEMO_LEGACY, BOB, BL2), label).toBe('automatically-distrusted')
        }
        // only Alice's endpoints read it, and only in OMEMO 2 (TM-15, TM-21)
        expect(net.messages.flatMap((m) => m.allowedKeys.map((k) => k.encryption))).not.toContain(
          NS_OMEMO_LEGACY,
        )
      } finally {
        await net.close()
      }
    })
  }

  it('ATM-S6/R6 across protocols: alice/2 distrusts Bob’s OMEMO 0.3 key; alice/1 and alice/3 follow', async () => {
    const net = await aliceWithThreeEndpoints(4)
    try {
      const a = await net.endpoint('alice/1').atm.authenticate(NS_OMEMO_LEGACY, BOB, [BL1])
      net.sendOutgoing('alice/1', a.outgoing)
      await net.run()
      const d = await net.endpoint('alice/2').atm.distrust(NS_OMEMO_LEGACY, BOB, [BL1])
      net.sendOutgoing('alice/2', d.outgoing)
      await net.run()
      for (const label of ['alice/1', 'alice/2', 'alice/3'])
        expect(await net.endpoint(label).store.getTrustLevel(NS_OMEMO_LEGACY, BOB, BL1), label).toBe(
          'manually-distrusted',
        )
    } finally {
      await net.close()
    }
  })

  it('D-12, X9: an injected device in Alice’s list, not authenticated in OMEMO 2, gets nothing applied; a contact cannot vouch for Bob’s 0.3 keys', async () => {
    const net = await aliceWithThreeEndpoints(5)
    try {
      const mallory = await net.injectKey('alice')
      await net.addEndpoint('carol')
      await net.authenticateMutually('alice/1', 'carol/1')
      await net.run()
      const vouch = {
        usage: 'urn:xmpp:atm:1',
        encryption: NS_OMEMO_LEGACY,
        keyOwners: [{ jid: BOB, trust: [BL2], distrust: [] }],
      }
      net.forge(mallory.label, net.accountJid('alice'), vouch)
      net.forge('carol/1', net.accountJid('alice'), vouch)
      await net.run()
      for (const label of ['alice/1', 'alice/2', 'alice/3'])
        expect(await net.endpoint(label).store.getTrustLevel(NS_OMEMO_LEGACY, BOB, BL2), label).not.toBe(
          'authenticated',
        )
      // the injected device's decisions wait (ATM-P1) and are dropped once it is distrusted
      expect(
        (await net.endpoint('alice/1').store.getPostponed(NS_OMEMO_LEGACY)).map((p) => [
          p.senderKey,
          p.keyId,
        ]),
      ).toEqual([[mallory.key, BL2]])
      await net.endpoint('alice/1').atm.distrust(NS_OMEMO_2, mallory.account, [mallory.key])
      expect(await net.endpoint('alice/1').store.getPostponed(NS_OMEMO_LEGACY)).toEqual([])
    } finally {
      await net.close()
    }
  })
})

/**
 * A device running both protocols with one key pair (D-12 identity linking). The simulated OMEMO 2
 * keys are random bytes, so the link is a stand-in bijection (every byte XOR 0x5a) declared by the
 * OMEMO 0.3 backend, with the real link's contract (tm-core `KeyLink`); the real Ed25519 ⇄ X25519
 * map is tested in `@vouch/backend-omemo` and in `tooling/interop`.
 */
const twin = (id: KeyId): KeyId => keyIdFromBytes(keyIdToBytes(id).map((b) => b ^ 0x5a))
const toOmemo2: KeyLink = { namespace: NS_OMEMO_2, toLinked: twin, fromLinked: (id) => [twin(id)] }
const LEGACY_LINKED: AtmBackend = { ...LEGACY, keyLinks: [toOmemo2] }

/** A new endpoint of `account` that also runs OMEMO 0.3 with the same key pair; the account's
 * endpoints and it learn each other's OMEMO 0.3 keys (the device lists; with `twinAnnounced:
 * false` the siblings learn its OMEMO 0.3 key only at {@link announceTwin}), it learns Bob's. */
async function addDual(
  net: Network,
  account: string,
  options: { readonly twinAnnounced?: boolean } = {},
): Promise<SimEndpoint> {
  const ep = await net.addEndpoint(account)
  await ep.store.setOwnKey(NS_OMEMO_LEGACY, twin(ep.key))
  const siblings = net.endpoints.filter((e) => e.account === ep.account && e !== ep)
  if (options.twinAnnounced !== false) await announceTwin(net, ep)
  if (siblings.length > 0)
    await ep.atm.keysDiscovered(
      NS_OMEMO_LEGACY,
      ep.account,
      siblings.map((e) => twin(e.key)),
    )
  await ep.atm.keysDiscovered(NS_OMEMO_LEGACY, BOB, [BL1, BL2, BL3])
  return ep
}

/** `ep`'s OMEMO 0.3 device list reaches its siblings (the trust messages it makes them plan are sent). */
async function announceTwin(net: Network, ep: SimEndpoint): Promise<void> {
  for (const other of net.endpoints.filter((e) => e.account === ep.account && e !== ep))
    await net.keysDiscovered(other.label, NS_OMEMO_LEGACY, ep.account, [twin(ep.key)])
}
const BL3 = key(0xb3)

/** A network where alice/1 and alice/2 run both protocols, authenticated each other, and decided
 * about Bob's OMEMO 0.3 keys (alice/1 authenticated BL1, alice/2 distrusted BL3). */
async function dualSiblings(seed: number) {
  const net = await createNetwork({
    seed,
    extraBackends: [LEGACY_LINKED],
    adversary: { reorder: true, duplicate: 0.3, dropToArchive: 0.3 },
  })
  const bobLevels = async (label: string) => {
    const store = net.endpoint(label).store
    return Promise.all([BL1, BL2, BL3].map((k) => store.getTrustLevel(NS_OMEMO_LEGACY, BOB, k)))
  }
  return { net, bobLevels }
}

async function decideAboutBob({ net, bobLevels }: Awaited<ReturnType<typeof dualSiblings>>) {
  await addDual(net, 'alice')
  await addDual(net, 'alice')
  await net.authenticateMutually('alice/1', 'alice/2')
  await net.run()
  // Bob uses Conversations (OMEMO 0.3 only): alice/1 authenticates one key, alice/2 distrusts one
  const a = await net.endpoint('alice/1').atm.authenticate(NS_OMEMO_LEGACY, BOB, [BL1])
  net.sendOutgoing('alice/1', a.outgoing)
  const d = await net.endpoint('alice/2').atm.distrust(NS_OMEMO_LEGACY, BOB, [BL3])
  net.sendOutgoing('alice/2', d.outgoing)
  await net.run()
  const siblings = await bobLevels('alice/1')
  expect(siblings).toEqual(['authenticated', 'automatically-distrusted', 'manually-distrusted'])
  expect(await bobLevels('alice/2')).toEqual(siblings)
  return siblings
}

describe('D-12 with one key pair in both protocols: an own device that runs both joins late', () => {
  for (const seed of [6, 7, 8]) {
    it(`ATM-S4 + D-12 (identity linking): alice/3, authenticated in OMEMO 2 after alice/1 authenticated and alice/2 distrusted Bob’s OMEMO 0.3 keys, ends with the same OMEMO 0.3 trust as its siblings; ATM-S3 + D-12: they hold its OMEMO 0.3 key authenticated (seed ${seed}, reordering, duplicates, MAM)`, async () => {
      const world = await dualSiblings(seed)
      const { net, bobLevels } = world
      try {
        const siblings = await decideAboutBob(world)

        // the phone joins later, running both protocols; it and alice/1 scan each other's OMEMO 2 code
        const phone = await addDual(net, 'alice')
        expect(await bobLevels('alice/3')).toEqual([
          'automatically-trusted', // TOAKAFA: nothing authenticated on the new device yet
          'automatically-trusted',
          'automatically-trusted',
        ])
        const sentBefore = net.messages.length
        await net.authenticateMutually('alice/1', 'alice/3')
        await net.run()

        expect(await bobLevels('alice/3')).toEqual(siblings)
        // its OMEMO 0.3 key is authenticated on its siblings, its siblings' on it
        for (const label of ['alice/1', 'alice/2'])
          expect(
            await net.endpoint(label).store.getTrustLevel(NS_OMEMO_LEGACY, phone.account, twin(phone.key)),
            label,
          ).toBe('authenticated')
        for (const sibling of ['alice/1', 'alice/2'])
          expect(
            await phone.store.getTrustLevel(NS_OMEMO_LEGACY, phone.account, twin(net.endpoint(sibling).key)),
            sibling,
          ).toBe('authenticated')
        // the OMEMO 0.3 keys travelled over OMEMO 2, and the all-keys message (ATM-S4) only to the phone
        const s4 = net.messages
          .slice(sentBefore)
          .filter(
            (m) =>
              m.from === 'alice/1' &&
              m.message.encryption === NS_OMEMO_LEGACY &&
              m.message.keyOwners.some((o) => o.jid === BOB),
          )
        expect(s4.map((m) => m.allowedKeys.map((k) => [k.encryption, k.keyId]))).toEqual([
          [[NS_OMEMO_2, phone.key]],
        ])
        expect(s4[0]?.message.keyOwners).toEqual([
          { jid: BOB, trust: [BL1], distrust: [BL3] },
          { jid: phone.account, trust: [twin(net.endpoint('alice/2').key)], distrust: [] },
        ])
      } finally {
        await net.close()
      }
    })
  }
})

describe('D-12 with one key pair in both protocols: the OMEMO 0.3 key announced after the decision', () => {
  for (const seed of [9, 10]) {
    it(`ATM-S4 + D-12 (a twin announced later): alice/3's OMEMO 0.3 key, announced only after alice/1 authenticated its OMEMO 2 key, inherits that decision on alice/1, which sends it its OMEMO 0.3 trust; the network delivers it (seed ${seed}, reordering, duplicates, MAM)`, async () => {
      const world = await dualSiblings(seed)
      const { net, bobLevels } = world
      try {
        const siblings = await decideAboutBob(world)

        // the phone joins; its OMEMO 0.3 device list is not seen yet when alice/1 scans its OMEMO 2 code
        const phone = await addDual(net, 'alice', { twinAnnounced: false })
        await net.authenticateMutually('alice/1', 'alice/3')
        await net.run()
        expect(await bobLevels('alice/3')).toEqual([
          'automatically-trusted', // nothing about OMEMO 0.3 could be sent: its OMEMO 0.3 key was unknown
          'automatically-trusted',
          'automatically-trusted',
        ])

        const sentBefore = net.messages.length
        await announceTwin(net, phone)
        for (const label of ['alice/1', 'alice/2'])
          expect(
            await net.endpoint(label).store.getTrustLevel(NS_OMEMO_LEGACY, phone.account, twin(phone.key)),
            label,
          ).toBe('authenticated')
        await net.run()
        expect(await bobLevels('alice/3')).toEqual(siblings)
        // sent by alice/1 only (alice/2 learned of the phone from a trust message: D-5), about
        // OMEMO 0.3 keys, over OMEMO 2; the all-keys message (ATM-S4) for the phone's OMEMO 2 key
        // only, the phone's OMEMO 0.3 key announced (ATM-S3) to alice/2 (TM-15, TM-21)
        const late = net.messages.slice(sentBefore)
        expect(new Set(late.map((m) => `${m.from} ${m.message.encryption}`))).toEqual(
          new Set([`alice/1 ${NS_OMEMO_LEGACY}`]),
        )
        const readers = (m: (typeof late)[number]) => m.allowedKeys.map((k) => [k.encryption, k.keyId])
        const s4 = late.filter((m) => m.message.keyOwners.some((o) => o.jid === BOB))
        expect(s4.map(readers)).toEqual([[[NS_OMEMO_2, phone.key]]])
        expect(s4[0]?.message.keyOwners).toContainEqual({ jid: BOB, trust: [BL1], distrust: [BL3] })
        expect(late.filter((m) => !s4.includes(m)).map(readers)).toEqual([
          [[NS_OMEMO_2, net.endpoint('alice/2').key]],
        ])
      } finally {
        await net.close()
      }
    })
  }
})
