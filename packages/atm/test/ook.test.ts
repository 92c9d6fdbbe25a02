/** ATM-4, X16: one-key-per-identity protocols (OX): only the contact use cases; messages to own endpoints. */
import { NS_OX } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import { ALICE, ALICE_LAPTOP, BOB, BOB_PHONE, OMEMO, OX, oxKey } from './helpers.ts'
import { type Endpoint, endpoint, levels, receive, STORES } from './stores.ts'
import { trustMessage } from './helpers.ts'

const AX = oxKey('alice')
const BX = oxKey('bob')
const BX2 = oxKey('bob-2')

describe.each(STORES)('X16: one key per identity ($name store)', (factory) => {
  let ep: Endpoint
  afterEach(async () => ep.close())
  const alice = async (): Promise<Endpoint> => {
    ep = await endpoint({ store: factory, backends: [OMEMO, OX], ownKeys: { [NS_OX]: AX } })
    return ep
  }

  it('X16: own-key use cases are rejected with a typed error (ATM-4), nothing stored', async () => {
    await alice()
    const err = await ep.atm.authenticate(NS_OX, ALICE, [oxKey('other')]).catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ name: 'InvalidJidError', rule: 'ATM-4' })
    expect(await levels(ep.store, NS_OX)).toEqual({})
  })

  it('X16 (ATM-S1 OOK): authenticating a contact’s key sends it to own endpoints only, encrypted for the shared own key', async () => {
    await alice()
    const r = await ep.atm.authenticate(NS_OX, BOB, [BX])
    expect(r.outgoing).toEqual([
      {
        to: ALICE,
        message: {
          usage: 'urn:xmpp:atm:1',
          encryption: NS_OX,
          keyOwners: [{ jid: BOB, trust: [BX], distrust: [] }],
        },
        allowedKeys: [{ encryption: NS_OX, owner: ALICE, keyId: AX }],
      },
    ])
  })

  it('X16 (ATM-S6 OOK): distrusting a contact’s key sends it to own endpoints only', async () => {
    await alice()
    await ep.atm.authenticate(NS_OX, BOB, [BX])
    const r = await ep.atm.distrust(NS_OX, BOB, [BX])
    expect(r.outgoing.map((m) => [m.to, m.message.keyOwners])).toEqual([
      [ALICE, [{ jid: BOB, trust: [], distrust: [BX] }]],
    ])
  })

  it('X16 (ATM-R1/R6 OOK): an own endpoint, which shares our key, is trusted for contacts’ keys', async () => {
    await alice()
    const r = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: AX,
      carrier: NS_OX,
      message: trustMessage(NS_OX, [{ jid: BOB, trust: [BX], distrust: [BX2] }]),
    })
    expect(r.outcome).toBe('applied')
    expect(await levels(ep.store, NS_OX)).toEqual({
      [`${BOB}/${BX}`]: 'authenticated',
      [`${BOB}/${BX2}`]: 'manually-distrusted',
    })
  })

  it('X16: a received decision about our own OX identity is skipped; a contact claiming our key is ignored', async () => {
    await alice()
    const own = await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: AX,
      carrier: NS_OX,
      message: trustMessage(NS_OX, [{ jid: ALICE, distrust: [AX, oxKey('x')] }]),
    })
    expect(own).toMatchObject({ outcome: 'ignored', reason: 'ook-own-account' })
    const spoof = await receive(ep.atm, {
      from: BOB_PHONE,
      key: AX,
      carrier: NS_OX,
      message: trustMessage(NS_OX, [{ jid: BOB, trust: [BX] }]),
    })
    expect(spoof).toMatchObject({ outcome: 'ignored', reason: 'own-key' })
    expect(await levels(ep.store, NS_OX)).toEqual({})
  })

  it('X16: keysDiscovered ignores our own OX identity', async () => {
    await alice()
    expect((await ep.atm.keysDiscovered(NS_OX, ALICE, [oxKey('x')])).added).toEqual([])
  })
})
