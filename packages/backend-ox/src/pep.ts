/**
 * XEP-0373: OpenPGP for XMPP — implements v0.7.0 §4 (public keys in PEP): the key directory of
 * the OX backend, the subpath `@vouch/backend-ox/pep`. It implements tm-core's `KeyDirectory`
 * over a `PepAccess` the binding hands it, so the binding never knows the protocol.
 * https://xmpp.org/extensions/xep-0373.html
 *
 * - our key: data node `urn:xmpp:openpgp:0:public-keys:<FPR>` (item id = the key's creation
 *   DateTime), then the metadata node `urn:xmpp:openpgp:0:public-keys` (item `current`), both
 *   with access model `open` (publish-options; `presence` when the user chooses it); the metadata is republished when our key is
 *   missing from it;
 * - somebody's keys: the metadata list, then the data node of every announced key we do not
 *   hold yet; imported through the backend, which checks the `xmpp:` user id and stores the key
 *   material. `refresh` and `onNotification` resolve to the usable key ids (D-6: the 20
 *   fingerprint bytes); which level a new key gets is ATM's decision (`keysDiscovered`, called by
 *   the binding), never the directory's;
 * - notifications (`+notify` on the metadata node), with or without payload;
 * - an announced key that cannot be used (not a key, no `xmpp:<owner>` user id, expired, revoked,
 *   no encryption subkey, an empty data node) is reported through `onUnusableKey`, never dropped
 *   silently; a key whose `<data/>` holds the ASCII armor instead of the binary key (Profanity's
 *   `/ox announce` of an armored export) is read (leniency OX-ARMOR) and checked like any other.
 *   Our own key is always published binary.
 */
import type {
  BareJid,
  KeyDirectory,
  KeyDirectoryCallOptions,
  KeyId,
  PepAccess,
  PepItem,
} from '@vouch/tm-core'
import { isStoreFailure } from '@vouch/tm-core'
import type { OxBackend, OxImportResult } from './backend.ts'
import { NODE_PUBLIC_KEYS, NS_OX, publicKeyDataNode } from './constants.ts'
import type { PubkeyMetadata } from './xep0373-pep.ts'
import { buildPublicKeysList, chooseCurrentKeys, withOwnKey } from './xep0373-pep.ts'

/** Options of {@link oxKeyDirectory}. */
export interface OxKeyDirectoryOptions {
  /**
   * The PEP access model of our key nodes: `open` (default, XEP-0373 §4.1: anybody may fetch our
   * public key, so a stranger's first message can be encrypted and checked) or `presence` (only
   * accounts with a presence subscription to us, as Conversations, Dino, Gajim and Profanity do:
   * it hides who we are talking with, at the price that a non-contact cannot write to us).
   */
  readonly accessModel?: 'open' | 'presence'
}

/** The OX key directory over `ox`: hand it to the binding (`keyDirectories`). */
export function oxKeyDirectory(ox: OxBackend, options: OxKeyDirectoryOptions = {}): KeyDirectory {
  const account = ox.account
  const OPEN = { 'pubsub#access_model': options.accessModel ?? 'open' } as const

  async function publishOwn(pep: PepAccess): Promise<void> {
    const info = await ox.ownKeyInfo()
    if (info === undefined) return
    await pep.publish(
      publicKeyDataNode(info.fingerprint),
      info.created.toISOString(),
      await ox.publicKeyElement(),
      OPEN,
    )
    const current = await announced(pep, account).catch(() => [] as PubkeyMetadata[])
    if (current.some((e) => e.fingerprint === info.fingerprint)) return
    const list = withOwnKey(current, { fingerprint: info.fingerprint, date: info.created })
    await pep.publish(NODE_PUBLIC_KEYS, 'current', buildPublicKeysList(list), OPEN)
  }

  async function announced(pep: PepAccess, owner: BareJid): Promise<PubkeyMetadata[]> {
    return fromItems(await pep.fetch(owner, NODE_PUBLIC_KEYS))
  }

  function fromItems(items: readonly PepItem[]): PubkeyMetadata[] {
    const withPayload = items.flatMap((i) =>
      i.payload === undefined ? [] : [{ id: i.id, payload: i.payload }],
    )
    return chooseCurrentKeys(withPayload)
  }

  async function importAnnounced(
    pep: PepAccess,
    owner: BareJid,
    list: readonly PubkeyMetadata[],
    options: KeyDirectoryCallOptions = {},
  ): Promise<readonly KeyId[]> {
    const unusable = (key: string, reason: string): void => options.onUnusableKey?.({ owner, key, reason })
    const known = new Set((await ox.knownKeys(owner)).map((k) => k.info.fingerprint))
    for (const entry of list) {
      if (known.has(entry.fingerprint)) continue
      const items = await pep.fetch(owner, publicKeyDataNode(entry.fingerprint), { max: 1 })
      const payload = items.at(-1)?.payload
      if (payload === undefined) {
        unusable(entry.fingerprint, 'OX-KEY: announced, but its data node holds no <pubkey/>')
        continue
      }
      let results: OxImportResult[]
      try {
        // the binary key, or its armor (leniency OX-ARMOR): the same checks either way
        results = await ox.importPublicKey(owner, payload)
      } catch (e) {
        if (isStoreFailure(e)) throw e
        // a key without `xmpp:<owner>`, not v4, or not a key: never used (OX.md key lookup)
        unusable(entry.fingerprint, e instanceof Error ? e.message : String(e))
        continue
      }
      for (const r of results) {
        if (!r.status.usable) unusable(r.info.fingerprint, `OX-KEY: ${r.status.reason} (${r.status.detail})`)
        else if (r.info.fingerprint !== entry.fingerprint)
          unusable(entry.fingerprint, `OX-KEY: its data node holds another key (${r.info.fingerprint})`)
      }
    }
    // the usable keys from the key material, whatever their level: ATM registers the new ones
    return ox.keysOf(owner)
  }

  return {
    namespace: NS_OX,
    notifyNodes: [NODE_PUBLIC_KEYS],
    publishOwn,
    async refresh(owner, pep, options) {
      if (owner === account) return ox.ownKeys()
      return importAnnounced(pep, owner, await announced(pep, owner), options)
    },
    async onNotification(event, pep, options) {
      if (event.node !== NODE_PUBLIC_KEYS) return undefined
      let list: PubkeyMetadata[]
      try {
        list = event.items.some((i) => i.payload !== undefined)
          ? fromItems(event.items)
          : await announced(pep, event.from)
      } catch {
        return undefined
      }
      if (event.from === account) {
        // XEP-0373 §4.2: republish when our own key disappeared from the list
        const own = await ox.ownKeyInfo()
        if (own !== undefined && !list.some((e) => e.fingerprint === own.fingerprint)) await publishOwn(pep)
        return undefined
      }
      return { owner: event.from, keys: await importAnnounced(pep, event.from, list, options) }
    },
  }
}
