/**
 * XEP-0373 v0.7.0 §4: the OX key directory (`@vouch/backend-ox/pep`, tm-core's `KeyDirectory`)
 * over an in-memory `PepAccess`: publishing our key, fetching and importing a contact's, the
 * notifications, and no trust level written (ATM's `keysDiscovered` does that).
 */
import type { BareJid, Element, PepAccess, PepItem, PublishOptions } from '@vouch/tm-core'
import { NS_OX } from '@vouch/tm-core'
import { beforeEach, describe, expect, it } from 'vitest'
import { oxKeyDirectory } from '../src/pep.ts'
import {
  buildPubkey,
  buildPublicKeysList,
  generateOxKey,
  keyIdOf,
  NODE_PUBLIC_KEYS,
  publicKeyDataNode,
} from '../src/index.ts'
import { ALICE, BOB, MALLORY, ownPrivate, type Party, party } from './helpers.ts'

interface Published {
  readonly jid: BareJid
  readonly node: string
  readonly id: string
  readonly payload: Element
  readonly options?: PublishOptions
}

/** One PEP service for everybody: `as(jid)` is that account's connection. */
class MemoryPep {
  readonly items = new Map<string, PepItem[]>()
  readonly log: Published[] = []
  as(jid: BareJid): PepAccess {
    return {
      publish: async (node, id, payload, options) => {
        this.log.push({ jid, node, id, payload, ...(options === undefined ? {} : { options }) })
        const key = `${jid} ${node}`
        const list = (this.items.get(key) ?? []).filter((i) => i.id !== id)
        list.push({ id, payload })
        this.items.set(key, list)
      },
      fetch: async (owner, node, select) => {
        const list = this.items.get(`${owner} ${node}`) ?? []
        const byId = select?.id === undefined ? list : list.filter((i) => i.id === select.id)
        return select?.max === undefined ? [...byId] : byId.slice(-select.max)
      },
    }
  }
}

let pep: MemoryPep
let alice: Party
let bob: Party
beforeEach(async () => {
  pep = new MemoryPep()
  ;[alice, bob] = await Promise.all([party(ALICE), party(BOB)])
})

describe('publishOwn (§4.1, §4.2)', () => {
  it('publishes the key on its data node, then the metadata list, both with access model open', async () => {
    const info = await bob.ox.ownKeyInfo()
    await oxKeyDirectory(bob.ox).publishOwn(pep.as(BOB))
    expect(pep.log.map((p) => [p.node, p.id, p.options])).toEqual([
      [
        publicKeyDataNode(info?.fingerprint ?? ''),
        info?.created.toISOString(),
        { 'pubsub#access_model': 'open' },
      ],
      [NODE_PUBLIC_KEYS, 'current', { 'pubsub#access_model': 'open' }],
    ])
    expect(pep.log[0]?.payload.name).toBe('pubkey')
    // announced already: the metadata is not republished
    await oxKeyDirectory(bob.ox).publishOwn(pep.as(BOB))
    expect(pep.log.filter((p) => p.node === NODE_PUBLIC_KEYS)).toHaveLength(1)
  })
})

describe('refresh (§4.3): fetch and import, key material only', () => {
  it("imports a contact's announced key and resolves to its id, writing no trust level", async () => {
    await oxKeyDirectory(bob.ox).publishOwn(pep.as(BOB))
    const keys = await oxKeyDirectory(alice.ox).refresh(BOB, pep.as(ALICE))
    const bobId = (await bob.ox.ownKeys())[0]
    expect(keys).toEqual([bobId])
    expect(await alice.ox.keysOf(BOB)).toEqual([bobId])
    expect(await alice.store.getKeys(NS_OX)).toEqual([])
  })

  it('fetches only keys it does not hold yet', async () => {
    await oxKeyDirectory(bob.ox).publishOwn(pep.as(BOB))
    const dir = oxKeyDirectory(alice.ox)
    await dir.refresh(BOB, pep.as(ALICE))
    const fetches: string[] = []
    const counting: PepAccess = {
      publish: pep.as(ALICE).publish,
      fetch: async (owner, node, select) => {
        fetches.push(node)
        return pep.as(ALICE).fetch(owner, node, select)
      },
    }
    await dir.refresh(BOB, counting)
    expect(fetches).toEqual([NODE_PUBLIC_KEYS])
  })

  it('never imports a key announced for bob without xmpp:bob (an impostor key), and a missing data node is skipped', async () => {
    const impostor = await generateOxKey(MALLORY)
    const fpr = impostor.getFingerprint().toUpperCase()
    const bobPep = pep.as(BOB)
    await bobPep.publish(publicKeyDataNode(fpr), 'x', buildPubkey(impostor.toPublic().write()))
    await bobPep.publish(
      NODE_PUBLIC_KEYS,
      'current',
      buildPublicKeysList([
        { fingerprint: fpr, date: new Date() },
        { fingerprint: 'A'.repeat(40), date: new Date() },
      ]),
    )
    expect(await oxKeyDirectory(alice.ox).refresh(BOB, pep.as(ALICE))).toEqual([])
    expect(await alice.ox.knownKeys(BOB)).toEqual([])
  })

  it('our own account: our key ids, nothing fetched', async () => {
    const fetches: string[] = []
    const spy: PepAccess = {
      publish: async () => {},
      fetch: async (_o, node) => {
        fetches.push(node)
        return []
      },
    }
    expect(await oxKeyDirectory(alice.ox).refresh(ALICE, spy)).toEqual(await alice.ox.ownKeys())
    expect(fetches).toEqual([])
  })
})

describe('notifications', () => {
  it("a contact's metadata notification with payload: its keys are imported and reported", async () => {
    await oxKeyDirectory(bob.ox).publishOwn(pep.as(BOB))
    const items = await pep.as(ALICE).fetch(BOB, NODE_PUBLIC_KEYS)
    const found = await oxKeyDirectory(alice.ox).onNotification(
      { from: BOB, node: NODE_PUBLIC_KEYS, items, retracted: [] },
      pep.as(ALICE),
    )
    expect(found).toEqual({ owner: BOB, keys: await bob.ox.ownKeys() })
  })

  it('a notification without payload fetches the list', async () => {
    await oxKeyDirectory(bob.ox).publishOwn(pep.as(BOB))
    const found = await oxKeyDirectory(alice.ox).onNotification(
      { from: BOB, node: NODE_PUBLIC_KEYS, items: [{ id: 'current', payload: undefined }], retracted: [] },
      pep.as(ALICE),
    )
    expect(found?.keys).toEqual(await bob.ox.ownKeys())
  })

  it('our own list without our key: republished (§4.2); other nodes and bad lists are ignored', async () => {
    const dir = oxKeyDirectory(alice.ox)
    const other = buildPublicKeysList([{ fingerprint: 'B'.repeat(40), date: new Date() }])
    expect(
      await dir.onNotification(
        { from: ALICE, node: NODE_PUBLIC_KEYS, items: [{ id: 'current', payload: other }], retracted: [] },
        pep.as(ALICE),
      ),
    ).toBeUndefined()
    const info = await alice.ox.ownKeyInfo()
    const republished = pep.log.find((p) => p.node === NODE_PUBLIC_KEYS)
    expect(republished?.payload.toString()).toContain(info?.fingerprint)
    expect(
      await dir.onNotification(
        { from: BOB, node: 'urn:example:other', items: [], retracted: [] },
        pep.as(ALICE),
      ),
    ).toBeUndefined()
    const broken = { id: 'current', payload: buildPublicKeysList([]).c('x').root() }
    broken.payload.attrs.xmlns = 'urn:example:wrong'
    expect(
      await dir.onNotification(
        { from: BOB, node: NODE_PUBLIC_KEYS, items: [broken], retracted: [] },
        pep.as(ALICE),
      ),
    ).toBeUndefined()
  })

  it('keys learned by the directory are the ids ATM registers (D-6: keyIdOf the key)', async () => {
    await oxKeyDirectory(bob.ox).publishOwn(pep.as(BOB))
    const [id] = await oxKeyDirectory(alice.ox).refresh(BOB, pep.as(ALICE))
    expect(id).toBe(keyIdOf(await ownPrivate(bob)))
  })
})
