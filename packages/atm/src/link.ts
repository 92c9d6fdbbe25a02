/**
 * Identity linking (internal), D-12: one key pair used by two protocols is one identity. The
 * engine knows no protocol: backends declare `keyLinks` (tm-core `KeyLink`): from one of their key
 * ids to the id of the same key pair in another protocol (a function), and back (candidates, of
 * which only keys the owner actually uses count). A decision (authenticated, manually distrusted)
 * about one id is given to the other ({@link linkedKeys}, used by apply.ts `setLevel`); a key that
 * appears later inherits the decision made about its twin ({@link inheritedLevel}, discover.ts).
 */
import type { EncryptionNamespace, KeyId, KeyRecord, KeyRef } from '@vouch/tm-core'
import type { Engine, OpContext } from './context.ts'

/**
 * The keys of other protocols that are the same key pair as `key` (same owner), while
 * `policy.linkIdentities` is on:
 * - through a link the backend of `key` declares: the linked id, if the owner uses it (stored);
 * - through a link another backend declares towards `key`'s protocol: its candidates that are
 *   stored for this owner and map back to `key` (X25519 → Ed25519 loses the sign bit).
 * Only keys the owner announced are matched, so no record is made for a twin nobody uses; one
 * that appears later inherits the decision ({@link inheritedLevel}).
 * Protocols without a backend in the engine, our own key (X8) and one-key-per-identity protocols'
 * keys of our own account (ATM-4) are left out.
 */
export async function linkedKeys(engine: Engine, ctx: OpContext, key: KeyRef): Promise<KeyRef[]> {
  const out: KeyRef[] = []
  const seen = new Set<string>()
  for (const twin of twinIds(engine, key.encryption, key.keyId)) {
    const id = `${twin.encryption} ${twin.keyId}`
    if (seen.has(id)) continue
    // only a key the owner uses (stored): no record for a twin nobody announced; if it appears
    // later, keysDiscovered gives it the decision (inheritedLevel)
    if ((await ctx.view.key(twin.encryption, key.owner, twin.keyId)) === undefined) continue
    if (key.owner === engine.account) {
      if (engine.backends.get(twin.encryption)?.capabilities.oneKeyPerIdentity) continue // ATM-4
      if (twin.keyId === (await ctx.view.ownKey(twin.encryption))) continue // X8
    }
    seen.add(id)
    out.push({ encryption: twin.encryption, owner: key.owner, keyId: twin.keyId })
  }
  return out
}

/** One way from a protocol's key ids to those of the same key pair in another protocol. */
interface Twinning {
  readonly namespace: EncryptionNamespace
  twins(keyId: KeyId): readonly KeyId[]
}

const twinnings = new WeakMap<Engine, Map<EncryptionNamespace, readonly Twinning[]>>()

/**
 * The links from `enc` to the other protocols of the engine, while `policy.linkIdentities` is on:
 * first those `enc`'s backend declares (a function), then those other backends declare towards
 * `enc` (their candidates whose link maps back: X25519 → Ed25519 loses the sign bit). Protocols
 * without a backend in the engine are left out. Fixed per engine, so computed once.
 */
function linksFrom(engine: Engine, enc: EncryptionNamespace): readonly Twinning[] {
  if (!engine.policy.linkIdentities) return []
  let perEngine = twinnings.get(engine)
  if (perEngine === undefined) {
    perEngine = new Map()
    twinnings.set(engine, perEngine)
  }
  const known = perEngine.get(enc)
  if (known !== undefined) return known
  const out: Twinning[] = []
  for (const link of engine.backends.get(enc)?.keyLinks ?? []) {
    if (link.namespace === enc || !engine.backends.has(link.namespace)) continue // nothing to compute
    out.push({
      namespace: link.namespace,
      twins: (id) => {
        const linked = link.toLinked(id)
        return linked === undefined ? [] : [linked]
      },
    })
  }
  for (const [ns, backend] of engine.backends) {
    if (ns === enc) continue
    for (const link of backend.keyLinks ?? [])
      if (link.namespace === enc)
        out.push({ namespace: ns, twins: (id) => link.fromLinked(id).filter((c) => link.toLinked(c) === id) })
  }
  perEngine.set(enc, out)
  return out
}

/**
 * Pure: the ids in other protocols that the backends' links say are (or, for candidates, may be)
 * the same key pair as `keyId` of `enc`, stored or not. Empty with `linkIdentities: false`.
 */
export function twinIds(
  engine: Engine,
  enc: EncryptionNamespace,
  keyId: KeyId,
): { readonly encryption: EncryptionNamespace; readonly keyId: KeyId }[] {
  return linksFrom(engine, enc).flatMap((l) =>
    l.twins(keyId).map((id) => ({ encryption: l.namespace, keyId: id })),
  )
}

/** The protocols a decision about keys of `enc` can reach through identity linking (D-12). */
export function linkedNamespaces(engine: Engine, enc: EncryptionNamespace): EncryptionNamespace[] {
  return [...new Set(linksFrom(engine, enc).map((l) => l.namespace))]
}

/**
 * For a key that has just appeared (`keysDiscovered`): the decision already made about the same
 * key pair in another protocol (an `authenticated` or `manually-distrusted` record of a linked
 * key), which the new key inherits instead of the policy's level. A distrust wins when the twins
 * disagree (fail safe). `undefined`: no linked decision, the policy decides.
 */
export async function inheritedLevel(
  engine: Engine,
  ctx: OpContext,
  key: KeyRef,
): Promise<{ readonly from: KeyRecord } | undefined> {
  let found: KeyRecord | undefined
  for (const twin of await linkedKeys(engine, ctx, key)) {
    const r = await ctx.view.key(twin.encryption, twin.owner, twin.keyId)
    if (r === undefined) continue
    if (r.level === 'manually-distrusted') return { from: r }
    if (r.level === 'authenticated') found ??= r
  }
  return found === undefined ? undefined : { from: found }
}
