/**
 * XEP-0384: OMEMO Encryption — implements v0.9.1 §5.3 (device list and bundles in PEP) for
 * `urn:xmpp:omemo:2`: the key directory of the OMEMO 2 backend, the subpath
 * `@vouch/backend-omemo/pep`. It implements tm-core's `KeyDirectory` over a `PepAccess` the
 * binding hands it, so the binding never knows the protocol.
 * https://xmpp.org/extensions/xep-0384.html
 *
 * - our device list: node `urn:xmpp:omemo:2:devices`, item `current`, access model `open`, our
 *   device added to the list as published (never dropping the others');
 * - our bundle: node `urn:xmpp:omemo:2:bundles`, item id = our device id, `max_items=max`,
 *   access model `open` (publish-options); republished after a key exchange used one of its pre
 *   keys (the backend refills them) and after a signed pre key rotation;
 * - somebody's devices (contacts and our own other devices): the device list, then the bundle
 *   of every listed device we have no key for; imported through the backend, which checks the
 *   signed pre key signature and stores the key material. `refresh` and `onNotification`
 *   resolve to the usable key ids (D-6: the Ed25519 identity keys); which level a new key gets is
 *   ATM's decision (`keysDiscovered`, called by the binding), never the directory's;
 * - notifications (`+notify` on the device list), with or without payload;
 * - after every received OMEMO message: the empty messages the backend owes (key exchange
 *   answers, heartbeats), each in its own `<message type='chat'/>` to the owner's bare JID.
 */
import type { BareJid, KeyDirectory, KeyId, PepAccess, PepItem } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
import { bundleMark, emptyMessageStanza as commonEmptyMessageStanza } from '@vouch/omemo-common'
import type { OmemoBackend } from './backend.ts'
import {
  type BundleData,
  buildBundle,
  buildDeviceList,
  type DeviceListEntry,
  NODE_BUNDLES,
  NODE_DEVICES,
  NS_OMEMO2,
  parseDeviceList,
} from './xep0384.ts'

const OPEN = { 'pubsub#access_model': 'open' } as const
const BUNDLE_OPTIONS = { 'pubsub#max_items': 'max', 'pubsub#access_model': 'open' } as const

export interface OmemoKeyDirectoryOptions {
  /** a label for our device in the device list (unsigned: python-twomemo 1.0.3 rejects `labelsig`) */
  readonly label?: string
}

/** What identifies a published bundle: the signed pre key and the pre key ids. */
function bundleMarkOf(b: BundleData): string {
  return bundleMark(
    b.spkId,
    b.preKeys.map((k) => k.id),
  )
}

/**
 * The stanza carrying an empty OMEMO message (key exchange answer, heartbeat):
 * `emptyMessageStanza` of `@vouch/omemo-common` — type `chat` and `<store/>` (offline and archive
 * delivery) like every encrypted message (D-7), no body, and `<private/>` + `<no-copy/>`
 * (XEP-0280 §6, XEP-0334): it is for one device of the recipient.
 */
export function emptyMessageStanza(to: BareJid, encrypted: Element, id?: string): Element {
  return commonEmptyMessageStanza(to, encrypted, NS_OMEMO2, ...(id === undefined ? [] : [id]))
}

/** The OMEMO 2 key directory of `omemo` (tm-core's `KeyDirectory`). */
export function omemoKeyDirectory(omemo: OmemoBackend, options: OmemoKeyDirectoryOptions = {}): KeyDirectory {
  const account = omemo.account
  let published: string | undefined

  async function publishBundle(pep: PepAccess): Promise<void> {
    const deviceId = await omemo.ownDeviceId()
    if (deviceId === undefined) return
    const bundle = await omemo.ownBundle()
    await pep.publish(NODE_BUNDLES, String(deviceId), buildBundle(bundle), BUNDLE_OPTIONS)
    published = bundleMarkOf(bundle)
  }

  async function fetchList(pep: PepAccess, owner: BareJid): Promise<DeviceListEntry[] | undefined> {
    let items: PepItem[]
    try {
      items = await pep.fetch(owner, NODE_DEVICES, { id: 'current' })
    } catch {
      return undefined // no node yet (item-not-found) or not allowed
    }
    return listFrom(items)
  }

  function listFrom(items: readonly PepItem[]): DeviceListEntry[] | undefined {
    const item = items.find((i) => i.id === 'current') ?? items.at(-1)
    if (item?.payload === undefined) return undefined
    try {
      return parseDeviceList(item.payload)
    } catch {
      return undefined // malformed: ignored, the last good list stays
    }
  }

  /**
   * Our device in the list as published, and none of our replaced (rotated) devices: republish
   * the list when it lacks ours or still names a replaced one. Resolves to the list as it stands.
   */
  async function ensureOwnInList(
    pep: PepAccess,
    list: readonly DeviceListEntry[],
  ): Promise<DeviceListEntry[]> {
    const deviceId = await omemo.ownDeviceId()
    if (deviceId === undefined) return [...list]
    const retired = new Set(await omemo.retiredDeviceIds())
    const kept = list.filter((d) => !retired.has(d.id))
    if (kept.length === list.length && list.some((d) => d.id === deviceId)) return [...list]
    const own: DeviceListEntry =
      options.label === undefined ? { id: deviceId } : { id: deviceId, label: options.label }
    const next = kept.some((d) => d.id === deviceId) ? kept : [...kept, own]
    await pep.publish(NODE_DEVICES, 'current', buildDeviceList(next), OPEN)
    return next
  }

  /** Imports `owner`'s list and the bundles of listed devices we have no key for; the usable key ids. */
  async function importDevices(
    pep: PepAccess,
    owner: BareJid,
    list: readonly DeviceListEntry[],
  ): Promise<readonly KeyId[]> {
    await omemo.importDeviceList(owner, list)
    const ownId = owner === account ? await omemo.ownDeviceId() : undefined
    const known = new Map((await omemo.devices(owner)).map((d) => [d.deviceId, d] as const))
    for (const { id } of list) {
      if (id === ownId || known.get(id)?.keyId !== undefined) continue
      let items: PepItem[]
      try {
        items = await pep.fetch(owner, NODE_BUNDLES, { id: String(id) })
      } catch {
        continue // no bundle published (yet): the device is not encrypted to
      }
      const payload = items.find((i) => i.id === String(id))?.payload
      if (payload === undefined) continue
      try {
        await omemo.importBundle(owner, id, payload)
      } catch {
        // a bundle whose signed pre key signature does not verify, or malformed: never used
      }
    }
    const active = new Set(list.map((d) => d.id))
    const keys = new Set<KeyId>()
    for (const d of await omemo.devices(owner))
      if (active.has(d.deviceId) && d.keyId !== undefined) keys.add(d.keyId)
    return [...keys].sort()
  }

  return {
    namespace: NS_OMEMO2,
    notifyNodes: [NODE_DEVICES],
    async publishOwn(pep) {
      if ((await omemo.ownDeviceId()) === undefined) return
      await omemo.rotateSignedPreKey()
      await publishBundle(pep)
      const list = await ensureOwnInList(pep, (await fetchList(pep, account)) ?? [])
      await importDevices(pep, account, list)
    },
    async refresh(owner, pep) {
      const list = await fetchList(pep, owner)
      if (list === undefined) return omemo.keysOf(owner)
      return importDevices(pep, owner, owner === account ? await ensureOwnInList(pep, list) : list)
    },
    async onNotification(event, pep) {
      if (event.node !== NODE_DEVICES) return undefined
      const list = event.items.some((i) => i.payload !== undefined)
        ? listFrom(event.items)
        : await fetchList(pep, event.from)
      if (list === undefined) return undefined
      // XEP-0384 §5.3.1: a client makes sure its own device stays in its list
      const current = event.from === account ? await ensureOwnInList(pep, list) : list
      return { owner: event.from, keys: await importDevices(pep, event.from, current) }
    },
    async afterMessage(pep, send) {
      for (const m of await omemo.takeEmptyMessages()) await send(emptyMessageStanza(m.to, m.element))
      if ((await omemo.ownDeviceId()) === undefined) return
      if (published !== bundleMarkOf(await omemo.ownBundle())) await publishBundle(pep)
    },
  }
}
