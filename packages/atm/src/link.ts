/**
 * Identity linking (internal), D-12: one key pair used by two protocols is one identity. The
 * engine knows no protocol: backends declare `keyLinks` (tm-core `KeyLink`): from one of their key
 * ids to the id of the same key pair in another protocol (a function), and back (candidates, of
 * which only keys the owner actually uses count). A decision (authenticated, manually distrusted)
 * about one id is given to the other ({@link linkedKeys}, used by apply.ts `setLevel`); a key that
 * appears later inherits the decision made about its twin ({@link inheritedLevel}, discover.ts).
 */
import type { KeyId, KeyRecord, KeyRef } from '@vouch/tm-core'
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
  if (!engine.policy.linkIdentities) return []
  const out: KeyRef[] = []
  const seen = new Set<string>()
  const add = async (encryption: string, keyId: KeyId): Promise<void> => {
    const id = `${encryption} ${keyId}`
    if (seen.has(id) || encryption === key.encryption) return
    const backend = engine.backends.get(encryption)
    if (backend === undefined) return
    if (key.owner === engine.account) {
      if (backend.capabilities.oneKeyPerIdentity) return
      if (keyId === (await ctx.view.ownKey(encryption))) return // X8
    }
    seen.add(id)
    out.push({ encryption, owner: key.owner, keyId })
  }
  const own = engine.backends.get(key.encryption)
  for (const link of own?.keyLinks ?? []) {
    if (!engine.backends.has(link.namespace)) continue // no such protocol here: nothing to compute
    const linked = link.toLinked(key.keyId)
    // only a key the owner uses (stored): no record for a twin nobody announced; if it appears
    // later, keysDiscovered gives it the decision (inheritedLevel)
    if (linked !== undefined && (await ctx.view.key(link.namespace, key.owner, linked)) !== undefined)
      await add(link.namespace, linked)
  }
  for (const [ns, backend] of engine.backends) {
    if (ns === key.encryption) continue
    for (const link of backend.keyLinks ?? []) {
      if (link.namespace !== key.encryption) continue
      for (const candidate of link.fromLinked(key.keyId)) {
        if (link.toLinked(candidate) !== key.keyId) continue
        if ((await ctx.view.key(ns, key.owner, candidate)) === undefined) continue
        await add(ns, candidate)
      }
    }
  }
  return out
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
