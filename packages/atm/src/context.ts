/**
 * What every piece of the engine shares (internal): the engine's fixed configuration
 * ({@link Engine}), the state of one operation ({@link OpContext}) and how an operation runs in a
 * transaction ({@link run}): the engine's own on the store given to `createAtm`, or a savepoint of
 * the caller's (`{ store: tx }`).
 */
import type {
  AccountTrustStore,
  BareJid,
  EncryptionNamespace,
  FullJid,
  KeyId,
  KeyOwner,
  KeyRecord,
  KeyRef,
  Polarity,
  PostponedDecision,
  SecurityPolicy,
} from '@vouch/tm-core'
import { InvalidTrustMessageError } from '@vouch/tm-core'
import { TxCache, TxView } from './cache.ts'
import type { Emitter } from './emitter.ts'
import { resolveSecurityPolicy } from './policy.ts'
import type { AtmBackend, PendingAutomaticDecision, ResolvedAtmPolicy, TransactionOptions } from './types.ts'
import { NS_ATM } from './types.ts'
import { type CodecRules, canonicalOwner } from './validate.ts'

/** The engine of one account: fixed once `createAtm` returns. */
export interface Engine {
  readonly account: BareJid
  /** the store given to `createAtm`: its transactions are the engine's own */
  readonly store: AccountTrustStore
  readonly now: () => number
  readonly ownFullJid: FullJid | undefined
  readonly policy: ResolvedAtmPolicy
  /** `policy.securityPolicy` as given explicitly (it wins over the store's) */
  readonly explicitSecurityPolicy: SecurityPolicy | undefined
  readonly backends: ReadonlyMap<EncryptionNamespace, AtmBackend>
  /** the codec's rules for every model and key list handed to the engine (TM-5 … TM-11, caps) */
  readonly codec: CodecRules
  readonly emitter: Emitter
  readonly confirm: ((decision: PendingAutomaticDecision) => Promise<boolean>) | undefined
  /** `toBareJid` of a stanza sender, remembered for recent senders */
  readonly bareJidOf: (jid: string) => BareJid
}

/** One automatic decision (from a received message or a released postponed one). */
export interface AutoDecision {
  readonly key: KeyRef
  readonly polarity: Polarity
  readonly sceTime: number
  readonly senderJid: BareJid
  readonly senderKey: KeyId
  /** set when the decision comes from the postponed store */
  readonly postponed?: PostponedDecision
}

/** State of one operation (one transaction, or one message of a batch: a savepoint). */
export interface OpContext {
  readonly tx: AccountTrustStore
  /** the same transaction through the cache: every read and write of the hot paths goes here */
  readonly view: TxView
  readonly at: number
  readonly changes: KeyRecord[]
  /** deferred event emissions, run once the operation's transaction settled */
  readonly emits: (() => void)[]
}

export const AUTHENTICATED = 'authenticated'
export const MANUALLY_DISTRUSTED = 'manually-distrusted'

export const keyOf = (k: KeyRef): string => `${k.encryption}\u0000${k.owner}\u0000${k.keyId}`
export const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)]
export const sorted = <T extends string>(xs: Iterable<T>): T[] => [...xs].sort()

export function opContext(engine: Engine, tx: AccountTrustStore, cache: TxCache): OpContext {
  return { tx, view: new TxView(tx, cache), at: engine.now(), changes: [], emits: [] }
}

/** The store an operation runs on: the caller's transaction, or the engine's store. */
export function storeOf(engine: Engine, options: TransactionOptions | undefined): AccountTrustStore {
  return options?.store ?? engine.store
}

/**
 * Runs `fn` in one transaction (a savepoint of the caller's when `options.store` is given) and
 * emits its events once that settled.
 */
export async function run<T>(
  engine: Engine,
  options: TransactionOptions | undefined,
  fn: (ctx: OpContext) => Promise<T>,
): Promise<T> {
  let ctx: OpContext | undefined
  const result = await storeOf(engine, options).transaction(async (tx) => {
    ctx = opContext(engine, tx, new TxCache())
    return fn(ctx)
  })
  if (ctx !== undefined) for (const e of ctx.emits) e()
  return result
}

export const isOok = (engine: Engine, enc: EncryptionNamespace): boolean =>
  engine.backends.get(enc)?.capabilities.oneKeyPerIdentity === true

export function requireBackend(engine: Engine, enc: EncryptionNamespace): AtmBackend {
  const b = engine.backends.get(enc)
  if (b === undefined) throw new InvalidTrustMessageError('TM-6', `no backend for the encryption ${enc}`)
  return b
}

/** One owner's keys given directly: the codec's checks for that backend, canonical (validate.ts). */
export function checkOwner(
  engine: Engine,
  enc: EncryptionNamespace,
  owner: BareJid,
  trust: readonly KeyId[],
  distrust: readonly KeyId[],
): KeyOwner {
  return canonicalOwner(enc, NS_ATM, owner, trust, distrust, engine.codec)
}

/** The security policy of `enc` inside a transaction (explicit → store → default, policy.ts). */
export async function securityPolicyOf(
  engine: Engine,
  view: TxView,
  enc: EncryptionNamespace,
): Promise<SecurityPolicy> {
  if (engine.explicitSecurityPolicy !== undefined) return engine.explicitSecurityPolicy
  return resolveSecurityPolicy(undefined, await view.securityPolicy(enc))
}

/**
 * Namespaces whose postponed data may have been sent by a key of `enc`: the decisions a sender
 * key made are stored under the namespace of the keys they are about, which differs from the
 * carrier's only with `allowCrossProtocol`.
 */
export function senderNamespaces(engine: Engine, enc: EncryptionNamespace): EncryptionNamespace[] {
  if (!engine.policy.allowCrossProtocol) return [enc]
  return unique([enc, ...engine.backends.keys()])
}

/**
 * D-12: the protocol that carries trust messages about keys of `enc`: `enc` itself, unless its
 * backend cannot carry one (`bodyOnly`, OMEMO 0.3); then the first backend (in `createAtm`'s
 * order) that can and has a key per device, else the first one-key-per-identity one (OX: own
 * endpoints only), provided `allowCrossProtocol` is on. `undefined`:
 * nothing can carry them (no message is planned).
 */
export function carrierFor(engine: Engine, enc: EncryptionNamespace): AtmBackend | undefined {
  const own = engine.backends.get(enc)
  if (own !== undefined && own.capabilities.bodyOnly !== true) return own
  if (!engine.policy.allowCrossProtocol) return undefined
  let ook: AtmBackend | undefined
  for (const b of engine.backends.values()) {
    if (b.capabilities.bodyOnly === true) continue
    if (!b.capabilities.oneKeyPerIdentity) return b
    ook ??= b
  }
  // a one-key-per-identity carrier (OX) reaches our own endpoints through the shared key (ATM-4)
  return ook
}

/** `StoreError` or `StoreBusyError` (tm-core's one check). */
export { isStoreFailure as isStoreError } from '@vouch/tm-core'
