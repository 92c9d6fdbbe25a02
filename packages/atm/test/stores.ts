/**
 * The store matrix for ATM tests (memory = reference implementation, SQLite in memory) and a
 * one-endpoint harness: an engine, its account store and a clock.
 */
import type {
  AccountTrustStore,
  BareJid,
  EncryptionNamespace,
  FullJid,
  KeyId,
  TrustMessage,
  TrustStore,
  TrustStoreLimits,
} from '@vouch/tm-core'
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { memoryStore } from '@vouch/store-memory'
import type {
  Atm,
  AtmBackend,
  AtmLimits,
  AtmPolicy,
  PendingAutomaticDecision,
  ReceiveResult,
} from '../src/index.ts'
import { createAtm } from '../src/index.ts'
import { ALICE, OMEMO, testClock } from './helpers.ts'

export interface StoreEntry {
  readonly name: string
  make(limits?: Partial<TrustStoreLimits>): Promise<TrustStore>
}

export const MEMORY: StoreEntry = {
  name: 'memory',
  make: async (limits) => memoryStore(limits === undefined ? {} : { limits }),
}
export const SQLITE: StoreEntry = {
  name: 'sqlite',
  make: async (limits) =>
    // imported when used: the native module does not load in a browser
    (await import('@vouch/store-sqlite')).sqliteStore(
      limits === undefined ? { database: ':memory:' } : { database: ':memory:', limits },
    ),
}
/** In Chromium (tooling/browser-tests) the persistent browser store takes SQLite's place. */
export const INDEXEDDB: StoreEntry = {
  name: 'indexeddb',
  make: async (limits) =>
    (await import('@vouch/store-indexeddb')).indexedDbStore({
      name: `atm-test-${globalThis.crypto.randomUUID()}`,
      ...(limits === undefined ? {} : { limits }),
    }),
}
export const STORES: readonly StoreEntry[] = [MEMORY, 'indexedDB' in globalThis ? INDEXEDDB : SQLITE]

export interface EndpointOptions {
  readonly store?: StoreEntry
  readonly storeLimits?: Partial<TrustStoreLimits>
  readonly account?: BareJid
  readonly ownFullJid?: FullJid
  /** own key per namespace (default: none) */
  readonly ownKeys?: Readonly<Record<EncryptionNamespace, KeyId>>
  readonly backends?: readonly AtmBackend[]
  readonly policy?: Partial<AtmPolicy>
  readonly limits?: Partial<AtmLimits>
  readonly confirm?: (d: PendingAutomaticDecision) => Promise<boolean>
}

export interface Endpoint {
  readonly atm: Atm
  readonly store: AccountTrustStore
  readonly clock: ReturnType<typeof testClock>
  close(): Promise<void>
}

export async function endpoint(options: EndpointOptions = {}): Promise<Endpoint> {
  const trustStore = await (options.store ?? MEMORY).make(options.storeLimits)
  const account = options.account ?? ALICE
  const store = trustStore.forAccount(account)
  for (const [ns, key] of Object.entries(options.ownKeys ?? {})) await store.setOwnKey(ns, key)
  const clock = testClock()
  const atm = createAtm({
    account,
    store,
    backends: options.backends ?? [OMEMO],
    now: clock.now,
    ...(options.ownFullJid === undefined ? {} : { ownFullJid: options.ownFullJid }),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.confirm === undefined ? {} : { confirm: options.confirm }),
  })
  return { atm, store, clock, close: () => trustStore.close() }
}

export interface Delivery {
  readonly from: FullJid | BareJid
  readonly key: KeyId
  readonly message: TrustMessage
  readonly sceTime?: number
  readonly carrier?: EncryptionNamespace
  readonly encrypted?: boolean
  readonly signed?: boolean
}

/** Hands a decrypted trust message to the engine, as the xmpp layer would. */
export function receive(atm: Atm, d: Delivery): Promise<ReceiveResult> {
  return atm.handleTrustMessage({
    message: d.message,
    senderJid: d.from,
    senderKey: d.key,
    carrier: d.carrier ?? NS_OMEMO_2,
    encrypted: d.encrypted ?? true,
    ...(d.signed === undefined ? {} : { signed: d.signed }),
    sceTime: d.sceTime ?? 1_000,
  })
}

/** `owner/keyId → level` of every stored key of one namespace: compact state snapshots. */
export async function levels(
  store: AccountTrustStore,
  encryption: EncryptionNamespace = NS_OMEMO_2,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const r of await store.getKeys(encryption)) out[`${r.owner}/${r.keyId}`] = r.level
  return out
}
