/**
 * The Vouch side of the Converse.js tests: an endpoint made the way the root README's "Chat with
 * a Converse.js user" makes it (`@vouch/xmpp` + `@vouch/backend-omemo` and its PEP directory,
 * a memory store), optionally with more backends, online and synced; and the RFC 6121
 * subscription handshake with a Converse user.
 */
import { type OmemoBackend, omemoBackend } from '@vouch/backend-omemo'
import { omemoKeyDirectory } from '@vouch/backend-omemo/pep'
import type { ProsodyServer } from '@vouch/prosody-tooling'
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, EncryptionBackend, KeyDirectory } from '@vouch/tm-core'
import { createClient, type ReceivedChat, startClient, type VouchXmpp, vouchXmpp } from '@vouch/xmpp'
import type { Client } from '@xmpp/client'
import xml from '@xmpp/xml'
import type { ConverseUser } from './index.ts'

export const TEST_PASSWORD = 'correct horse battery staple'

export interface VouchUser {
  readonly jid: BareJid
  readonly xmpp: Client
  readonly store: AccountTrustStore
  /** the OMEMO 2 backend (always there) */
  readonly omemo: OmemoBackend
  readonly vouch: VouchXmpp
  /** every `message` event */
  readonly received: ReceivedChat[]
  /** every `rejected` event, as `name message` */
  readonly rejected: string[]
  stop(): Promise<void>
}

export interface VouchUserInit {
  /**
   * More backends (and their key directories) over the same store, e.g. OMEMO 0.3; `first`
   * puts them before OMEMO 2 in the preference order (default after).
   */
  readonly extra?: (store: AccountTrustStore) => Promise<{
    readonly backends: readonly EncryptionBackend[]
    readonly keyDirectories: readonly KeyDirectory[]
    readonly first?: boolean
  }>
  /** leave OMEMO 2 out of the binding (its device is still made) */
  readonly withoutOmemo2?: boolean
}

/** Registers `user` on `server` and starts a Vouch endpoint with a fresh OMEMO 2 device. */
export async function startVouchUser(
  server: ProsodyServer,
  user: string,
  init: VouchUserInit = {},
): Promise<VouchUser> {
  const jid = `${user}@${server.domain}` as BareJid
  await server.register(user, TEST_PASSWORD)
  const store = memoryStore().forAccount(jid)
  const omemo = omemoBackend()({ store })
  await omemo.createDevice()
  const extra = (await init.extra?.(store)) ?? { backends: [], keyDirectories: [] }
  const own = init.withoutOmemo2 === true ? [] : [omemo]
  const ownDirs = init.withoutOmemo2 === true ? [] : [omemoKeyDirectory(omemo)]
  const backends = extra.first === true ? [...extra.backends, ...own] : [...own, ...extra.backends]
  const keyDirectories = [...ownDirs, ...extra.keyDirectories]
  const xmpp = createClient({ service: server.service, jid, password: TEST_PASSWORD, resource: 'vouch' })
  const vouch = vouchXmpp(xmpp, { store, backends, keyDirectories })
  const received: ReceivedChat[] = []
  const rejected: string[] = []
  vouch.on('message', (m) => received.push(m))
  vouch.on('rejected', (r) => rejected.push(`${r.error.name} ${r.error.message}`))
  const synced = vouch.synced()
  await startClient(xmpp)
  await synced
  return {
    jid,
    xmpp,
    store,
    omemo,
    vouch,
    received,
    rejected,
    async stop() {
      vouch.close()
      await xmpp.stop().catch(() => undefined)
    },
  }
}

/**
 * Mutual presence subscription with plain RFC 6121 stanzas: the Converse user adds the Vouch
 * user ("Add a contact"), Vouch approves and asks back, Converse (`auto_subscribe`) accepts;
 * resolves once Converse's roster shows the subscription both ways.
 */
export async function befriend(converse: ConverseUser, converseJid: BareJid, v: VouchUser): Promise<void> {
  await converse.addContact(v.jid, v.jid.split('@')[0])
  await v.xmpp.send(xml('presence', { to: converseJid, type: 'subscribed' }))
  await v.xmpp.send(xml('presence', { to: converseJid, type: 'subscribe' }))
  await eventually(`a mutual subscription between ${converseJid} and ${v.jid}`, async () =>
    (await converse.subscription(v.jid)) === 'both' ? true : undefined,
  )
}

/** Polls `f` until it returns something other than `undefined`/`false` (rejects after `ms`). */
export async function eventually<T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v !== undefined && v !== false) return v as T
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
