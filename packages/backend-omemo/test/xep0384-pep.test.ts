/**
 * XEP-0384 §5.3 (OMEMO 2 in PEP) through `omemoKeyDirectory` (`@vouch/backend-omemo/pep`), on an
 * in-memory `PepAccess`: what is published where with which publish-options, what is fetched and
 * imported, and the work after a received message (empty answers, bundle refill). The binding
 * runs the same directory over Prosody (`packages/xmpp`, `xep0450-story-omemo.integration.test.ts`).
 */
import { memoryStore } from '@vouch/store-memory'
import type {
  AccountTrustStore,
  BareJid,
  FullJid,
  KeyId,
  PepAccess,
  PepItem,
  PublishOptions,
} from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { type OmemoBackend, omemoBackend } from '../src/index.ts'
import { emptyMessageStanza, omemoKeyDirectory } from '../src/pep.ts'
import { buildBundle, NODE_BUNDLES, NODE_DEVICES, NS_OMEMO2, parseDeviceList } from '../src/xep0384.ts'
import { standInForAtm } from './helpers.ts'

const ALICE = 'alice@example.org' as BareJid
const BOB = 'bob@example.org' as BareJid

/** PEP of several accounts in memory; `as(jid)` is that account's view (publishes to its own nodes). */
function fakePep() {
  const nodes = new Map<string, Map<string, Element>>()
  const published: { jid: BareJid; node: string; id: string; options: PublishOptions | undefined }[] = []
  const node = (jid: BareJid, n: string) => {
    const k = `${jid} ${n}`
    let m = nodes.get(k)
    if (m === undefined) {
      m = new Map()
      nodes.set(k, m)
    }
    return m
  }
  return {
    published,
    put: (jid: BareJid, n: string, id: string, payload: Element) => node(jid, n).set(id, payload),
    get: (jid: BareJid, n: string, id: string) => nodes.get(`${jid} ${n}`)?.get(id),
    as(jid: BareJid): PepAccess {
      return {
        async publish(n, id, payload, options) {
          published.push({ jid, node: n, id, options })
          node(jid, n).set(id, payload)
        },
        async fetch(owner, n, select = {}) {
          const m = nodes.get(`${owner} ${n}`)
          if (m === undefined) throw new Error('item-not-found')
          const items: PepItem[] = [...m].map(([id, payload]) => ({ id, payload }))
          return select.id === undefined ? items : items.filter((i) => i.id === select.id)
        },
      }
    },
  }
}

async function device(jid: BareJid): Promise<OmemoBackend & { readonly store: AccountTrustStore }> {
  const store = memoryStore().forAccount(jid)
  const b = omemoBackend({ preKeyCount: 25 })({ store })
  await b.createDevice()
  return Object.assign(b, { store })
}

const listIds = (el: Element | undefined): number[] =>
  el === undefined ? [] : parseDeviceList(el).map((d) => d.id)

describe('omemoKeyDirectory (XEP-0384 v0.9.1 §5.3)', () => {
  it('XEP-0384 §5.3: publishOwn publishes the bundle (item = device id, max_items=max, open) and adds our device to the list (item current, open), keeping the others', async () => {
    const pep = fakePep()
    const a2 = await device(ALICE)
    await omemoKeyDirectory(a2).publishOwn(pep.as(ALICE))
    const a1 = await device(ALICE)
    await omemoKeyDirectory(a1).publishOwn(pep.as(ALICE))
    const id1 = (await a1.ownDeviceId()) as number
    const id2 = (await a2.ownDeviceId()) as number
    expect(listIds(pep.get(ALICE, NODE_DEVICES, 'current')).sort()).toEqual([id1, id2].sort())
    const bundles = pep.published.filter((p) => p.node === NODE_BUNDLES)
    expect(bundles.map((p) => p.id)).toEqual([String(id2), String(id1)])
    for (const b of bundles)
      expect(b.options).toEqual({ 'pubsub#max_items': 'max', 'pubsub#access_model': 'open' })
    for (const l of pep.published.filter((p) => p.node === NODE_DEVICES)) {
      expect(l.id).toBe('current')
      expect(l.options).toEqual({ 'pubsub#access_model': 'open' })
    }
    // A1 found A2 as one of its own other devices (D-6: keyed by the Ed25519 identity key)
    expect(await a1.keysOf(ALICE)).toEqual(await a2.ownKeys())
  })

  it('D-6: refresh(contact) imports the device list and bundles and resolves to the Ed25519 identity keys, writing no trust level (ATM does); a bundle with a bad signature is never used', async () => {
    const pep = fakePep()
    const b1 = await device(BOB)
    const b2 = await device(BOB)
    await omemoKeyDirectory(b1).publishOwn(pep.as(BOB))
    await omemoKeyDirectory(b2).publishOwn(pep.as(BOB))
    // forge B2's bundle: another signed pre key under B2's identity key
    const id2 = (await b2.ownDeviceId()) as number
    const good = await b2.ownBundle()
    pep.put(BOB, NODE_BUNDLES, String(id2), buildBundle({ ...good, spk: (await b1.ownBundle()).spk }))
    const a1 = await device(ALICE)
    const keys = await omemoKeyDirectory(a1).refresh(BOB, pep.as(ALICE))
    expect(keys).toEqual(await b1.ownKeys())
    const [k] = await b1.ownKeys()
    // key material only: the binding hands `keys` to ATM's keysDiscovered, which sets the level
    expect(await a1.store.getKeys(NS_OMEMO2)).toEqual([])
    expect(await a1.store.getTrustLevel(NS_OMEMO2, BOB, k as KeyId)).toBe('undecided')
    expect(await a1.keysOf(BOB)).toEqual(await b1.ownKeys())
  })

  it('XEP-0384 §5.3.1: a notification of our own list without our device republishes it with our device', async () => {
    const pep = fakePep()
    const a1 = await device(ALICE)
    const dir = omemoKeyDirectory(a1)
    await dir.publishOwn(pep.as(ALICE))
    const other = await device(ALICE)
    const otherId = (await other.ownDeviceId()) as number
    await omemoKeyDirectory(other).publishOwn(pep.as(ALICE))
    const stripped = xml('devices', { xmlns: NS_OMEMO2 }, xml('device', { id: String(otherId) }))
    pep.put(ALICE, NODE_DEVICES, 'current', stripped)
    const changed = await dir.onNotification(
      { from: ALICE, node: NODE_DEVICES, items: [{ id: 'current', payload: stripped }], retracted: [] },
      pep.as(ALICE),
    )
    expect(changed).toEqual({ owner: ALICE, keys: await other.ownKeys() })
    expect(listIds(pep.get(ALICE, NODE_DEVICES, 'current')).sort()).toEqual(
      [otherId, (await a1.ownDeviceId()) as number].sort(),
    )
  })

  it('rotation: after createDevice({ replace: true }), publishOwn publishes a list with the new device and without the replaced one, keeping the others', async () => {
    const pep = fakePep()
    const other = await device(ALICE)
    await omemoKeyDirectory(other).publishOwn(pep.as(ALICE))
    const a = await device(ALICE)
    const dir = omemoKeyDirectory(a)
    await dir.publishOwn(pep.as(ALICE))
    const old = (await a.ownDeviceId()) as number
    const otherId = (await other.ownDeviceId()) as number
    expect(listIds(pep.get(ALICE, NODE_DEVICES, 'current')).sort()).toEqual([old, otherId].sort())
    const rotated = await a.createDevice({ replace: true })
    expect(await a.retiredDeviceIds()).toEqual([old])
    await dir.publishOwn(pep.as(ALICE))
    expect(listIds(pep.get(ALICE, NODE_DEVICES, 'current')).sort()).toEqual(
      [rotated.deviceId, otherId].sort(),
    )
    // a notification still naming the replaced device (another client's stale write) is corrected
    const stale = xml(
      'devices',
      { xmlns: NS_OMEMO2 },
      ...[old, otherId, rotated.deviceId].map((id) => xml('device', { id: String(id) })),
    )
    pep.put(ALICE, NODE_DEVICES, 'current', stale)
    await dir.onNotification(
      { from: ALICE, node: NODE_DEVICES, items: [{ id: 'current', payload: stale }], retracted: [] },
      pep.as(ALICE),
    )
    expect(listIds(pep.get(ALICE, NODE_DEVICES, 'current')).sort()).toEqual(
      [rotated.deviceId, otherId].sort(),
    )
  })

  it('XEP-0384: after a key exchange, afterMessage sends the empty answer (chat, store, private, no body) and republishes the bundle without the used pre key', async () => {
    const pep = fakePep()
    const a1 = await device(ALICE)
    const b1 = await device(BOB)
    const dirA = omemoKeyDirectory(a1)
    const dirB = omemoKeyDirectory(b1)
    await dirA.publishOwn(pep.as(ALICE))
    await dirB.publishOwn(pep.as(BOB))
    // ATM (stood in for) records the keys the refresh resolved to
    await standInForAtm(a1.store, BOB, await dirA.refresh(BOB, pep.as(ALICE)))
    const sent = await a1.encrypt([xml('body', {}, 'hi')], [BOB])
    const r = await b1.decryptMessage(sent.element, { from: `${ALICE}/A1` as FullJid, to: BOB })
    expect(r.bundleChanged).toBe(true)
    const before = pep.published.length
    const out: Element[] = []
    await dirB.afterMessage?.(pep.as(BOB), async (s) => {
      out.push(s)
    })
    expect(out).toHaveLength(1)
    const m = out[0] as Element
    expect(m.attrs).toMatchObject({ to: ALICE, type: 'chat' })
    expect(m.getChild('encrypted', NS_OMEMO2)?.getChild('payload')).toBeUndefined()
    expect(m.getChild('store', 'urn:xmpp:hints')).toBeDefined()
    expect(m.getChild('private', 'urn:xmpp:carbons:2')).toBeDefined()
    expect(m.getChild('body')).toBeUndefined()
    const republished = pep.published.slice(before)
    expect(republished.map((p) => p.node)).toEqual([NODE_BUNDLES])
    const pks = pep
      .get(BOB, NODE_BUNDLES, String(await b1.ownDeviceId()))
      ?.getChild('prekeys')
      ?.getChildren('pk')
    expect(pks?.map((p) => Number(p.attrs.id)).sort((x, y) => x - y)).toEqual(
      (await b1.ownBundle()).preKeys.map((k) => k.id).sort((x, y) => x - y),
    )
    // nothing owed, nothing changed: no second answer, no second publish
    await dirB.afterMessage?.(pep.as(BOB), async (s) => {
      out.push(s)
    })
    expect(out).toHaveLength(1)
    expect(pep.published.length).toBe(before + 1)
  })

  it('XEP-0384 pre keys: a key exchange is built on the bundle as published now (beforeEncrypt), not on one stored before other senders used up its pre keys', async () => {
    const pep = fakePep()
    const b1 = await device(BOB)
    const dirB = omemoKeyDirectory(b1)
    await dirB.publishOwn(pep.as(BOB))
    const bobKey = await b1.ownKeys()
    const preKeyIds = async () => new Set((await b1.ownBundle()).preKeys.map((k) => k.id))
    // Carol stores Bob's bundle …
    const carolJid = 'carol@example.org' as BareJid
    const carol = await device(carolJid)
    const dirC = omemoKeyDirectory(carol)
    await standInForAtm(carol.store, BOB, await dirC.refresh(BOB, pep.as(carolJid)))
    const stored = await preKeyIds()
    // … then other senders start sessions with Bob until none of those pre keys is left
    for (let i = 0; [...(await preKeyIds())].some((id) => stored.has(id)); i++) {
      expect(i, 'pre keys used up').toBeLessThan(1000)
      const jid = `sender${i}@example.org` as BareJid
      const x = await device(jid)
      await standInForAtm(x.store, BOB, await omemoKeyDirectory(x).refresh(BOB, pep.as(jid)))
      const m = await x.encrypt([xml('body', {}, `hi ${i}`)], [BOB])
      await b1.decryptMessage(m.element, { from: `${jid}/x` as FullJid, to: BOB })
      await dirB.afterMessage?.(pep.as(BOB), async () => {})
    }
    // the binding calls beforeEncrypt with the keys it encrypts for: Carol fetches the bundle again
    await dirC.beforeEncrypt?.(
      bobKey.map((keyId) => ({ encryption: NS_OMEMO2, owner: BOB, keyId })),
      pep.as(carolJid),
    )
    const m = await carol.encrypt([xml('body', {}, 'hello Bob')], [BOB])
    const r = await b1.decrypt(m.element, { from: `${carolJid}/c` as FullJid, to: BOB })
    expect(r.payload.map((c) => c.getText())).toEqual(['hello Bob'])
  })

  it('an empty message stanza: chat, <encryption/> naming OMEMO, store, private, no-copy, origin-id equal to the id', () => {
    const m = emptyMessageStanza(BOB, xml('encrypted', { xmlns: NS_OMEMO2 }), 'id-1')
    expect(m.attrs).toEqual({ to: BOB, type: 'chat', id: 'id-1' })
    expect(m.getChild('encryption', 'urn:xmpp:eme:0')?.attrs).toMatchObject({
      namespace: NS_OMEMO2,
      name: 'OMEMO',
    })
    expect(m.getChild('no-copy', 'urn:xmpp:hints')).toBeDefined()
    expect(m.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id).toBe('id-1')
    expect(m.getChild('body')).toBeUndefined()
    expect(emptyMessageStanza(BOB, xml('encrypted', { xmlns: NS_OMEMO2 })).attrs.id).toMatch(
      /^[0-9a-f-]{36}$/,
    )
  })
})
