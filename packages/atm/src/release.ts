/**
 * Releasing postponed decisions (internal): ATM-P1, recursively (X13).
 */
import type { KeyRef } from '@vouch/tm-core'
import { applyAutomatic } from './apply.ts'
import {
  AUTHENTICATED,
  type AutoDecision,
  type Engine,
  isOok,
  keyOf,
  type OpContext,
  senderNamespaces,
} from './context.ts'
import type { SkippedDecision } from './types.ts'

/**
 * ATM-P1: releases the postponed decisions sent by newly authenticated keys, recursively (X13):
 * a key authenticated by a released decision releases its own postponed data in the next round.
 * Each sender's data is deleted when read, so chains cannot loop. Decisions recorded for another
 * sender identity, and those the sender was not qualified to make (X9, X8, ATM-4), are dropped.
 */
export async function release(
  engine: Engine,
  ctx: OpContext,
  frontier0: readonly KeyRef[],
  skipped: SkippedDecision[],
): Promise<void> {
  const { tx, view } = ctx
  const { account } = engine
  const done = new Set<string>()
  let frontier = frontier0
  while (frontier.length > 0) {
    const collected: AutoDecision[] = []
    for (const sender of frontier) {
      const id = keyOf(sender)
      if (done.has(id)) continue
      done.add(id)
      for (const ns of senderNamespaces(engine, sender.encryption)) {
        // skipped when this transaction already knows the sender has nothing postponed
        if (view.mayHavePostponed(ns, [sender.keyId]).length === 0) continue
        const pending = await tx.getPostponed(ns, { senderKeys: [sender.keyId] })
        if (pending.length > 0) await tx.removePostponedBySenders(ns, [sender.keyId])
        view.markNoPostponed(ns, [sender.keyId])
        for (const p of pending) {
          if (p.senderJid !== sender.owner) continue // recorded for another sender identity: junk
          if (!(p.senderJid === account || p.owner === p.senderJid)) continue // qualification (X9)
          if (p.owner === account) {
            if (isOok(engine, p.encryption)) continue
            if (p.keyId === (await view.ownKey(p.encryption))) continue // X8
          }
          collected.push({
            key: { encryption: p.encryption, owner: p.owner, keyId: p.keyId },
            polarity: p.polarity,
            sceTime: p.sceTime,
            senderJid: p.senderJid,
            senderKey: p.senderKey,
            postponed: p,
          })
        }
      }
    }
    collected.sort((a, b) => a.sceTime - b.sceTime)
    const newly = await applyAutomatic(engine, ctx, collected, skipped, [])
    const next: KeyRef[] = []
    for (const k of newly) {
      if ((await view.key(k.encryption, k.owner, k.keyId))?.level === AUTHENTICATED) next.push(k)
    }
    frontier = next
  }
}
