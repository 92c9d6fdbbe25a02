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
import {
  bundleMark,
  emptyMessageStanza as commonEmptyMessageStanza,
  pepKeyDirectory,
} from '@vouch/omemo-common'
import type { BareJid, KeyDirectory } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
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

/**
 * The stanza carrying an empty OMEMO 0.3 message (key transport: a key exchange answer or a
 * heartbeat): `emptyMessageStanza` of `@vouch/omemo-common` — type `chat`, `<store/>`, the XEP-0380
 * marker, no body, and `<private/>` + `<no-copy/>`: it is for one device of the recipient.
 */
export function emptyMessageStanza(to: BareJid, encrypted: Element, id?: string): Element {
  return commonEmptyMessageStanza(to, encrypted, NS_AXOLOTL, ...(id === undefined ? [] : [id]))
}

/** The OMEMO 0.3 key directory of `omemo` (tm-core's `KeyDirectory`, the shared `pepKeyDirectory`). */
export function legacyOmemoKeyDirectory(omemo: LegacyOmemoBackend): KeyDirectory {
  return pepKeyDirectory<number, LegacyBundle>(omemo, {
    namespace: NS_AXOLOTL,
    devicesNode: NODE_DEVICELIST,
    listItem: ITEM,
    // every item of the node: the one with id `current`, else the last
    selectListItem: false,
    parseList: (el) => parseDeviceList(el),
    deviceIdOf: (id) => id,
    async listWithOwn(list, ownId) {
      return list.includes(ownId) ? undefined : [...list, ownId]
    },
    publishList: (pep, list) => pep.publish(NODE_DEVICELIST, ITEM, buildDeviceList(list), OPEN),
    publishBundle: (pep, deviceId, bundle) =>
      pep.publish(bundleNode(deviceId), ITEM, buildBundle(bundle), OPEN),
    async fetchBundle(pep, owner, id) {
      const items = await pep.fetch(owner, bundleNode(id))
      return (items.find((i) => i.id === ITEM) ?? items.at(-1))?.payload
    },
    bundleMark: (b) =>
      bundleMark(
        b.signedPreKeyId,
        b.preKeys.map((k) => k.id),
      ),
    emptyStanza: (to, encrypted) => emptyMessageStanza(to, encrypted),
  })
}
