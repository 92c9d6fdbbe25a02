/**
 * Key announcement over PEP, per encryption protocol: which nodes to follow (`+notify`), how
 * to publish our own keys and how to fetch and import somebody's keys. Backends never touch
 * the network; a directory does it for them through {@link PepAccess}.
 */
import type { BareJid, EncryptionNamespace, KeyId } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import type { Element } from '@xmpp/xml'
import { type PepEvent, type PepItem, pepFetch, pepPublish, type PublishOptions } from './xep0060-pep.ts'

/** PEP (XEP-0163) publish and fetch on the binding's connection. */
export interface PepAccess {
  publish(node: string, id: string, payload: Element, options?: PublishOptions): Promise<void>
  fetch(
    jid: BareJid,
    node: string,
    select?: { readonly id?: string; readonly max?: number },
  ): Promise<PepItem[]>
}

export function pepAccess(xmpp: Client): PepAccess {
  return {
    publish: (node, id, payload, options) => pepPublish(xmpp, node, id, payload, options),
    fetch: (jid, node, select) => pepFetch(xmpp, jid, node, select),
  }
}

export interface KeyDirectory {
  /** the encryption protocol whose keys this directory announces */
  readonly namespace: EncryptionNamespace
  /** PEP nodes we want notifications of (advertised as `node+notify` in disco/caps) */
  readonly notifyNodes: readonly string[]
  /** extra disco features (e.g. `urn:xmpp:openpgp:im:0`) */
  readonly features?: readonly string[]
  /** publishes our own keys (after every fresh session) */
  publishOwn(pep: PepAccess): Promise<void>
  /** fetches and imports `owner`'s announced keys; resolves to the usable key ids */
  refresh(owner: BareJid, pep: PepAccess): Promise<readonly KeyId[]>
  /**
   * Optional: called after every received message of this directory's protocol was processed
   * (live, carbon or archive), with a way to send stanzas. OMEMO 2 sends the empty messages the
   * backend owes (key exchange answers, heartbeats) and republishes its bundle once pre keys
   * were used.
   */
  afterMessage?(pep: PepAccess, send: (stanza: Element) => Promise<void>): Promise<void>
  /** a notification of one of {@link notifyNodes}: the owner whose keys changed, if any */
  onNotification(
    event: PepEvent,
    pep: PepAccess,
  ): Promise<{ readonly owner: BareJid; readonly keys: readonly KeyId[] } | undefined>
}
