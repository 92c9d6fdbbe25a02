/**
 * D-12 identity linking on the sending side, security property: a local decision whose twin in
 * another protocol identity linking decides too sends nothing that the same decisions made
 * separately in each protocol (with linking off) would not send: each message about keys of one
 * protocol is a message the separate decision in that protocol sends when it is made after the
 * one in the other protocol, encrypted for a subset of its keys. Receiving (sender
 * qualification, the carrier rule) is untouched: `cross-protocol.test.ts`, `identity-linking.test.ts`.
 */
import type { BareJid, EncryptionNamespace, KeyId } from '@vouch/tm-core'
import { NS_OMEMO_2, NS_OMEMO_LEGACY } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { OutgoingTrustMessage } from '../../src/index.ts'
import { A1, A2, A3, ALICE, BOB, OMEMO_LEGACY } from '../helpers.ts'
import { AX1, AX2, AX3, BE, BE2, BX, BX2, OMEMO_LINKED, seedLinkedWorld } from '../link-fixture.ts'
import { type Endpoint, endpoint, STORES } from '../stores.ts'

const NS2 = NS_OMEMO_2
const NS03 = NS_OMEMO_LEGACY

interface Decision {
  readonly name: string
  readonly kind: 'authenticate' | 'distrust'
  readonly owner: BareJid
  /** the decided key and its twin, each in its protocol */
  readonly key: readonly [EncryptionNamespace, KeyId]
  readonly twin: readonly [EncryptionNamespace, KeyId]
}

const DECISIONS: readonly Decision[] = [
  {
    name: 'ATM-S3/S4: a new own device, its OMEMO 2 key',
    kind: 'authenticate',
    owner: ALICE,
    key: [NS2, A3],
    twin: [NS03, AX3],
  },
  {
    name: 'ATM-S3/S4: a new own device, its OMEMO 0.3 key',
    kind: 'authenticate',
    owner: ALICE,
    key: [NS03, AX3],
    twin: [NS2, A3],
  },
  {
    name: 'ATM-S5: an own device distrusted',
    kind: 'distrust',
    owner: ALICE,
    key: [NS2, A2],
    twin: [NS03, AX2],
  },
  {
    name: 'ATM-S1/S2: a contact’s new device',
    kind: 'authenticate',
    owner: BOB,
    key: [NS2, BE2],
    twin: [NS03, BX2],
  },
  {
    name: 'ATM-S6: a contact’s device distrusted',
    kind: 'distrust',
    owner: BOB,
    key: [NS03, BX],
    twin: [NS2, BE],
  },
]

const sameContent = (a: OutgoingTrustMessage, b: OutgoingTrustMessage): boolean =>
  a.to === b.to && a.carrier === b.carrier && JSON.stringify(a.message) === JSON.stringify(b.message)
const keyRef = (k: OutgoingTrustMessage['allowedKeys'][number]) => `${k.encryption} ${k.owner} ${k.keyId}`

describe.each(STORES)('D-12: linked decisions send no more than separate ones ($name)', (storeEntry) => {
  const eps: Endpoint[] = []
  afterEach(async () => {
    for (const e of eps.splice(0)) await e.close()
  })
  async function alice(linkIdentities: boolean): Promise<Endpoint> {
    const ep = await endpoint({
      store: storeEntry,
      backends: [OMEMO_LINKED, OMEMO_LEGACY],
      ownKeys: { [NS2]: A1, [NS03]: AX1 },
      policy: { linkIdentities },
    })
    eps.push(ep)
    await seedLinkedWorld(ep)
    return ep
  }

  for (const d of DECISIONS)
    it(`D-12, ${d.name}: every message of the linked decision is one the separate decision in its protocol, made after the other one, sends, for no more keys`, async () => {
      const linked = await alice(true)
      const run = (ep: Endpoint, [enc, keyId]: readonly [EncryptionNamespace, KeyId]) =>
        d.kind === 'authenticate'
          ? ep.atm.authenticate(enc, d.owner, [keyId])
          : ep.atm.distrust(enc, d.owner, [keyId])
      /** the separate decisions, linking off: `first`, then `last`; what `last` sends */
      const separately = async (first: Decision['key'], last: Decision['key']) => {
        const ep = await alice(false)
        await run(ep, first)
        return { ep, outgoing: (await run(ep, last)).outgoing }
      }
      const got = (await run(linked, d.key)).outgoing
      const keyLast = await separately(d.twin, d.key)
      const twinLast = await separately(d.key, d.twin)
      // the twin's messages are there (else this property would hold trivially)
      expect(got.some((o) => o.message.encryption === d.twin[0])).toBe(true)
      for (const o of got) {
        const same = (o.message.encryption === d.key[0] ? keyLast : twinLast).outgoing.filter((a) =>
          sameContent(a, o),
        )
        expect(same, JSON.stringify(o.message)).toHaveLength(1)
        const wider = new Set(same.flatMap((a) => a.allowedKeys.map(keyRef)))
        for (const k of o.allowedKeys) expect(wider.has(keyRef(k)), keyRef(k)).toBe(true)
      }
      // and the stores end with the same levels for the pair
      for (const [enc, keyId] of [d.key, d.twin])
        for (const { ep } of [keyLast, twinLast])
          expect(await linked.store.getTrustLevel(enc, d.owner, keyId)).toBe(
            await ep.store.getTrustLevel(enc, d.owner, keyId),
          )
    })
})
