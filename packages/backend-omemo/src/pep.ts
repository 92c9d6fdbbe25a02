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
import {
  bundleMark,
  emptyMessageStanza as commonEmptyMessageStanza,
  pepKeyDirectory,
} from '@vouch/omemo-common'
import type { BareJid, KeyDirectory } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
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

/**
 * The stanza carrying an empty OMEMO message (key exchange answer, heartbeat):
 * `emptyMessageStanza` of `@vouch/omemo-common` — type `chat` and `<store/>` (offline and archive
 * delivery) like every encrypted message (D-7), no body, and `<private/>` + `<no-copy/>`
 * (XEP-0280 §6, XEP-0334): it is for one device of the recipient.
 */
export function emptyMessageStanza(to: BareJid, encrypted: Element, id?: string): Element {
  return commonEmptyMessageStanza(to, encrypted, NS_OMEMO2, ...(id === undefined ? [] : [id]))
}

/** The OMEMO 2 key directory of `omemo` (tm-core's `KeyDirectory`, the shared `pepKeyDirectory`). */
export function omemoKeyDirectory(omemo: OmemoBackend, options: OmemoKeyDirectoryOptions = {}): KeyDirectory {
  return pepKeyDirectory<DeviceListEntry, BundleData>(omemo, {
    namespace: NS_OMEMO2,
    devicesNode: NODE_DEVICES,
    listItem: 'current',
    selectListItem: true,
    parseList: (el) => parseDeviceList(el),
    deviceIdOf: (d) => d.id,
    /** our device in the list as published, and none of our replaced (rotated) devices */
    async listWithOwn(list, ownId) {
      const retired = new Set(await omemo.retiredDeviceIds())
      const kept = list.filter((d) => !retired.has(d.id))
      if (kept.length === list.length && list.some((d) => d.id === ownId)) return undefined
      const own: DeviceListEntry =
        options.label === undefined ? { id: ownId } : { id: ownId, label: options.label }
      return kept.some((d) => d.id === ownId) ? kept : [...kept, own]
    },
    publishList: (pep, list) => pep.publish(NODE_DEVICES, 'current', buildDeviceList(list), OPEN),
    publishBundle: (pep, deviceId, bundle) =>
      pep.publish(NODE_BUNDLES, String(deviceId), buildBundle(bundle), BUNDLE_OPTIONS),
    async fetchBundle(pep, owner, id) {
      const items = await pep.fetch(owner, NODE_BUNDLES, { id: String(id) })
      return items.find((i) => i.id === String(id))?.payload
    },
    bundleMark: (b) =>
      bundleMark(
        b.spkId,
        b.preKeys.map((k) => k.id),
      ),
    emptyStanza: (to, encrypted) => emptyMessageStanza(to, encrypted),
  })
}
