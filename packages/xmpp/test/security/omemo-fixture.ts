/**
 * OMEMO 2 devices for server-less binding tests: each device a backend on its own memory store,
 * introduced to the others by importing device lists and bundles (what PEP would carry).
 */
import { type OmemoBackend, omemoBackend } from '@vouch/backend-omemo'
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, KeyId, TrustLevel } from '@vouch/tm-core'
import { TRUST_LEVELS } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'

export const ALICE = 'alice@localhost' as BareJid
export const BOB = 'bob@localhost' as BareJid
export const NS_OMEMO2 = 'urn:xmpp:omemo:2'
export const ALL_LEVELS: readonly TrustLevel[] = TRUST_LEVELS

export interface Device {
  readonly jid: BareJid
  readonly store: AccountTrustStore
  readonly backend: OmemoBackend
  readonly key: KeyId
}

export async function device(jid: BareJid): Promise<Device> {
  const store = memoryStore().forAccount(jid)
  const backend = omemoBackend({ preKeyCount: 25 })({ store })
  await backend.createDevice()
  return { jid, store, backend, key: (await backend.ownKeys())[0] as KeyId }
}

/**
 * `x` learns `y`'s device (its device list and bundle), registered at `automatically-trusted`
 * (stands in for ATM `keysDiscovered` under TOAKAFA: the backend stores key material only).
 */
export async function introduce(x: Device, y: Device): Promise<void> {
  await x.backend.importDeviceList(y.jid, await y.backend.ownDeviceList())
  const id = await x.backend.importBundle(
    y.jid,
    (await y.backend.ownDeviceId()) as number,
    await y.backend.ownBundle(),
  )
  await x.store.addKeys(
    NS_OMEMO2,
    y.jid,
    [id],
    { provenance: { kind: 'manual' }, at: Date.now() },
    'automatically-trusted',
  )
}

export async function setLevel(d: Device, owner: BareJid, key: KeyId, level: TrustLevel): Promise<void> {
  await d.store.setTrustLevels(NS_OMEMO2, [{ owner, keyIds: [key], level }], {
    provenance: { kind: 'manual' },
    at: Date.now(),
  })
}

export const body = (text: string): Element => xml('body', { xmlns: 'jabber:client' }, text)

/** A `<message/>` carrying `encrypted`, as the server delivers it. */
export function messageStanza(from: string, to: string, encrypted: Element, extra: Element[] = []): Element {
  return xml('message', { xmlns: 'jabber:client', from, to, type: 'chat' }, encrypted, ...extra)
}

/** A `<sent/>` carbon of `inner` for `account`'s resource `r` (XEP-0280). */
export function sentCarbon(account: BareJid, inner: Element): Element {
  return xml(
    'message',
    { xmlns: 'jabber:client', from: account, to: `${account}/r` },
    xml('sent', { xmlns: 'urn:xmpp:carbons:2' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, inner)),
  )
}

/** An XEP-0203 `<delay/>`. */
export const delay = (from: string, stamp: Date): Element =>
  xml('delay', { xmlns: 'urn:xmpp:delay', from, stamp: stamp.toISOString() })
