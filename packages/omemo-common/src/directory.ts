/**
 * The PEP key directory both OMEMO backends implement (tm-core's `KeyDirectory`), written once:
 * publish our bundle and keep our device in our device list, read somebody's device list and the
 * bundles of listed devices we have no key for (imported through the backend, which checks them
 * and stores key material only), fetch a device's current bundle again before the first message
 * to it (its stored pre keys may have been used by other senders since), follow device list
 * notifications, send the empty messages the backend owes and republish the bundle when it
 * changed. What differs between the versions (node
 * names, item ids, list entries, bundle shape, publish options) is the {@link DirectoryProtocol}.
 *
 * The key ids it resolves to are handed by the binding to ATM's `keysDiscovered`: which level a
 * new key gets is ATM's decision, never the directory's.
 */
import type { BareJid, Element, KeyDirectory, KeyId, KeyRef, PepAccess, PepItem } from '@vouch/tm-core'
import { isPepAccessDenied } from '@vouch/tm-core'
import type { KnownDevice } from './devices.ts'

/** How a backend imports a bundle. */
export interface ImportBundleOptions {
  /** import only if the bundle's identity key is this key (else reject, storing nothing) */
  readonly expectedKey?: KeyId
}

/** What the directory needs of a backend. */
export interface DirectoryBackend<Entry, Bundle> {
  readonly account: BareJid
  ownDeviceId(): Promise<number | undefined>
  ownBundle(): Promise<Bundle>
  rotateSignedPreKey(): Promise<boolean>
  importDeviceList(owner: BareJid, list: readonly Entry[]): Promise<readonly KeyId[]>
  /**
   * Checks and stores a device's bundle; with `expectedKey`, only if its identity key is that key
   * (else it rejects and stores nothing).
   */
  importBundle(
    owner: BareJid,
    deviceId: number,
    bundle: Element,
    options?: ImportBundleOptions,
  ): Promise<KeyId>
  devices(owner: BareJid): Promise<readonly KnownDevice[]>
  keysOf(owner: BareJid): Promise<readonly KeyId[]>
  takeEmptyMessages(): Promise<ReadonlyArray<{ readonly to: BareJid; readonly element: Element }>>
  /** new sessions with `owner`'s devices `ids`, each owed an empty message; the devices replaced */
  replaceSessions(owner: BareJid, ids: readonly number[]): Promise<readonly number[]>
}

/** A device of a key, as the directory works on it. */
interface Device {
  readonly owner: BareJid
  readonly deviceId: number
  readonly keyId: KeyId
}

/** What differs between the protocol versions. */
export interface DirectoryProtocol<Entry, Bundle> {
  /** the encryption namespace (`KeyDirectory.namespace`) */
  readonly namespace: string
  /** the device list node (notifications are followed on it) */
  readonly devicesNode: string
  /** the device list's item id */
  readonly listItem: string
  /** fetch the list item alone (`select`), else every item of the node */
  readonly selectListItem: boolean
  /** @throws on a malformed list (it is then ignored: the last good list stays) */
  parseList(el: Element): Entry[]
  deviceIdOf(entry: Entry): number
  /**
   * The list to publish so that it names our device `ownId` as it should (and nothing it should
   * not, e.g. our replaced devices), or undefined when `list` is right as it stands.
   */
  listWithOwn(list: readonly Entry[], ownId: number): Promise<Entry[] | undefined>
  publishList(pep: PepAccess, list: readonly Entry[]): Promise<void>
  publishBundle(pep: PepAccess, deviceId: number, bundle: Bundle): Promise<void>
  /** the published bundle of `owner`'s device `id`, or undefined; may throw (no node, not allowed) */
  fetchBundle(pep: PepAccess, owner: BareJid, id: number): Promise<Element | undefined>
  /** what identifies a published bundle (republished when it changes) */
  bundleMark(bundle: Bundle): string
  /** the stanza of an empty message the backend owes */
  emptyStanza(to: BareJid, encrypted: Element): Element
}

/** A `KeyDirectory` for `backend` speaking `protocol`. */
export function pepKeyDirectory<Entry, Bundle>(
  backend: DirectoryBackend<Entry, Bundle>,
  protocol: DirectoryProtocol<Entry, Bundle>,
): KeyDirectory {
  const account = backend.account
  const p = protocol
  let published: string | undefined

  async function publishBundle(pep: PepAccess): Promise<void> {
    const deviceId = await backend.ownDeviceId()
    if (deviceId === undefined) return
    const bundle = await backend.ownBundle()
    await p.publishBundle(pep, deviceId, bundle)
    published = p.bundleMark(bundle)
  }

  function listFrom(items: readonly PepItem[]): Entry[] | undefined {
    const item = items.find((i) => i.id === p.listItem) ?? items.at(-1)
    if (item?.payload === undefined) return undefined
    try {
      return p.parseList(item.payload)
    } catch {
      return undefined // malformed: ignored, the last good list stays
    }
  }

  /**
   * `owner`'s device list; undefined when it cannot be read (no node yet: item-not-found). With
   * `refused: 'throw'`, a node we may not read (its owner shows it to contacts only: the PEP access
   * model `presence`) rejects with the fetch's error, so that the binding can say why
   * (`KeysNotVisibleError`) and keep a message that waits for these keys.
   */
  async function fetchList(
    pep: PepAccess,
    owner: BareJid,
    refused: 'throw' | 'undefined' = 'undefined',
  ): Promise<Entry[] | undefined> {
    let items: PepItem[]
    try {
      items = await pep.fetch(owner, p.devicesNode, ...(p.selectListItem ? [{ id: p.listItem }] : []))
    } catch (e) {
      if (refused === 'throw' && isPepAccessDenied(e)) throw e
      return undefined
    }
    return listFrom(items)
  }

  /** Our list as it should stand (republished when it did not): resolves to it. */
  async function ensureOwnInList(pep: PepAccess, list: readonly Entry[]): Promise<Entry[]> {
    const deviceId = await backend.ownDeviceId()
    if (deviceId === undefined) return [...list]
    const next = await p.listWithOwn(list, deviceId)
    if (next === undefined) return [...list]
    await p.publishList(pep, next)
    return next
  }

  /** Imports `owner`'s list and the bundles of listed devices we have no key for; the usable key ids. */
  async function importDevices(
    pep: PepAccess,
    owner: BareJid,
    list: readonly Entry[],
  ): Promise<readonly KeyId[]> {
    await backend.importDeviceList(owner, list)
    const ownId = owner === account ? await backend.ownDeviceId() : undefined
    const known = new Map((await backend.devices(owner)).map((d) => [d.deviceId, d] as const))
    for (const id of list.map(p.deviceIdOf)) {
      if (id === ownId || known.get(id)?.keyId !== undefined) continue
      let payload: Element | undefined
      try {
        payload = await p.fetchBundle(pep, owner, id)
      } catch {
        continue // no bundle published (yet): the device is not encrypted to
      }
      if (payload === undefined) continue
      try {
        await backend.importBundle(owner, id, payload)
      } catch {
        // a bundle whose signed pre key signature does not verify, or malformed: never used
      }
    }
    const active = new Set(list.map(p.deviceIdOf))
    const keys = new Set<KeyId>()
    for (const d of await backend.devices(owner))
      if (active.has(d.deviceId) && d.keyId !== undefined) keys.add(d.keyId)
    return [...keys].sort()
  }

  /**
   * The listed devices (not our own) whose key is one of `keys` (this protocol's ones); with
   * `withoutSession`, only those we have no session with yet.
   */
  async function devicesOf(keys: readonly KeyRef[], withoutSession: boolean): Promise<Device[]> {
    const wanted = new Map<BareJid, Set<KeyId>>()
    for (const k of keys) {
      if (k.encryption !== p.namespace) continue
      const set = wanted.get(k.owner) ?? new Set<KeyId>()
      set.add(k.keyId)
      wanted.set(k.owner, set)
    }
    const ownId = await backend.ownDeviceId()
    const out: Device[] = []
    for (const [owner, ids] of wanted)
      for (const d of await backend.devices(owner)) {
        if (!d.active || d.keyId === undefined || !ids.has(d.keyId)) continue
        if ((withoutSession && d.hasSession) || (owner === account && d.deviceId === ownId)) continue
        out.push({ owner, deviceId: d.deviceId, keyId: d.keyId })
      }
    return out
  }

  /**
   * Fetches the current bundle of each device (side by side: one round trip) and stores it when it
   * carries the key we know. A device that changed its key is `refresh`'s business (a new key, ATM
   * decides about it), never replaced here; on any failure the stored bundle stays.
   */
  async function fetchBundlesAgain(pep: PepAccess, devices: readonly Device[]): Promise<void> {
    const fetched = await Promise.all(
      devices.map((d) => p.fetchBundle(pep, d.owner, d.deviceId).catch(() => undefined)),
    )
    for (const [i, d] of devices.entries()) {
      const payload = fetched[i]
      if (payload === undefined) continue
      try {
        await backend.importBundle(d.owner, d.deviceId, payload, { expectedKey: d.keyId })
      } catch {
        // another key, a bad signature or malformed: the stored bundle stays
      }
    }
  }

  async function sendOwedEmpty(send: (stanza: Element) => Promise<void>): Promise<void> {
    for (const m of await backend.takeEmptyMessages()) await send(p.emptyStanza(m.to, m.element))
  }

  return {
    namespace: p.namespace,
    notifyNodes: [p.devicesNode],
    async publishOwn(pep) {
      if ((await backend.ownDeviceId()) === undefined) return
      await backend.rotateSignedPreKey()
      await publishBundle(pep)
      const list = await ensureOwnInList(pep, (await fetchList(pep, account)) ?? [])
      await importDevices(pep, account, list)
    },
    async refresh(owner, pep) {
      const list = await fetchList(pep, owner, 'throw')
      if (list === undefined) return backend.keysOf(owner)
      return importDevices(pep, owner, owner === account ? await ensureOwnInList(pep, list) : list)
    },
    async onNotification(event, pep) {
      if (event.node !== p.devicesNode) return undefined
      const list = event.items.some((i) => i.payload !== undefined)
        ? listFrom(event.items)
        : await fetchList(pep, event.from)
      if (list === undefined) return undefined
      // XEP-0384 (v0.3 §4.2, v0.9 §5.3.1): a client makes sure its own device stays in its list
      const current = event.from === account ? await ensureOwnInList(pep, list) : list
      return { owner: event.from, keys: await importDevices(pep, event.from, current) }
    },
    async beforeEncrypt(keys, pep) {
      await fetchBundlesAgain(pep, await devicesOf(keys, true))
    },
    async replaceSessions(keys, pep, send) {
      const devices = await devicesOf(keys, false)
      await fetchBundlesAgain(pep, devices)
      const replaced: KeyRef[] = []
      for (const owner of new Set(devices.map((d) => d.owner))) {
        const mine = devices.filter((d) => d.owner === owner)
        const ids = new Set(
          await backend.replaceSessions(
            owner,
            mine.map((d) => d.deviceId),
          ),
        )
        for (const d of mine)
          if (ids.has(d.deviceId)) replaced.push({ encryption: p.namespace, owner, keyId: d.keyId })
      }
      await sendOwedEmpty(send)
      return replaced
    },
    async afterMessage(pep, send) {
      await sendOwedEmpty(send)
      if ((await backend.ownDeviceId()) === undefined) return
      if (published !== p.bundleMark(await backend.ownBundle())) await publishBundle(pep)
    },
  }
}
