import { oxBackend, type OxBackend } from '@vouch/backend-ox'
import {
  PROSODY_INSTALL_HINT,
  type ProsodyServer,
  prosodyInstalled,
  startProsody,
} from '@vouch/prosody-tooling'
import { sqliteStore } from '@vouch/store-sqlite'
import type { AccountTrustStore, BareJid, TrustStore } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import { createClient, startClient } from '../src/connect.ts'
import { type VouchXmpp, type VouchXmppInit, vouchXmpp } from '../src/binding.ts'
import { oxKeyDirectory } from '@vouch/backend-ox/pep'

/**
 * Integration tests need Prosody. Outside CI they are skipped visibly when it is missing; in CI
 * (`process.env.CI`) a missing Prosody fails them ({@link startTestServer} throws).
 */
export const HAVE_PROSODY = prosodyInstalled()
export const SKIP_INTEGRATION = !HAVE_PROSODY && process.env.CI === undefined

export async function startTestServer(): Promise<ProsodyServer> {
  if (!HAVE_PROSODY) throw new Error(`${PROSODY_INSTALL_HINT} (integration tests need it in CI)`)
  return startProsody()
}

export const PASSWORD = 'correct horse battery staple'

export function jidOf(server: ProsodyServer, user: string): BareJid {
  return `${user}@${server.domain}` as BareJid
}

/** A started client (the account must exist). */
export async function online(server: ProsodyServer, user: string, resource: string): Promise<Client> {
  const xmpp = createClient({
    service: server.service,
    jid: jidOf(server, user),
    password: PASSWORD,
    resource,
  })
  await startClient(xmpp)
  return xmpp
}

/** Resolves with the first stanza matching `pred` (rejects after `ms`). */
export function nextStanza(xmpp: Client, pred: (s: import('@xmpp/xml').Element) => boolean, ms = 5000) {
  return new Promise<import('@xmpp/xml').Element>((resolve, reject) => {
    const timer = setTimeout(() => {
      xmpp.removeListener('stanza', on)
      reject(new Error('timed out waiting for a stanza'))
    }, ms)
    const on = (s: import('@xmpp/xml').Element): void => {
      if (!pred(s)) return
      clearTimeout(timer)
      xmpp.removeListener('stanza', on)
      resolve(s)
    }
    xmpp.on('stanza', on)
  })
}

/** Polls `check` until it returns true (rejects after `ms`). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** One endpoint: a client, its own SQLite store file (':memory:'), an OX backend and the binding. */
export interface Endpoint {
  readonly jid: BareJid
  readonly resource: string
  readonly xmpp: Client
  readonly store: AccountTrustStore
  readonly trustStore: TrustStore
  readonly ox: OxBackend
  readonly vouch: VouchXmpp
  stop(): Promise<void>
}

export interface EndpointInit {
  readonly server: ProsodyServer
  readonly user: string
  readonly resource: string
  /** share the OX secret key of this endpoint (one key per account: ATM-4) */
  readonly sameKeyAs?: Endpoint
  readonly trustStore?: TrustStore
  readonly start?: boolean
  readonly binding?: Partial<VouchXmppInit>
  /** the PEP access model of the endpoint's own key nodes (default `open`) */
  readonly keyAccess?: 'open' | 'presence'
}

export async function endpoint(init: EndpointInit): Promise<Endpoint> {
  const jid = jidOf(init.server, init.user)
  const trustStore = init.trustStore ?? (await sqliteStore({ database: ':memory:' }))
  const store = trustStore.forAccount(jid)
  const ox = oxBackend()({ store })
  if ((await ox.ownKeyInfo()) === undefined) {
    if (init.sameKeyAs !== undefined) {
      const backup = await init.sameKeyAs.ox.createBackup()
      await ox.restoreBackup(backup.bytes, backup.code)
    } else await ox.generateOwnKey()
  }
  const xmpp = createClient({
    service: init.server.service,
    jid,
    password: PASSWORD,
    resource: init.resource,
  })
  const vouch = vouchXmpp(xmpp, {
    store,
    backends: [ox],
    keyDirectories: [oxKeyDirectory(ox, init.keyAccess === undefined ? {} : { accessModel: init.keyAccess })],
    ...init.binding,
  })
  const ep: Endpoint = {
    jid,
    resource: init.resource,
    xmpp,
    store,
    trustStore,
    ox,
    vouch,
    async stop() {
      vouch.close()
      await xmpp.stop().catch(() => undefined)
    },
  }
  if (init.start !== false) {
    const synced = vouch.synced()
    await startClient(xmpp)
    await synced
  }
  return ep
}
