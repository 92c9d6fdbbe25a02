/**
 * New keys (internal): `keysDiscovered`, the only path that stores a key ATM did not decide about.
 * Its level is the policy's (policy.ts: explicit → store → default, then TOAKAFA / D-11).
 */
import type { BareJid, EncryptionNamespace, KeyId, KeyRecord } from '@vouch/tm-core'
import { record, setLevel } from './apply.ts'
import { AUTHENTICATED, checkOwner, type Engine, requireBackend, run, securityPolicyOf } from './context.ts'
import { inheritedLevel } from './link.ts'
import { levelForNewKey } from './policy.ts'
import { release } from './release.ts'
import { type Planned, planChange, planStates, withAllowedKeys } from './send.ts'
import type { KeysDiscoveredResult, TransactionOptions } from './types.ts'

/**
 * Stores the keys of `owner` not stored yet, at the level {@link levelForNewKey} gives them; keys
 * already stored keep theirs (X12, ATM-P2). Our own key and, for a one-key-per-identity protocol,
 * our own account's keys are never stored (X8, ATM-4).
 */
export async function keysDiscovered(
  engine: Engine,
  enc: EncryptionNamespace,
  ownerIn: BareJid,
  keyIds: readonly KeyId[],
  options?: TransactionOptions,
): Promise<KeysDiscoveredResult> {
  const { account } = engine
  const backend = requireBackend(engine, enc)
  const { jid: owner, trust: discovered } = checkOwner(engine, enc, ownerIn, keyIds, [])
  return run(engine, options, async (ctx) => {
    const { tx, view, at } = ctx
    if (owner === account && backend.capabilities.oneKeyPerIdentity) return { added: [], outgoing: [] }
    const ownKey = await view.ownKey(enc)
    const ids = discovered.filter((id) => !(owner === account && id === ownKey))
    if (ids.length === 0) return { added: [], outgoing: [] }
    // D-12 identity linking: a new key whose twin in another protocol was already decided about
    // takes that decision (through setLevel, with its side effects), not the policy's level.
    const inherited: KeyRecord[] = []
    const inheriting: { readonly id: KeyId; readonly from: KeyRecord }[] = []
    let fresh: KeyId[] = ids
    if (engine.policy.linkIdentities) {
      fresh = []
      for (const id of ids) {
        const key = { encryption: enc, owner, keyId: id }
        if ((await view.key(enc, owner, id)) !== undefined) {
          fresh.push(id) // already stored: addKeys leaves it alone (X12)
          continue
        }
        const twin = await inheritedLevel(engine, ctx, key)
        if (twin === undefined) fresh.push(id)
        else inheriting.push({ id, from: twin.from })
      }
    }
    // A decision made here (manual, URI) that the new key inherits is a local decision in its
    // protocol: planned like one (ATM-S1 … S6 over the state before), as when the twin was
    // decided with the key already known. One applied from a trust message is not (D-5).
    const local = inheriting.filter(({ from }) => isLocalDecision(from))
    const states = local.length === 0 ? undefined : await planStates(engine, ctx, [enc])
    const localChange: { authenticate: KeyId[]; distrust: KeyId[] } = { authenticate: [], distrust: [] }
    for (const { id, from } of inheriting) {
      const changed = await setLevel(engine, ctx, enc, owner, [id], from.level, from.provenance)
      inherited.push(...changed)
      if (!isLocalDecision(from) || !changed.some((r) => r.encryption === enc && r.keyId === id)) continue
      ;(from.level === AUTHENTICATED ? localChange.authenticate : localChange.distrust).push(id)
    }
    const planned: Planned[] = []
    planChange(planned, states?.get(enc), { owner, ...localChange })
    const newlyAuthenticated = inherited.filter((r) => r.level === AUTHENTICATED)
    if (newlyAuthenticated.length > 0)
      await release(
        engine,
        ctx,
        newlyAuthenticated.map((r) => ({ encryption: r.encryption, owner: r.owner, keyId: r.keyId })),
        [],
      )
    const outgoing = await withAllowedKeys(engine, ctx, planned)
    const ownInherited = inherited.filter((r) => r.encryption === enc && r.owner === owner)
    if (fresh.length === 0) return { added: ownInherited, outgoing }
    const securityPolicy = await securityPolicyOf(engine, view, enc)
    // TOAK-1 … TOAK-3, D-11 (sticky per owner): blind trust only before the first authentication.
    const once = securityPolicy === 'toakafa' ? await tx.wasAuthenticatedOnce(enc, owner) : true
    const level = levelForNewKey(securityPolicy, once)
    const added = await tx.addKeys(
      enc,
      owner,
      fresh,
      { provenance: { kind: 'policy', policy: securityPolicy }, at },
      level,
    )
    view.remember(added)
    record(engine, ctx, added, () => 'undecided')
    return { added: [...ownInherited, ...added], outgoing }
  })
}

/** A level a person set here (manually or from a URI), not one ATM applied or the policy gave. */
function isLocalDecision(r: KeyRecord): boolean {
  return r.provenance.kind === 'manual' || r.provenance.kind === 'uri'
}
