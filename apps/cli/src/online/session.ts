/**
 * The online session of the `vouch` commands: the SQLite store, the account's encryption
 * backend (OMEMO 2, OX or the optional OMEMO 0.3 plugin, loaded only when a command needs it) with its PEP key directory, and
 * the `@vouch/xmpp` binding. A composition root: no protocol logic here.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { OmemoBackend } from '@vouch/backend-omemo'
import type { OxBackend } from '@vouch/backend-ox'
import type {
  AccountTrustStore,
  BareJid,
  EncryptionBackend,
  KeyDirectory,
  KeyId,
  TrustStore,
} from '@vouch/tm-core'
import { keyIdToHex, parseBareJid } from '@vouch/tm-core'
import { sqliteStore } from '@vouch/store-sqlite'
import type { VouchXmpp } from '@vouch/xmpp'
import { type AccountRecord, dataDir, type Encryption, encryptionOf } from './accounts.ts'

/** One account's encryption, whichever it is. */
export interface Protocol {
  readonly id: Encryption
  readonly namespace: string
  /** human-readable (XEP-0380) */
  readonly name: string
  readonly backend: EncryptionBackend
  readonly directory: KeyDirectory
  /** set for OMEMO 2 accounts */
  readonly omemo?: OmemoBackend
  /** set for OX accounts */
  readonly ox?: OxBackend
  /** OMEMO (2 or 0.3): the account's devices as this device knows them */
  readonly devices?: DeviceView
  /** this device's key, if it has one */
  ownKey(): Promise<KeyId | undefined>
  /** creates this device's keys it lacks (OMEMO: a new device; OX: a new key) */
  createOwnKey(): Promise<void>
  /**
   * `omemo2,omemo03`: OMEMO 0.3 next to OMEMO 2 on this device, with the same device id and the
   * same identity key pair (its key is the OMEMO 2 key's twin, D-12). OMEMO 2 stays the protocol
   * of trust messages and URIs; a chat goes in OMEMO 2 when every device of the contact has it,
   * else in OMEMO 0.3 (`@vouch/xmpp` chooseChatProtocol).
   */
  readonly secondary?: SecondaryProtocol
}

/** The second protocol of a device that runs two (OMEMO 0.3 beside OMEMO 2). */
export interface SecondaryProtocol {
  readonly id: 'omemo03'
  readonly namespace: string
  readonly name: string
  readonly backend: EncryptionBackend
  readonly directory: KeyDirectory
  readonly devices: DeviceView
  ownKey(): Promise<KeyId | undefined>
}

/** The protocols of this device, the preferred first (the binding's order). */
export function protocolsOf(
  p: Protocol,
): ReadonlyArray<Pick<Protocol, 'namespace' | 'name' | 'backend' | 'directory' | 'devices' | 'ownKey'>> {
  return p.secondary === undefined ? [p] : [p, p.secondary]
}

/** The protocol of this device that has `namespace`, if any. */
export function sideOf(
  p: Protocol,
  namespace: string,
): Pick<Protocol, 'namespace' | 'name' | 'backend' | 'directory' | 'devices' | 'ownKey'> | undefined {
  return protocolsOf(p).find((x) => x.namespace === namespace)
}

/** What the OMEMO backends (2 and 0.3) share about devices. */
export interface DeviceView {
  ownDeviceId(): Promise<number | undefined>
  devices(
    owner: BareJid,
  ): Promise<ReadonlyArray<{ readonly deviceId: number; readonly keyId?: KeyId; readonly active: boolean }>>
}

export async function loadProtocol(
  encryption: Encryption,
  store: AccountTrustStore,
  keyAccess?: 'presence',
): Promise<Protocol> {
  if (encryption === 'omemo2' || encryption === 'omemo2,omemo03') {
    const [{ omemoBackend, NS_OMEMO2 }, { omemoKeyDirectory }] = await Promise.all([
      import('@vouch/backend-omemo'),
      import('@vouch/backend-omemo/pep'),
    ])
    const omemo = omemoBackend()({ store })
    const legacy = encryption === 'omemo2,omemo03' ? await loadLegacy(store) : undefined
    return {
      id: encryption,
      namespace: NS_OMEMO2,
      name: 'OMEMO 2',
      backend: omemo,
      directory: omemoKeyDirectory(omemo),
      omemo,
      devices: omemo,
      async ownKey() {
        return (await omemo.ownDeviceId()) === undefined ? undefined : (await omemo.ownKeys())[0]
      },
      async createOwnKey() {
        if ((await omemo.ownDeviceId()) === undefined) await omemo.createDevice()
        if (legacy === undefined || (await legacy.backend.ownDeviceId()) !== undefined) return
        // one device: the OMEMO 2 device id and identity key pair (D-12), as python-omemo does
        const deviceId = await omemo.ownDeviceId()
        const identity = await omemo.ownCurve25519Identity()
        if (deviceId === undefined || identity === undefined) throw new Error('no OMEMO 2 device')
        await legacy.backend.createDevice({ deviceId, identityPrivateKey: identity.priv })
      },
      ...(legacy === undefined ? {} : { secondary: legacy.side }),
    }
  }
  if (encryption === 'omemo03') {
    const legacy = await loadLegacy(store)
    return {
      ...legacy.side,
      async createOwnKey() {
        await legacy.backend.createDevice()
      },
    }
  }
  const [{ oxBackend, NS_OX }, { oxKeyDirectory }] = await Promise.all([
    import('@vouch/backend-ox'),
    import('@vouch/backend-ox/pep'),
  ])
  const ox = oxBackend()({ store })
  return {
    id: 'ox',
    namespace: NS_OX,
    name: 'OX',
    backend: ox,
    // our key nodes: open unless the user chose contacts only (root README: why open)
    directory: oxKeyDirectory(ox, keyAccess === 'presence' ? { accessModel: 'presence' } : {}),
    ox,
    async ownKey() {
      return (await ox.ownKeys())[0]
    },
    async createOwnKey() {
      await ox.generateOwnKey()
    },
  }
}

/** The optional GPL-3.0 plugin (legacy-omemo.ts), loaded only here: the OMEMO 0.3 backend and its directory. */
async function loadLegacy(store: AccountTrustStore) {
  const { loadLegacyOmemo } = await import('./legacy-omemo.ts')
  const [{ legacyOmemoBackend, NS_AXOLOTL }, { legacyOmemoKeyDirectory }, { nodeLibsignal }] =
    await loadLegacyOmemo()
  const backend = legacyOmemoBackend({ ...nodeLibsignal() })({ store })
  const side: SecondaryProtocol = {
    id: 'omemo03',
    namespace: NS_AXOLOTL,
    name: 'OMEMO 0.3',
    backend,
    directory: legacyOmemoKeyDirectory(backend),
    devices: backend,
    async ownKey() {
      return (await backend.ownDeviceId()) === undefined ? undefined : (await backend.ownKeys())[0]
    },
  }
  return { backend, side }
}

export interface LocalState {
  readonly account: AccountRecord
  readonly jid: BareJid
  readonly trustStore: TrustStore
  readonly store: AccountTrustStore
  readonly protocol: Protocol
}

export interface Session extends LocalState {
  readonly vouch: VouchXmpp
  readonly xmpp: ReturnType<typeof import('@vouch/xmpp').createClient>
}

/** Opens the store and the account's backend (no network); always closes the store. */
export async function withLocal<T>(
  opts: { readonly data?: string },
  account: AccountRecord,
  fn: (s: LocalState) => Promise<T>,
): Promise<T> {
  const dir = dataDir(opts)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const jid = parseBareJid(account.jid, 'ACCOUNT')
  const trustStore = await sqliteStore({ database: join(dir, 'vouch.sqlite') })
  try {
    const store = trustStore.forAccount(jid)
    const protocol = await loadProtocol(encryptionOf(account), store, account.keyAccess)
    return await fn({ account, jid, trustStore, store, protocol })
  } finally {
    await trustStore.close()
  }
}

export interface SessionInit {
  readonly password: string
  /** XEP-0077: create the account first */
  readonly register?: boolean
  /** create this device's key when it has none (default true) */
  readonly createKey?: boolean
  /** runs before connecting (listeners that must see the archive catch-up) */
  readonly beforeConnect?: (s: Session) => void
  /** approve every contact request that arrives (RFC 6121), without asking */
  readonly autoApproveContacts?: boolean
  /** runs after the store is open and before the binding exists (e.g. restore an OX key) */
  readonly prepare?: (s: LocalState) => Promise<void>
}

/**
 * Opens the store, ensures this device's key, connects, catches up, runs `fn`, then waits
 * until the binding is idle and the outbox sent; always disconnects and closes.
 */
export async function withSession<T>(
  opts: { readonly data?: string },
  account: AccountRecord,
  init: SessionInit,
  fn: (s: Session) => Promise<T>,
): Promise<T> {
  return withLocal(opts, account, async (local) => {
    await init.prepare?.(local)
    const p = local.protocol
    if (
      init.createKey !== false &&
      ((await p.ownKey()) === undefined ||
        (p.secondary !== undefined && (await p.secondary.ownKey()) === undefined))
    )
      await p.createOwnKey()
    const { createClient, startClient, stopClient, vouchXmpp } = await import('@vouch/xmpp')
    const xmpp = createClient({
      service: account.service,
      jid: local.jid,
      password: init.password,
      resource: account.resource,
      ...(init.register === true ? { register: true } : {}),
    })
    const vouch = vouchXmpp(xmpp, {
      store: local.store,
      // preference order: OMEMO 2 before OMEMO 0.3 (chat protocol and trust-message carrier)
      backends: protocolsOf(p).map((x) => x.backend),
      keyDirectories: protocolsOf(p).map((x) => x.directory),
      ...(init.autoApproveContacts === true ? { autoApproveSubscriptions: true } : {}),
    })
    const session: Session = { ...local, vouch, xmpp }
    try {
      init.beforeConnect?.(session)
      const synced = vouch.synced()
      await startClient(xmpp)
      await synced
      const result = await fn(session)
      await vouch.idle()
      await vouch.flushOutbox()
      return result
    } finally {
      vouch.close()
      // no reconnect, no pending IQ timer: nothing of the connection outlives the command
      await stopClient(xmpp)
    }
  })
}

/** Uppercase Base16, as `trust list` and the URIs' readers show key ids. */
export function keyHex(id: KeyId): string {
  return keyIdToHex(id).toUpperCase()
}
