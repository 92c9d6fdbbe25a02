/**
 * The one typed registry the interop matrix is generated from (STYLE rule 5): every encryption
 * backend and every trust store we ship, each as a small entry. `test/matrix.test.ts` crosses
 * them (`pick(BACKENDS, TM_BACKENDS) × pick(STORES, TM_STORES)`); nothing else in the repository
 * runs the cross product.
 *
 * Adding a backend or a store is one entry here (see README "Adding a backend / a store"); a new
 * backend id makes every `PerBackend<T>` table fail typecheck until its expectations exist.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAtm } from '@vouch/atm'
import { OMEMO_CAPABILITIES, type OmemoBackend, omemoBackend } from '@vouch/backend-omemo'
import {
  LEGACY_OMEMO_CAPABILITIES,
  type LegacyOmemoBackend,
  legacyOmemoBackend,
  NS_AXOLOTL,
} from '@vouch/backend-omemo-legacy'
import { nodeLibsignal } from '@vouch/backend-omemo-legacy/node'
import type { OxBackend } from '@vouch/backend-ox'
import { generateOxKey, OX_CAPABILITIES, oxBackend } from '@vouch/backend-ox'
import type { BackendParty, BackendWorld, StoreCreateOptions } from '@vouch/compliance'
import { memoryStore } from '@vouch/store-memory'
import { openPostgresStore, postgresUnavailable } from './postgres.ts'
import { sqliteStore } from '@vouch/store-sqlite'
import type { BackendCapabilities, BareJid, EncryptionNamespace, FullJid, TrustStore } from '@vouch/tm-core'
import { NS_OMEMO_2, NS_OX, parseBareJid, parseFullJid } from '@vouch/tm-core'
import type { PrivateKey } from 'openpgp'

// ---------------------------------------------------------------------------------- stores

/** A store opened for one endpoint, with what it takes to get rid of it again. */
export interface OpenedStore {
  readonly store: TrustStore
  /** Closes the store and removes anything it left on disk. Safe to call twice. */
  dispose(): Promise<void>
}

/** Opens a fresh, empty store (options as the store compliance suite passes them). */
export type StoreOpener = (options?: StoreCreateOptions) => Promise<OpenedStore>

export interface StoreEntry {
  /** the `TM_STORES` name */
  readonly id: string
  readonly description: string
  readonly open: StoreOpener
  /** Why this store cannot run on this machine (the matrix skips it, saying so); undefined: it can. */
  readonly unavailable?: () => string | undefined
}

export const STORES = [
  {
    id: 'memory',
    description: 'memoryStore() — the reference implementation',
    open: async (options?: StoreCreateOptions): Promise<OpenedStore> => {
      const store = memoryStore(options)
      return { store, dispose: () => store.close() }
    },
  },
  {
    id: 'sqlite-memory',
    description: "sqliteStore({ database: ':memory:' })",
    open: async (options?: StoreCreateOptions): Promise<OpenedStore> => {
      const store = await sqliteStore({ database: ':memory:', ...options })
      return { store, dispose: () => store.close() }
    },
  },
  {
    id: 'sqlite-file',
    description: 'sqliteStore on a database file (WAL) in a fresh temporary directory',
    open: async (options?: StoreCreateOptions): Promise<OpenedStore> => {
      const dir = await mkdtemp(join(tmpdir(), 'vouch-interop-'))
      const removeDir = () => rm(dir, { recursive: true, force: true })
      try {
        const store = await sqliteStore({ database: join(dir, 'trust.db'), ...options })
        return {
          store,
          dispose: async () => {
            await store.close()
            await removeDir()
          },
        }
      } catch (e) {
        await removeDir()
        throw e
      }
    },
  },
  {
    id: 'postgres',
    description:
      'postgresStore on a throwaway loopback PostgreSQL (tooling/postgres), fresh tables per store',
    open: openPostgresStore,
    unavailable: postgresUnavailable,
  },
] as const satisfies readonly StoreEntry[]

export type StoreId = (typeof STORES)[number]['id']

// -------------------------------------------------------------------------------- backends

/** One client of an account: the account's bare JID and the endpoint's resource. */
export interface EndpointSpec {
  readonly jid: BareJid
  readonly resource: string
}

/** A running endpoint: its own store (a `BackendParty` of the compliance suite) and full JID. */
export interface Endpoint extends BackendParty {
  readonly fullJid: FullJid
}

/** Something made on stores that have to be disposed of afterwards. */
export interface Opened<T> {
  readonly value: T
  /** Disposes of every store opened for `value`. */
  dispose(): Promise<void>
}

/** What a backend entry makes, once per test file (so costly key material is made once). */
export interface BackendKit {
  /**
   * Endpoints on fresh stores from `open` (one store each) that already know each other, as if
   * every key had been fetched from PEP and handed to ATM's `keysDiscovered`: every key of another
   * account is in every store at the policy's level (TOAKAFA: `automatically-trusted`). Endpoints of one account share the
   * account's key when the backend has one key per identity (OX); otherwise each endpoint has
   * its own device key, known to the account's other endpoints like a contact's.
   */
  makeEndpoints(open: StoreOpener, specs: readonly EndpointSpec[]): Promise<Opened<readonly Endpoint[]>>
  /** The backend compliance world: alice, bob and mallory with one endpoint each. */
  makeWorld(open: StoreOpener): Promise<Opened<BackendWorld>>
}

export interface BackendEntry {
  /** the `TM_BACKENDS` name */
  readonly id: string
  readonly description: string
  readonly namespace: EncryptionNamespace
  readonly capabilities: BackendCapabilities
  /** A kit for one test file. Cheap: costly material is made lazily and remembered by the kit. */
  prepare(): BackendKit
}

/** The compliance world's accounts (the same as each backend's own compliance test). */
export const WORLD_ACCOUNTS = {
  alice: parseBareJid('alice@example.org'),
  bob: parseBareJid('bob@example.org'),
  mallory: parseBareJid('mallory@example.net'),
} as const

/** A kit from a backend's `makeEndpoints`: the compliance world is three of its endpoints. */
export function kitFrom(makeEndpoints: BackendKit['makeEndpoints']): BackendKit {
  return {
    makeEndpoints,
    async makeWorld(open) {
      const { alice, bob, mallory } = WORLD_ACCOUNTS
      const opened = await makeEndpoints(open, [
        { jid: alice, resource: 'compliance' },
        { jid: bob, resource: 'compliance' },
        { jid: mallory, resource: 'compliance' },
      ])
      const [a, b, m] = opened.value
      if (a === undefined || b === undefined || m === undefined) {
        await opened.dispose()
        throw new Error('makeEndpoints returned fewer endpoints than asked for')
      }
      return { value: { alice: a, bob: b, mallory: m }, dispose: opened.dispose }
    },
  }
}

/**
 * Opens one store per spec and builds the endpoints with `build`; disposes of every store
 * opened so far if anything fails.
 */
export async function openEndpoints<E extends Endpoint>(
  open: StoreOpener,
  specs: readonly EndpointSpec[],
  build: (spec: EndpointSpec, store: TrustStore) => Promise<E>,
  introduce: (endpoints: readonly E[]) => Promise<void>,
): Promise<Opened<readonly E[]>> {
  const stores: OpenedStore[] = []
  const dispose = async (): Promise<void> => {
    for (const s of stores.splice(0)) await s.dispose()
  }
  try {
    const endpoints: E[] = []
    for (const spec of specs) {
      const s = await open()
      stores.push(s)
      endpoints.push(await build(spec, s.store))
    }
    await introduce(endpoints)
    await keysDiscovered(endpoints)
    return { value: endpoints, dispose }
  } catch (e) {
    await dispose()
    throw e
  }
}

/**
 * Backends store key material only (ATM is the only writer of trust): every endpoint hands the
 * keys its backend now knows of every account, its own included, to ATM's `keysDiscovered`, which
 * registers them under the store's security policy (TOAKAFA: `automatically-trusted`), as the
 * XMPP binding does after a key directory refresh.
 */
async function keysDiscovered(endpoints: readonly Endpoint[]): Promise<void> {
  const accounts = [...new Set(endpoints.map((e) => e.jid))]
  for (const e of endpoints) {
    const atm = createAtm({ account: e.jid, store: e.store, backends: [e.backend], now: () => Date.now() })
    for (const owner of accounts) {
      const ids = await e.backend.keysOf(owner)
      if (ids.length > 0) await atm.keysDiscovered(e.backend.namespace, owner, ids)
    }
  }
}

const YEAR_MS = 365 * 24 * 3600 * 1000

/** OX (XEP-0373/0374 on openpgp.js): one key per account, generated once per kit. */
function oxKit(): BackendKit {
  const keys = new Map<BareJid, Promise<PrivateKey>>()
  const keyOf = (jid: BareJid): Promise<PrivateKey> => {
    let key = keys.get(jid)
    if (key === undefined) {
      // dated a year back, so tests may send "in the past" (as the backend's own tests do)
      key = generateOxKey(jid, { date: new Date(Date.now() - YEAR_MS) })
      keys.set(jid, key)
    }
    return key
  }
  return kitFrom((open, specs) =>
    openEndpoints(
      open,
      specs,
      async (spec, trustStore): Promise<Endpoint & { readonly backend: OxBackend }> => {
        const store = trustStore.forAccount(spec.jid)
        const backend = oxBackend()({ store })
        await backend.importOwnKey(await keyOf(spec.jid))
        return { jid: spec.jid, fullJid: parseFullJid(`${spec.jid}/${spec.resource}`), store, backend }
      },
      async (endpoints) => {
        // one key per identity: an account's endpoints share its key, so each endpoint imports
        // the (minimal, as published) public key of every other account only
        const published = new Map<BareJid, Uint8Array>()
        for (const e of endpoints)
          if (!published.has(e.jid)) published.set(e.jid, await e.backend.exportPublicKey())
        for (const e of endpoints)
          for (const [owner, bytes] of published)
            if (owner !== e.jid) await e.backend.importPublicKey(owner, bytes)
      },
    ),
  )
}

/**
 * OMEMO 2 (XEP-0384 v0.9.1): every endpoint is a device with its own key; every endpoint imports
 * every account's device list and every other device's bundle, its own account's included (as
 * fetched from PEP). 25 pre keys per device keep the kit cheap.
 */
function omemoKit(): BackendKit {
  return kitFrom((open, specs) =>
    openEndpoints(
      open,
      specs,
      async (spec, trustStore): Promise<Endpoint & { readonly backend: OmemoBackend }> => {
        const store = trustStore.forAccount(spec.jid)
        const backend = omemoBackend({ preKeyCount: 25 })({ store })
        await backend.createDevice()
        return { jid: spec.jid, fullJid: parseFullJid(`${spec.jid}/${spec.resource}`), store, backend }
      },
      async (endpoints) => {
        const lists = new Map<BareJid, Awaited<ReturnType<OmemoBackend['ownDeviceList']>>>()
        for (const e of endpoints) {
          const list = lists.get(e.jid) ?? []
          for (const d of await e.backend.ownDeviceList()) if (!list.some((x) => x.id === d.id)) list.push(d)
          lists.set(e.jid, list)
        }
        for (const a of endpoints) {
          for (const [owner, list] of lists) await a.backend.importDeviceList(owner, list)
          for (const b of endpoints)
            if (a !== b)
              await a.backend.importBundle(
                b.jid,
                (await b.backend.ownDeviceId()) as number,
                await b.backend.ownBundle(),
              )
        }
      },
    ),
  )
}

/**
 * OMEMO 0.3 (XEP-0384 v0.3 on libsignal-protocol-typescript, GPL-3.0-only): like OMEMO 2, every
 * endpoint is a device with its own key and imports every account's device list and every other
 * device's bundle. The node:crypto providers are installed once for the process (libsignal's curve
 * and Web Crypto are global); 20 pre keys per device keep the kit cheap.
 */
function legacyOmemoKit(): BackendKit {
  const factory = legacyOmemoBackend({ ...nodeLibsignal(), preKeyCount: 20 })
  return kitFrom((open, specs) =>
    openEndpoints(
      open,
      specs,
      async (spec, trustStore): Promise<Endpoint & { readonly backend: LegacyOmemoBackend }> => {
        const store = trustStore.forAccount(spec.jid)
        const backend = factory({ store })
        await backend.createDevice()
        return { jid: spec.jid, fullJid: parseFullJid(`${spec.jid}/${spec.resource}`), store, backend }
      },
      async (endpoints) => {
        const lists = new Map<BareJid, number[]>()
        for (const e of endpoints) {
          const list = lists.get(e.jid) ?? []
          for (const id of await e.backend.ownDeviceList()) if (!list.includes(id)) list.push(id)
          lists.set(e.jid, list)
        }
        for (const a of endpoints) {
          for (const [owner, list] of lists) await a.backend.importDeviceList(owner, list)
          for (const b of endpoints)
            if (a !== b)
              await a.backend.importBundle(
                b.jid,
                (await b.backend.ownDeviceId()) as number,
                await b.backend.ownBundle(),
              )
        }
      },
    ),
  )
}

export const BACKENDS = [
  {
    id: 'ox',
    description: 'OpenPGP for XMPP (urn:xmpp:openpgp:0) on openpgp.js',
    namespace: NS_OX,
    capabilities: OX_CAPABILITIES,
    prepare: oxKit,
  },
  {
    id: 'omemo2',
    description: 'OMEMO 2 (urn:xmpp:omemo:2) on node:crypto, one key per device',
    namespace: NS_OMEMO_2,
    capabilities: OMEMO_CAPABILITIES,
    prepare: omemoKit,
  },
  {
    id: 'omemo03',
    description:
      'OMEMO 0.3 (eu.siacs.conversations.axolotl) on libsignal-protocol-typescript, one key per device',
    namespace: NS_AXOLOTL,
    capabilities: LEGACY_OMEMO_CAPABILITIES,
    prepare: legacyOmemoKit,
  },
] as const satisfies readonly BackendEntry[]

export type BackendId = (typeof BACKENDS)[number]['id']

/** One value per backend: adding a backend fails typecheck until every table has its entry. */
export type PerBackend<T> = Record<BackendId, T>

/** One value per store. */
export type PerStore<T> = Record<StoreId, T>

/**
 * The entries named in `env` (comma-separated ids, e.g. `TM_STORES=memory,sqlite-file`), in
 * registry order; every entry when `env` is unset or empty.
 * @throws RangeError  an id that is not in the registry (a typo must not empty the matrix)
 */
export function pick<E extends { readonly id: string }>(all: readonly E[], env?: string): E[] {
  if (env === undefined || env.trim() === '') return [...all]
  const wanted = env
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  const known = new Set(all.map((e) => e.id))
  const unknown = wanted.filter((id) => !known.has(id))
  if (unknown.length > 0)
    throw new RangeError(`unknown id(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`)
  return all.filter((e) => wanted.includes(e.id))
}
