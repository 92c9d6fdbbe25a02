/**
 * Key directory refresh: fetching a contact's keys through the backends' PEP directories
 * (registered with ATM, `keys-changed`), our own keys' publication, PEP notifications, and why
 * a key node refuses us (`KeysNotVisibleError`, from the roster). When a key arrives that we
 * did not have, the held messages of its owner are received again (`onKeysArrived`). The trust
 * messages ATM plans for a new key that inherits a decision made here about its twin (D-12,
 * `keysDiscovered`'s `outgoing`) are queued in the transaction that stores the key and sent.
 */
import type { Atm, KeysDiscoveredResult } from '@vouch/atm'
import type { AccountTrustStore, BareJid, EncryptionNamespace, KeyId } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
import type { BindingContext } from './binding-types.ts'
import { type Contacts, isAccessDenied, KeysNotVisibleError, seesContact } from './roster.ts'
import { bareOf } from './util.ts'
import { readPepEvent } from './xep0060-pep.ts'

export interface KeyRefresh {
  /** Fetches `owner`'s keys of `enc` when the backend knows none. */
  ensureKeys(enc: EncryptionNamespace, owner: BareJid): Promise<void>
  /** Fetches `owner`'s announced keys (of `encryption`, else of every directory). */
  refreshKeys(owner: BareJid, encryption?: EncryptionNamespace): Promise<readonly KeyId[]>
  publishKeys(): Promise<void>
  /** A PEP notification (`+notify`) of a directory's node. */
  handlePepEvent(message: Element): Promise<void>
}

export interface KeyRefreshDeps {
  readonly atm: Atm
  readonly contacts: Pick<Contacts, 'get'>
  /** runs `keysDiscovered` and queues its trust messages in one transaction (`Outbox.discovered`) */
  discovered(run: (tx: AccountTrustStore) => Promise<KeysDiscoveredResult>): Promise<KeysDiscoveredResult>
  /** a key of `owner` arrived (held messages may be received again) */
  onKeysArrived(owner: BareJid): Promise<void>
}

export function keyRefresh(ctx: BindingContext, deps: KeyRefreshDeps): KeyRefresh {
  const { account, backends, directories, pep, emit } = ctx

  async function ensureKeys(enc: EncryptionNamespace, owner: BareJid): Promise<void> {
    const backend = backends.get(enc)
    if (backend === undefined) return
    if ((await backend.keysOf(owner)).length > 0) return
    await refreshKeys(owner, enc)
  }

  async function handlePepEvent(message: Element): Promise<void> {
    const from = bareOf(message.attrs.from as string | undefined) ?? account
    const event = readPepEvent(message, from)
    if (event === undefined) return
    for (const d of directories.values()) {
      if (!d.notifyNodes.includes(event.node)) continue
      const changed = await d.onNotification(event, pep, unusableReporter(d.namespace))
      if (changed !== undefined) await keysChanged(d.namespace, changed.owner, changed.keys)
    }
  }

  async function keysChanged(enc: EncryptionNamespace, owner: BareJid, ids: readonly KeyId[]): Promise<void> {
    if (ids.length > 0) await deps.discovered((tx) => deps.atm.keysDiscovered(enc, owner, ids, { store: tx }))
    emit('keys-changed', { encryption: enc, owner, keys: ids })
    if (ids.length > 0) await deps.onKeysArrived(owner)
  }

  const unusableReporter = (encryption: EncryptionNamespace) => ({
    onUnusableKey: (k: { owner: BareJid; key: string; reason: string }) =>
      emit('key-unusable', { encryption, owner: k.owner, key: k.key, reason: k.reason }),
  })

  /** A key node that refuses us (`forbidden`): why, from the roster (a contacts-only node). */
  async function keysNotVisible(owner: BareJid, enc: EncryptionNamespace, e: unknown): Promise<unknown> {
    if (!isAccessDenied(e)) return e
    const c = await deps.contacts.get(owner).catch(() => undefined)
    const reason = seesContact(c) ? 'not-allowed' : c?.pending === true ? 'approval-pending' : 'not-a-contact'
    return new KeysNotVisibleError(owner, enc, reason, { cause: e })
  }

  /**
   * Every directory (of `encryption`, else all) in turn. A directory whose nodes refuse us (contacts
   * only) does not stop the others: its `KeysNotVisibleError` is thrown at the end, when no
   * directory found a key; any other failure is thrown at once.
   */
  async function refreshKeys(owner: BareJid, encryption?: EncryptionNamespace): Promise<readonly KeyId[]> {
    const out: KeyId[] = []
    let refused: unknown
    for (const d of directories.values()) {
      if (encryption !== undefined && d.namespace !== encryption) continue
      let ids: readonly KeyId[]
      try {
        ids = await d.refresh(owner, pep, unusableReporter(d.namespace))
      } catch (e) {
        const why = await keysNotVisible(owner, d.namespace, e)
        if (!(why instanceof KeysNotVisibleError)) throw why
        refused ??= why
        continue
      }
      await keysChanged(d.namespace, owner, ids)
      out.push(...ids)
    }
    if (refused !== undefined && out.length === 0) throw refused
    return out
  }

  async function publishKeys(): Promise<void> {
    for (const d of directories.values()) await d.publishOwn(pep)
  }

  return { ensureKeys, refreshKeys, publishKeys, handlePepEvent }
}
