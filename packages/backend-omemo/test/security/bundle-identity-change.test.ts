/**
 * A bundle fetched again for a device we already know (the key directory's `beforeEncrypt`, before
 * the first message to it) is stored only when it carries the identity key we know: a device id
 * that now publishes another key is a new key, ATM's decision through a refresh, never swapped in
 * on the way to encrypting (OMEMO-BUNDLE). The rejection stores nothing.
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { omemoBackend } from '../../src/index.ts'
import { OMEMO_STATE_NAMESPACE } from '../../src/state.ts'
import { expectError, toHex } from '../helpers.ts'
import { backendPair } from './helpers.ts'

async function snapshot(store: AccountTrustStore): Promise<string> {
  const out: string[] = []
  for (const k of [...(await store.listState(OMEMO_STATE_NAMESPACE, ''))].sort())
    out.push(`${k}=${toHex((await store.getState(OMEMO_STATE_NAMESPACE, k)) ?? new Uint8Array())}`)
  return out.join('\n')
}

describe('a bundle fetched again (OMEMO-BUNDLE)', () => {
  it('OMEMO-BUNDLE: importBundle with expectedKey rejects a bundle of another identity key and stores nothing; the same key is stored again', async () => {
    const { alice, bob } = await backendPair()
    const aliceId = (await alice.backend.ownDeviceId()) as number
    const [known] = await bob.backend.keysOf(alice.jid)
    expect(known).toBeDefined()
    // mallory publishes a bundle under alice's device id, with her own identity key
    const mallory = omemoBackend({ preKeyCount: 25 })({
      store: memoryStore().forAccount(alice.jid as BareJid),
    })
    await mallory.createDevice()
    const forged = await mallory.ownBundle()
    const before = await snapshot(bob.store)
    await expectError(
      () =>
        bob.backend.importBundle(alice.jid, aliceId, forged, {
          expectedKey: known as NonNullable<typeof known>,
        }),
      'DecryptionError',
      'OMEMO-BUNDLE',
    )
    expect(await snapshot(bob.store)).toBe(before)
    expect(await bob.backend.keysOf(alice.jid)).toEqual([known])
    expect(
      await bob.backend.importBundle(alice.jid, aliceId, await alice.backend.ownBundle(), {
        expectedKey: known as NonNullable<typeof known>,
      }),
    ).toBe(known)
  })
})
