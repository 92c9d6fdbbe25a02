/**
 * One endpoint of the demo, composed the way a browser client would: its own IndexedDB store
 * (`@vouch/store-indexeddb`), its own OMEMO 2 device (`@vouch/backend-omemo` with the browser
 * crypto provider, chosen by the `browser` export condition), and the XMPP binding
 * (`@vouch/xmpp`, `@xmpp/client`'s browser build over Prosody's WebSocket). Composition only.
 */
import { NS_OMEMO2, type OmemoBackend, omemoBackend } from '@vouch/backend-omemo'
import { omemoKeyDirectory } from '@vouch/backend-omemo/pep'
import { indexedDbStore } from '@vouch/store-indexeddb'
import type { AccountTrustStore, BareJid, KeyId, TrustStore } from '@vouch/tm-core'
import { parseBareJid } from '@vouch/tm-core'
import { formatTrustMessageUri } from '@vouch/uri'
import { createClient, startClient, stopClient, type VouchXmpp, vouchXmpp } from '@vouch/xmpp'

export interface EndpointInit {
  /** `ws://127.0.0.1:PORT/xmpp-websocket` */
  readonly service: string
  readonly domain: string
  readonly user: string
  readonly resource: string
  readonly password: string
  /** XEP-0077: create the account first */
  readonly register: boolean
  /** the IndexedDB database of this endpoint */
  readonly database: string
}

export interface Endpoint {
  readonly jid: BareJid
  readonly resource: string
  readonly trustStore: TrustStore
  readonly store: AccountTrustStore
  readonly omemo: OmemoBackend
  readonly vouch: VouchXmpp
  /** this device's OMEMO 2 key (its Ed25519 identity key) */
  readonly ownKey: KeyId
  readonly deviceId: number
  /** this device's Trust Message URI (XEP-0434): what its QR code shows */
  readonly uri: string
  stop(): Promise<void>
}

/**
 * Opens the store, makes the OMEMO device once (kept in the store), connects and catches up.
 * `listen` is called with the binding before it connects, so no event of the catch-up is missed.
 */
export async function startEndpoint(
  init: EndpointInit,
  listen?: (vouch: VouchXmpp) => void,
): Promise<Endpoint> {
  const jid = parseBareJid(`${init.user}@${init.domain}`)
  const trustStore = await indexedDbStore({ name: init.database })
  const store = trustStore.forAccount(jid)
  const omemo = omemoBackend()({ store })
  if ((await omemo.ownDeviceId()) === undefined) await omemo.createDevice()
  const ownKey = (await omemo.ownKeys())[0] as KeyId
  const deviceId = (await omemo.ownDeviceId()) as number
  const xmpp = createClient({
    service: init.service,
    jid,
    password: init.password,
    resource: init.resource,
    register: init.register,
  })
  const vouch = vouchXmpp(xmpp, { store, backends: [omemo], keyDirectories: [omemoKeyDirectory(omemo)] })
  listen?.(vouch)
  const synced = vouch.synced()
  try {
    await startClient(xmpp)
    await synced
  } catch (e) {
    vouch.close()
    await trustStore.close()
    throw e
  }
  return {
    jid,
    resource: init.resource,
    trustStore,
    store,
    omemo,
    vouch,
    ownKey,
    deviceId,
    uri: formatTrustMessageUri({ jid, encryption: NS_OMEMO2, trust: [ownKey], distrust: [] }),
    async stop() {
      vouch.close()
      await stopClient(xmpp)
      await trustStore.close()
    },
  }
}
