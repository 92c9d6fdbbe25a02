/**
 * XEP-0384: OMEMO Encryption — implements v0.3.0 §4.1–4.3 (device list and bundles in PEP) for
 * `eu.siacs.conversations.axolotl`: the key directory of the OMEMO 0.3 backend, the subpath
 * `@vouch/backend-omemo-legacy/pep`. It implements tm-core's `KeyDirectory` over a `PepAccess`
 * the binding hands it, so the binding never knows the protocol.
 * https://xmpp.org/extensions/attic/xep-0384-0.3.0.html
 *
 * - our device list: node `eu.siacs.conversations.axolotl.devicelist`, item `current`, access
 *   model `open`, our device added to the list as published (never dropping the others');
 * - our bundle: node `eu.siacs.conversations.axolotl.bundles:<device id>`, item `current`,
 *   access model `open`; republished after a key exchange used one of its pre keys (the backend
 *   refills them) and after a signed pre key rotation;
 * - somebody's devices: the device list, then the bundle of every listed device we have no key
 *   for, imported through the backend (which checks the XEdDSA signature and stores key
 *   material only); `refresh` and `onNotification` resolve to the usable key ids (D-6), which the
 *   binding hands to ATM's `keysDiscovered`;
 * - after every received OMEMO 0.3 message: the empty messages the backend owes (key exchange
 *   answers, heartbeats), each in its own `<message type='chat'/>` to the owner's bare JID.
 *
 * Clients that publish their nodes with the `presence` access model (Profanity) are readable by
 * their contacts only: subscribe to their presence first.
 */
import type { BareJid, KeyDirectory, KeyId, PepAccess, PepItem } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
import { bundleMark, emptyMessageStanza as commonEmptyMessageStanza } from '@vouch/omemo-common'
import type { LegacyOmemoBackend } from './backend.ts'
import {
  buildBundle,
  buildDeviceList,
  bundleNode,
  type LegacyBundle,
  NODE_DEVICELIST,
  NS_AXOLOTL,
  parseDeviceList,
} from './wire.ts'

const OPEN = { 'pubsub#access_model': 'open' } as const
const ITEM = 'current'

function bundleMarkOf(b: LegacyBundle): string {
  return bundleMark(
    b.signedPreKeyId,
    b.preKeys.map((k) => k.id),
  )
}

/**
 * The stanza carrying an empty OMEMO 0.3 message (key transport: a key exchange answer or a
 * heartbeat): `emptyMessageStanza` of `@vouch/omemo-common` — type `chat`, `<store/>`, the XEP-0380
 * marker, no body, and `<private/>` + `<no-copy/>`: it is for one device of the recipient.
 */
export function emptyMessageStanza(to: BareJid, encrypted: Element, id?: string): Element {
  return commonEmptyMessageStanza(to, encrypted, NS_AXOLOTL, ...(id === undefined ? [] : [id]))
}

/** The OMEMO 0.3 key directory of `omemo` (tm-core's `KeyDirectory`). */
export function legacyOmemoKeyDirectory(omemo: LegacyOmemoBackend): KeyDirectory {
  const account = omemo.account
  let published: string | undefined

  async function publishBundle(pep: PepAccess): Promise<void> {
    const deviceId = await omemo.ownDeviceId()
    if (deviceId === undefined) return
    const bundle = await omemo.ownBundle()
    await pep.publish(bundleNode(deviceId), ITEM, buildBundle(bundle), OPEN)
    published = bundleMarkOf(bundle)
  }

  function listFrom(items: readonly PepItem[]): number[] | undefined {
    const item = items.find((i) => i.id === ITEM) ?? items.at(-1)
    if (item?.payload === undefined) return undefined
    try {
      return parseDeviceList(item.payload)
    } catch {
      return undefined // malformed: ignored, the last good list stays
    }
  }

  async function fetchList(pep: PepAccess, owner: BareJid): Promise<number[] | undefined> {
    let items: PepItem[]
    try {
      items = await pep.fetch(owner, NODE_DEVICELIST)
    } catch {
      return undefined // no node yet (item-not-found) or not allowed (presence access model)
    }
    return listFrom(items)
  }

  async function ensureOwnInList(pep: PepAccess, list: readonly number[]): Promise<void> {
    const deviceId = await omemo.ownDeviceId()
    if (deviceId === undefined || list.includes(deviceId)) return
    await pep.publish(NODE_DEVICELIST, ITEM, buildDeviceList([...list, deviceId]), OPEN)
  }

  async function importDevices(
    pep: PepAccess,
    owner: BareJid,
    list: readonly number[],
  ): Promise<readonly KeyId[]> {
    await omemo.importDeviceList(owner, list)
    const ownId = owner === account ? await omemo.ownDeviceId() : undefined
    const known = new Map((await omemo.devices(owner)).map((d) => [d.deviceId, d] as const))
    for (const id of list) {
      if (id === ownId || known.get(id)?.keyId !== undefined) continue
      let items: PepItem[]
      try {
        items = await pep.fetch(owner, bundleNode(id))
      } catch {
        continue // no bundle published (yet): the device is not encrypted to
      }
      const payload = (items.find((i) => i.id === ITEM) ?? items.at(-1))?.payload
      if (payload === undefined) continue
      try {
        await omemo.importBundle(owner, id, payload)
      } catch {
        // a bundle whose signature does not verify, or malformed: never used
      }
    }
    const active = new Set(list)
    const keys = new Set<KeyId>()
    for (const d of await omemo.devices(owner))
      if (active.has(d.deviceId) && d.keyId !== undefined) keys.add(d.keyId)
    return [...keys].sort()
  }

  return {
    namespace: NS_AXOLOTL,
    notifyNodes: [NODE_DEVICELIST],
    async publishOwn(pep) {
      const deviceId = await omemo.ownDeviceId()
      if (deviceId === undefined) return
      await omemo.rotateSignedPreKey()
      await publishBundle(pep)
      const list = (await fetchList(pep, account)) ?? []
      await ensureOwnInList(pep, list)
      await importDevices(pep, account, list.includes(deviceId) ? list : [...list, deviceId])
    },
    async refresh(owner, pep) {
      const list = await fetchList(pep, owner)
      if (list === undefined) return omemo.keysOf(owner)
      if (owner === account) await ensureOwnInList(pep, list)
      return importDevices(pep, owner, list)
    },
    async onNotification(event, pep) {
      if (event.node !== NODE_DEVICELIST) return undefined
      const list = event.items.some((i) => i.payload !== undefined)
        ? listFrom(event.items)
        : await fetchList(pep, event.from)
      if (list === undefined) return undefined
      // a client makes sure its own device stays in its list (XEP-0384 v0.3 §4.2)
      if (event.from === account) await ensureOwnInList(pep, list)
      return { owner: event.from, keys: await importDevices(pep, event.from, list) }
    },
    async afterMessage(pep, send) {
      for (const m of await omemo.takeEmptyMessages()) await send(emptyMessageStanza(m.to, m.element))
      if ((await omemo.ownDeviceId()) === undefined) return
      if (published !== bundleMarkOf(await omemo.ownBundle())) await publishBundle(pep)
    },
  }
}
