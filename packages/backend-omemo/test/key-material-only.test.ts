/**
 * ATM is the only writer of trust (ARCHITECTURE item 2): the OMEMO 2 backend stores key material
 * (device lists, bundles, the identity key of a device that started a session) and reports the
 * key ids it learned — from importBundle / importDeviceList, and as `learnedKeys` from a key
 * exchange — and never writes a trust level. Encrypting still follows the levels ATM wrote.
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, FullJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { type OmemoBackend, omemoBackend } from '../src/index.ts'
import { NS_OMEMO2 } from '../src/xep0384.ts'
import { expectError, standInForAtm } from './helpers.ts'
import { body } from './security/helpers.ts'

const ALICE = 'alice@example.org' as BareJid
const BOB = 'bob@example.org' as BareJid

async function account(
  jid: BareJid,
): Promise<{ jid: BareJid; store: AccountTrustStore; backend: OmemoBackend }> {
  const store = memoryStore().forAccount(jid)
  const backend = omemoBackend({ preKeyCount: 25 })({ store })
  await backend.createDevice()
  return { jid, store, backend }
}

const from = (jid: BareJid): FullJid => `${jid}/r` as FullJid

describe('OMEMO 2 stores key material and reports key ids; trust levels are ATM’s', () => {
  it('importBundle resolves to the key id and writes no trust level; importDeviceList resolves to the known keys', async () => {
    const alice = await account(ALICE)
    const bob = await account(BOB)
    const bobId = (await bob.backend.ownDeviceId()) as number
    const [bobKey] = await bob.backend.ownKeys()
    expect(await alice.backend.importDeviceList(BOB, await bob.backend.ownDeviceList())).toEqual([])
    expect(await alice.backend.importBundle(BOB, bobId, await bob.backend.ownBundle())).toBe(bobKey)
    expect(await alice.backend.importDeviceList(BOB, await bob.backend.ownDeviceList())).toEqual([bobKey])
    expect(await alice.backend.keysOf(BOB)).toEqual([bobKey])
    expect(await alice.store.getKeys(NS_OMEMO2)).toEqual([])
  })

  it('encrypt follows the levels ATM wrote: undecided is not encrypted to, automatically-trusted is', async () => {
    const alice = await account(ALICE)
    const bob = await account(BOB)
    const bobKey = await alice.backend.importBundle(
      BOB,
      (await bob.backend.ownDeviceId()) as number,
      await bob.backend.ownBundle(),
    )
    await alice.backend.importDeviceList(BOB, await bob.backend.ownDeviceList())
    await expectError(() => alice.backend.encrypt(body('hi'), [BOB]), 'UntrustedKeyError')
    await standInForAtm(alice.store, BOB, [bobKey])
    const sent = await alice.backend.encrypt(body('hi'), [BOB])
    expect(sent.recipients).toEqual([{ encryption: NS_OMEMO2, owner: BOB, keyId: bobKey }])
  })

  it('a key exchange from a device not known before is reported as learnedKeys (once), with no level written', async () => {
    const alice = await account(ALICE)
    const bob = await account(BOB)
    const aliceKey = (await alice.backend.ownKeys())[0]
    const bobKey = await alice.backend.importBundle(
      BOB,
      (await bob.backend.ownDeviceId()) as number,
      await bob.backend.ownBundle(),
    )
    await alice.backend.importDeviceList(BOB, await bob.backend.ownDeviceList())
    await standInForAtm(alice.store, BOB, [bobKey])
    // bob never fetched alice's bundle: the key exchange makes her device known
    const first = await alice.backend.encrypt(body('one'), [BOB])
    const r1 = await bob.backend.decrypt(first.element, { from: from(ALICE), to: BOB })
    expect(r1.senderKey).toBe(aliceKey)
    expect(r1.learnedKeys).toEqual([aliceKey])
    expect(await bob.backend.keysOf(ALICE)).toEqual([aliceKey])
    expect(await bob.store.getKeys(NS_OMEMO2)).toEqual([])
    // the same key exchange again (alice has no answer yet): the session exists, nothing new
    const second = await alice.backend.encrypt(body('two'), [BOB])
    const r2 = await bob.backend.decrypt(second.element, { from: from(ALICE), to: BOB })
    expect(r2.learnedKeys).toBeUndefined()
    // bob's empty answer carries no key exchange: nothing learned on alice's side
    const [answer] = await bob.backend.takeEmptyMessages()
    const r3 = await alice.backend.decrypt(answer?.element as never, { from: from(BOB), to: ALICE })
    expect(r3.sessionOnly).toBe(true)
    expect(r3.learnedKeys).toBeUndefined()
  })
})
