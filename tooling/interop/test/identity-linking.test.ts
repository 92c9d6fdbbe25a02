/**
 * D-12 identity linking with the real OMEMO 2 link (`@vouch/backend-omemo` `keyLinks`, RFC 7748
 * on `@noble/curves`) in the ATM engine, on every store: Bob's device uses one key pair for
 * OMEMO 2 (Ed25519 id, from a real OMEMO 2 device) and OMEMO 0.3 (its Curve25519 id, as
 * python-omemo publishes it). Scanning his Conversations code (the OMEMO 0.3 id) authenticates
 * the OMEMO 2 key he publishes — and not the other sign's point, which nobody publishes.
 */
import { createAtm } from '@vouch/atm'
import { OMEMO_CAPABILITIES, omemoBackend } from '@vouch/backend-omemo'
import { LEGACY_OMEMO_CAPABILITIES, NS_AXOLOTL } from '@vouch/backend-omemo-legacy'
import { memoryStore } from '@vouch/store-memory'
import type { KeyId } from '@vouch/tm-core'
import { NS_OMEMO_2, parseBareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { pick, STORES } from '../src/index.ts'

const ALICE = parseBareJid('alice@example.org')
const BOB = parseBareJid('bob@example.com')

describe.each(pick(STORES, process.env.TM_STORES))('D-12 identity linking, real OMEMO 2 link × $id', (s) => {
  it('D-12: authenticating Bob’s OMEMO 0.3 key (his Conversations code) authenticates the OMEMO 2 key of the same pair, and a distrust of the OMEMO 2 key crosses back', async () => {
    // Bob's real OMEMO 2 device (its Ed25519 identity), on a scratch store
    const bob = omemoBackend({ preKeyCount: 25 })({ store: memoryStore().forAccount(BOB) })
    await bob.createDevice()
    const ed = (await bob.ownKeys())[0] as KeyId
    const link = bob.keyLinks?.find((l) => l.namespace === NS_AXOLOTL)
    if (link === undefined) throw new Error('the OMEMO 2 backend declares no link to OMEMO 0.3')
    const x = link.toLinked(ed) as KeyId
    const otherSign = link.fromLinked(x).find((c) => c !== ed) as KeyId
    expect(otherSign).toBeDefined()

    const opened = await s.open()
    try {
      const store = opened.store.forAccount(ALICE)
      const atm = createAtm({
        account: ALICE,
        store,
        backends: [
          { namespace: NS_OMEMO_2, capabilities: OMEMO_CAPABILITIES, keyLinks: bob.keyLinks ?? [] },
          { namespace: NS_AXOLOTL, capabilities: LEGACY_OMEMO_CAPABILITIES },
        ],
        now: () => Date.now(),
      })
      await atm.keysDiscovered(NS_OMEMO_2, BOB, [ed])
      await atm.keysDiscovered(NS_AXOLOTL, BOB, [x])
      await atm.applyUri(
        { jid: BOB, encryption: NS_AXOLOTL, trust: [x], distrust: [] },
        { uriSource: 'scan', confirm: async () => true },
      )
      expect(await store.getTrustLevel(NS_OMEMO_2, BOB, ed)).toBe('authenticated')
      expect(await store.getKey(NS_OMEMO_2, BOB, otherSign)).toBeUndefined()
      await atm.distrust(NS_OMEMO_2, BOB, [ed])
      expect(await store.getTrustLevel(NS_AXOLOTL, BOB, x)).toBe('manually-distrusted')
    } finally {
      await opened.dispose()
    }
  }, 60_000)
})
