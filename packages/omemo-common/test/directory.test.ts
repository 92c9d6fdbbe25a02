/**
 * The shared PEP key directory (XEP-0384 v0.3 §4.2–4.3, v0.9 §5.3): our device joins our list
 * without dropping the others', a bundle is fetched only for listed devices without a key and a
 * bundle the backend rejects is skipped, a notification from ourselves puts our device back, a
 * malformed list is ignored, owed empty messages are sent and a changed bundle republished.
 */
import type { BareJid, Element, KeyId, PepAccess, PepItem } from '@vouch/tm-core'
import { Element as XmlElement } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import type { KnownDevice } from '../src/devices.ts'
import { type DirectoryBackend, pepKeyDirectory } from '../src/directory.ts'

const me = 'me@example.org' as BareJid
const bob = 'bob@example.com' as BareJid
const NODE = 'test:devices'

const listEl = (ids: readonly number[]) => {
  const el = new XmlElement('list')
  for (const id of ids) el.c('device', { id: String(id) })
  return el
}
const parseList = (el: Element) => {
  if (el.name !== 'list') throw new Error('malformed')
  return el.children.map((c) => Number((c as Element).attrs.id))
}

function setup() {
  const nodes = new Map<string, PepItem[]>() // "jid node" → items
  const published: string[] = []
  const pep: PepAccess = {
    async publish(node, id, payload) {
      published.push(`${node}/${id}`)
      nodes.set(`${me} ${node}`, [{ id, payload }])
    },
    async fetch(jid, node) {
      const items = nodes.get(`${jid} ${node}`)
      if (items === undefined) throw new Error('item-not-found')
      return items
    },
  }
  const lists = new Map<BareJid, number[]>()
  const keys = new Map<string, KeyId>()
  let bundleVersion = 1
  const owed: Array<{ to: BareJid; element: Element }> = []
  const sessions = new Set<string>() // "owner/id"
  const imported: string[] = [] // "owner/id" of every bundle stored
  const backend: DirectoryBackend<number, number> = {
    account: me,
    ownDeviceId: async () => 1,
    ownBundle: async () => bundleVersion,
    rotateSignedPreKey: async () => false,
    async importDeviceList(owner, list) {
      lists.set(owner, [...list])
      return []
    },
    async importBundle(owner, id, el, options) {
      if (el.attrs.bad === 'yes') throw new Error('signature')
      const key = (el.attrs.key ?? `k${id}`) as KeyId
      if (options?.expectedKey !== undefined && key !== options.expectedKey) throw new Error('another key')
      keys.set(`${owner}/${id}`, key)
      imported.push(`${owner}/${id}`)
      return key
    },
    async devices(owner): Promise<KnownDevice[]> {
      return (lists.get(owner) ?? []).map((deviceId) => {
        const keyId = keys.get(`${owner}/${deviceId}`)
        const hasSession = sessions.has(`${owner}/${deviceId}`)
        return { owner, deviceId, active: true, hasSession, ...(keyId === undefined ? {} : { keyId }) }
      })
    },
    keysOf: async () => [],
    takeEmptyMessages: async () => owed.splice(0),
    async replaceSessions(owner, ids) {
      const done = ids.filter((id) => keys.has(`${owner}/${id}`))
      for (const id of done) {
        sessions.add(`${owner}/${id}`)
        owed.push({ to: owner, element: new XmlElement('encrypted', { rid: String(id) }) })
      }
      return done
    },
  }
  const dir = pepKeyDirectory(backend, {
    namespace: 'test',
    devicesNode: NODE,
    listItem: 'current',
    selectListItem: true,
    parseList,
    deviceIdOf: (id) => id,
    listWithOwn: async (list, own) => (list.includes(own) ? undefined : [...list, own]),
    publishList: (p, list) => p.publish(NODE, 'current', listEl(list)),
    publishBundle: (p, id) => p.publish(`test:bundles:${id}`, 'current', new XmlElement('bundle')),
    async fetchBundle(p, owner, id) {
      return (await p.fetch(owner, `test:bundles:${id}`))[0]?.payload
    },
    bundleMark: (b) => String(b),
    emptyStanza: (to, el) => new XmlElement('message', { to }).cnode(el).up(),
  })
  return {
    dir,
    pep,
    nodes,
    published,
    lists,
    owed,
    sessions,
    imported,
    keys,
    bump: () => {
      bundleVersion++
    },
  }
}

describe('the shared PEP key directory', () => {
  it('publishOwn: our bundle, then our device added to the list as published', async () => {
    const t = setup()
    t.nodes.set(`${me} ${NODE}`, [{ id: 'current', payload: listEl([7]) }])
    await t.dir.publishOwn(t.pep)
    expect(t.published).toEqual(['test:bundles:1/current', `${NODE}/current`])
    expect(parseList(t.nodes.get(`${me} ${NODE}`)?.[0]?.payload as Element)).toEqual([7, 1])
  })

  it('refresh: bundles of listed devices without a key; a rejected bundle is skipped', async () => {
    const t = setup()
    t.nodes.set(`${bob} ${NODE}`, [{ id: 'current', payload: listEl([2, 3, 4]) }])
    t.nodes.set(`${bob} test:bundles:2`, [{ id: 'current', payload: new XmlElement('bundle') }])
    t.nodes.set(`${bob} test:bundles:3`, [
      { id: 'current', payload: new XmlElement('bundle', { bad: 'yes' }) },
    ])
    expect(await t.dir.refresh?.(bob, t.pep)).toEqual(['k2'])
    expect(t.lists.get(bob)).toEqual([2, 3, 4])
  })

  it('PEP-ACCESS: a device list we may not read (contacts only) rejects refresh with the server’s error; a list that does not exist is no device', async () => {
    const t = setup()
    const refusal = Object.assign(new Error('not-authorized'), { condition: 'not-authorized' })
    const pep: PepAccess = {
      ...t.pep,
      async fetch(jid, node, select) {
        if (jid === bob) throw refusal
        return t.pep.fetch(jid, node, select)
      },
    }
    await expect(t.dir.refresh?.(bob, pep)).rejects.toBe(refusal)
    expect(t.lists.has(bob)).toBe(false)
    // no node at all (item-not-found): nothing to read, no error
    expect(await t.dir.refresh?.('carol@example.net' as BareJid, t.pep)).toEqual([])
    // a notification names its sender's node; a refusal there is not refresh's business
    expect(
      await t.dir.onNotification?.({ from: bob, node: NODE, items: [], retracted: [] }, pep),
    ).toBeUndefined()
  })

  it('a notification from ourselves without our device puts it back; a malformed list is ignored', async () => {
    const t = setup()
    const r = await t.dir.onNotification?.(
      { from: me, node: NODE, items: [{ id: 'current', payload: listEl([5]) }], retracted: [] },
      t.pep,
    )
    expect(r?.owner).toBe(me)
    expect(t.lists.get(me)).toEqual([5, 1])
    expect(
      await t.dir.onNotification?.(
        { from: bob, node: NODE, items: [{ id: 'current', payload: new XmlElement('x') }], retracted: [] },
        t.pep,
      ),
    ).toBeUndefined()
    expect(
      await t.dir.onNotification?.({ from: bob, node: 'other', items: [], retracted: [] }, t.pep),
    ).toBeUndefined()
  })

  it('afterMessage: the owed empty messages, and the bundle republished only when it changed', async () => {
    const t = setup()
    await t.dir.publishOwn(t.pep)
    t.published.length = 0
    t.owed.push({ to: bob, element: new XmlElement('encrypted') })
    const sent: Element[] = []
    await t.dir.afterMessage?.(t.pep, async (s) => void sent.push(s))
    expect(sent.map((s) => s.attrs.to)).toEqual([bob])
    expect(t.published).toEqual([])
    t.bump()
    await t.dir.afterMessage?.(t.pep, async () => {})
    expect(t.published).toEqual(['test:bundles:1/current'])
  })

  it('XEP-0384 pre keys: beforeEncrypt fetches again the bundles of the devices about to be encrypted for that have no session; the same identity key only', async () => {
    const t = setup()
    const bundle = (attrs: Record<string, string> = {}) => [
      { id: 'current', payload: new XmlElement('bundle', attrs) },
    ]
    t.nodes.set(`${bob} ${NODE}`, [{ id: 'current', payload: listEl([2, 3, 4, 5, 6]) }])
    for (const id of [2, 3, 4, 5, 6]) t.nodes.set(`${bob} test:bundles:${id}`, bundle())
    t.nodes.set(`${me} ${NODE}`, [{ id: 'current', payload: listEl([1, 7]) }])
    t.nodes.set(`${me} test:bundles:7`, bundle())
    await t.dir.refresh(bob, t.pep)
    await t.dir.refresh(me, t.pep)
    t.imported.length = 0
    t.sessions.add(`${bob}/3`)
    t.nodes.set(`${bob} test:bundles:4`, bundle({ key: 'other' })) // device 4 changed its identity key
    t.nodes.delete(`${bob} test:bundles:6`) // device 6's bundle is gone: fetching it fails
    const ref = (owner: BareJid, keyId: string, encryption = 'test') => ({
      encryption,
      owner,
      keyId: keyId as KeyId,
    })
    await t.dir.beforeEncrypt?.(
      [
        ref(bob, 'k2'),
        ref(bob, 'k3'),
        ref(bob, 'k4'),
        ref(bob, 'k6'),
        ref(bob, 'k5', 'other-protocol'),
        ref(me, 'k7'),
      ],
      t.pep,
    )
    // k2 and our k7: fetched and stored again; k3 has a session; k5 is not this protocol's key
    expect(t.imported.sort()).toEqual([`${bob}/2`, `${me}/7`])
    expect(t.keys.get(`${bob}/4`)).toBe('k4') // not replaced by the other key
    // no keys: nothing fetched, nothing stored
    t.imported.length = 0
    await t.dir.beforeEncrypt?.([], t.pep)
    expect(t.imported).toEqual([])
  })

  it('XEP-0384 v0.9 §6: replaceSessions fetches the current bundles, replaces the sessions of the listed devices of the keys (ours aside) and sends the empty messages that carry the key exchanges', async () => {
    const t = setup()
    const bundle = () => [{ id: 'current', payload: new XmlElement('bundle') }]
    t.nodes.set(`${bob} ${NODE}`, [{ id: 'current', payload: listEl([2, 3]) }])
    for (const id of [2, 3]) t.nodes.set(`${bob} test:bundles:${id}`, bundle())
    t.nodes.set(`${me} ${NODE}`, [{ id: 'current', payload: listEl([1, 7]) }])
    t.nodes.set(`${me} test:bundles:7`, bundle())
    await t.dir.refresh(bob, t.pep)
    await t.dir.refresh(me, t.pep)
    t.imported.length = 0
    t.sessions.add(`${bob}/2`) // a session, replaced all the same
    const ref = (owner: BareJid, keyId: string) => ({ encryption: 'test', owner, keyId: keyId as KeyId })
    const sent: Element[] = []
    const replaced = await t.dir.replaceSessions?.(
      [
        ref(bob, 'k2'),
        ref(bob, 'k3'),
        ref(me, 'k1'),
        ref(me, 'k7'),
        { ...ref(bob, 'k9'), encryption: 'other' },
      ],
      t.pep,
      async (s) => void sent.push(s),
    )
    expect(replaced?.map((k) => `${k.owner} ${k.keyId}`).sort()).toEqual([
      `${bob} k2`,
      `${bob} k3`,
      `${me} k7`,
    ])
    expect(t.imported.sort()).toEqual([`${bob}/2`, `${bob}/3`, `${me}/7`]) // the current bundles first
    expect(sent.map((s) => `${s.attrs.to} ${(s.children[0] as Element).attrs.rid}`).sort()).toEqual([
      `${bob} 2`,
      `${bob} 3`,
      `${me} 7`,
    ])
  })
})
