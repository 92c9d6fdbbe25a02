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
    if (owner === account && backend.capabilities.oneKeyPerIdentity) return { added: [] }
    const ownKey = await view.ownKey(enc)
    const ids = discovered.filter((id) => !(owner === account && id === ownKey))
    if (ids.length === 0) return { added: [] }
    // D-12 identity linking: a new key whose twin in another protocol was already decided about
    // takes that decision (through setLevel, with its side effects), not the policy's level.
    const inherited: KeyRecord[] = []
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
        else {
          const { from } = twin
          inherited.push(...(await setLevel(engine, ctx, enc, owner, [id], from.level, from.provenance)))
        }
      }
    }
    const newlyAuthenticated = inherited.filter((r) => r.level === AUTHENTICATED)
    if (newlyAuthenticated.length > 0)
      await release(
        engine,
        ctx,
        newlyAuthenticated.map((r) => ({ encryption: r.encryption, owner: r.owner, keyId: r.keyId })),
        [],
      )
    const ownInherited = inherited.filter((r) => r.encryption === enc && r.owner === owner)
    if (fresh.length === 0) return { added: ownInherited }
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
    return { added: [...ownInherited, ...added] }
  })
}
