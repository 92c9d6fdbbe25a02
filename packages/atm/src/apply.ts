/**
 * Writing decisions (internal): a level change with the side effects every path shares
 * ({@link setLevel}), and automatic decisions from received or released trust messages
 * ({@link applyAutomatic}: D-8 across senders, D-9, D-10, ATM-UI3).
 */
import type {
  BareJid,
  EncryptionNamespace,
  KeyId,
  KeyRecord,
  KeyRef,
  Provenance,
  TrustLevel,
} from '@vouch/tm-core'
import {
  AUTHENTICATED,
  type AutoDecision,
  type Engine,
  MANUALLY_DISTRUSTED,
  type OpContext,
  securityPolicyOf,
  senderNamespaces,
} from './context.ts'
import { linkedKeys } from './link.ts'
import type { PendingAutomaticDecision, SkippedDecision, SkipReason } from './types.ts'

/**
 * Sets `level` on keys of one owner, records the changes and their events, and applies the
 * side effects every path shares: TOAKAFA demotion after an authentication (TOAK-2), deletion of
 * postponed data sent by a distrusted key (QXmpp §3.3 step 5).
 */
export async function setLevel(
  engine: Engine,
  ctx: OpContext,
  enc: EncryptionNamespace,
  owner: BareJid,
  keyIds: readonly KeyId[],
  level: TrustLevel,
  provenance: Provenance,
  auto?: AutoDecision,
): Promise<readonly KeyRecord[]> {
  const changed = await setLevelOnly(engine, ctx, enc, owner, keyIds, level, provenance, undefined)
  if (changed.length === 0 || !engine.policy.linkIdentities) return changed
  if (level !== AUTHENTICATED && level !== MANUALLY_DISTRUSTED) return changed
  // D-12 identity linking: the same key pair in another protocol gets the same decision (one
  // level deep: a twin's twin is the key itself). An automatic trust does not pass a twin's
  // distrust that D-10 or D-9 across senders would keep (the checks applyAutomatic made for the
  // key itself).
  const all: KeyRecord[] = [...changed]
  for (const r of changed) {
    const from: KeyRef = { encryption: r.encryption, owner: r.owner, keyId: r.keyId }
    for (const twin of await linkedKeys(engine, ctx, from)) {
      const existing = await ctx.view.key(twin.encryption, twin.owner, twin.keyId)
      if (existing?.level === level) continue
      if (auto !== undefined && level === AUTHENTICATED && existing?.level === MANUALLY_DISTRUSTED) {
        if (engine.policy.manualDecisionsFinal && isManualDistrust(existing)) continue
        if (isStaleTrust(existing, auto)) continue
      }
      all.push(
        ...(await setLevelOnly(engine, ctx, twin.encryption, owner, [twin.keyId], level, provenance, from)),
      )
    }
  }
  return all
}

/** {@link setLevel} for one protocol, without identity linking. */
async function setLevelOnly(
  engine: Engine,
  ctx: OpContext,
  enc: EncryptionNamespace,
  owner: BareJid,
  keyIds: readonly KeyId[],
  level: TrustLevel,
  provenance: Provenance,
  linkedFrom: KeyRef | undefined,
): Promise<readonly KeyRecord[]> {
  if (keyIds.length === 0) return []
  const { tx, view, at } = ctx
  const before = new Map<KeyId, TrustLevel>()
  for (const id of keyIds) before.set(id, (await view.key(enc, owner, id))?.level ?? 'undecided')
  const changed = await tx.setTrustLevels(enc, [{ owner, keyIds, level }], { provenance, at })
  view.remember(changed)
  record(engine, ctx, changed, (r) => before.get(r.keyId) ?? 'undecided', linkedFrom)
  // TOAK-2; skipped when the owner is known to have no automatically trusted key left
  if (level === AUTHENTICATED && changed.length > 0 && !view.hasNoAutoTrusted(enc, owner)) {
    if ((await securityPolicyOf(engine, view, enc)) === 'toakafa') {
      const policyProvenance: Provenance = { kind: 'policy', policy: 'toakafa' }
      const demoted = await tx.changeTrustLevels(
        enc,
        [owner],
        'automatically-trusted',
        'automatically-distrusted',
        { provenance: policyProvenance, at },
      )
      view.remember(demoted)
      view.markNoAutoTrusted(enc, owner)
      record(engine, ctx, demoted, () => 'automatically-trusted')
    }
  }
  if (level === MANUALLY_DISTRUSTED && changed.length > 0) {
    const ids = changed.map((r) => r.keyId)
    for (const ns of senderNamespaces(engine, enc)) await view.removePostponedBySenders(ns, ids)
  }
  return changed
}

/** Records changed keys in the operation and queues their `level-changed` events. */
export function record(
  engine: Engine,
  ctx: OpContext,
  records: readonly KeyRecord[],
  from: (r: KeyRecord) => TrustLevel,
  linkedFrom?: KeyRef,
): void {
  for (const r of records) {
    ctx.changes.push(r)
    const payload = {
      key: { encryption: r.encryption, owner: r.owner, keyId: r.keyId },
      from: from(r),
      to: r.level,
      provenance: r.provenance,
      at: ctx.at,
      ...(linkedFrom === undefined ? {} : { linkedFrom }),
    }
    ctx.emits.push(() => engine.emitter.emit('level-changed', payload))
  }
}

/**
 * Applies automatic decisions (trusts first, then distrusts: D-8 across senders) and returns the
 * keys that became authenticated. Skipped decisions go to `skipped`, applied ones to `applied`.
 */
export async function applyAutomatic(
  engine: Engine,
  ctx: OpContext,
  decisions: readonly AutoDecision[],
  skipped: SkippedDecision[],
  applied: AutoDecision[],
): Promise<KeyRef[]> {
  const { view } = ctx
  const { policy, emitter } = engine
  const ordered = [
    ...decisions.filter((d) => d.polarity === 'trust'),
    ...decisions.filter((d) => d.polarity === 'distrust'),
  ]
  const authenticated: KeyRef[] = []
  for (const d of ordered) {
    const { encryption: enc, owner, keyId } = d.key
    const skip = (reason: SkipReason): void => {
      skipped.push({ key: d.key, polarity: d.polarity, reason })
    }
    const last = await view.lastApplied(enc, d.senderKey, owner, keyId)
    if (last !== undefined && d.sceTime <= last) {
      skip('replay') // D-9, X5
      continue
    }
    const existing = await view.key(enc, owner, keyId)
    const from = existing?.level ?? 'undecided'
    const to = d.polarity === 'trust' ? AUTHENTICATED : MANUALLY_DISTRUSTED
    if (from !== to) {
      if (d.polarity === 'trust' && existing !== undefined && existing.level === MANUALLY_DISTRUSTED) {
        if (policy.manualDecisionsFinal && isManualDistrust(existing)) {
          skip('manual-final') // D-10 switch
          continue
        }
        if (isStaleTrust(existing, d)) {
          skip('stale') // D-9 across senders
          continue
        }
      }
      if (policy.requireConfirmation) {
        const pending: PendingAutomaticDecision = {
          key: d.key,
          polarity: d.polarity,
          from,
          to,
          senderJid: d.senderJid,
          senderKey: d.senderKey,
          sceTime: d.sceTime,
        }
        const ok = engine.confirm === undefined ? false : await engine.confirm(pending)
        if (!ok) {
          ctx.emits.push(() => emitter.emit('decision-vetoed', { decision: pending }))
          skip('vetoed')
          continue
        }
      }
      const provenance: Provenance = { kind: 'atm', senderJid: d.senderJid, senderKey: d.senderKey }
      const changed = await setLevel(engine, ctx, enc, owner, [keyId], to, provenance, d)
      // the key and, with identity linking, its twins in other protocols (D-12)
      if (to === AUTHENTICATED)
        for (const r of changed)
          authenticated.push({ encryption: r.encryption, owner: r.owner, keyId: r.keyId })
    }
    await view.setLastApplied(enc, d.senderKey, owner, keyId, d.sceTime)
    applied.push(d)
    const p = d.postponed
    if (p !== undefined) ctx.emits.push(() => emitter.emit('postponed-applied', { decision: p }))
  }
  return authenticated
}

/**
 * D-9 across senders (the cross-endpoint stale message): an automatic trust is not applied to a
 * key whose current level is a distrust decision (`manually-distrusted`: made here by a person or
 * a URI, or applied from another endpoint's trust message) that is not older than the trust
 * message. "Older" compares the trust message's SCE time (the sender's clock, within the SCE-1
 * margin of its sending time) with the key record's `changedAt` (this endpoint's clock when the
 * distrust was stored), so the comparison is only as exact as that margin; within it, ties and
 * doubt keep the distrust (the fail-safe direction). A distrust from the same sender key is left
 * to D-9's per-sender order, which already found the trust newer. `automatically-distrusted` is a
 * policy default, not a decision: trust messages still apply over it (ATM-P2, X12).
 */
export function isStaleTrust(existing: KeyRecord, d: AutoDecision): boolean {
  const p = existing.provenance
  if (p.kind === 'atm' && p.senderKey === d.senderKey && p.senderJid === d.senderJid) return false
  return existing.changedAt >= d.sceTime
}

/** A distrust made by a person (here or by URI), as opposed to one made by ATM or the policy. */
export function isManualDistrust(r: KeyRecord): boolean {
  return r.level === MANUALLY_DISTRUSTED && (r.provenance.kind === 'manual' || r.provenance.kind === 'uri')
}
