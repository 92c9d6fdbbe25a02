/**
 * The messages of a local decision (internal): the state ATM-S1 … S6 are planned over, read
 * before the decision writes anything ({@link planStates}), the plan of each change in its
 * protocol ({@link planChange}), and the planned messages given the keys they may be encrypted
 * for in the state after it ({@link withAllowedKeys}). Used by decide.ts (manual and URI
 * decisions, and the twins identity linking decides with them) and discover.ts (a new key that
 * inherits a decision made here, D-12). The rules themselves are plan.ts's.
 */
import type { EncryptionNamespace } from '@vouch/tm-core'
import {
  AUTHENTICATED,
  carrierFor,
  type Engine,
  MANUALLY_DISTRUSTED,
  type OpContext,
  requireBackend,
} from './context.ts'
import { twinIds } from './link.ts'
import {
  allowedKeys,
  type LocalChange,
  outgoing as outgoingMessage,
  type PlanKey,
  type PlannedTrustMessage,
  type PlanState,
  planMessages,
  readable,
  recipientOwners,
} from './plan.ts'
import type { OutgoingTrustMessage } from './types.ts'

/** A planned message and the state it was planned over. */
export interface Planned {
  readonly state: PlanState
  readonly message: PlannedTrustMessage
}

/**
 * The state before a decision of each of `namespaces` (`undefined`: nothing can carry its
 * messages, D-12): its authenticated and manually distrusted keys, own key and, for a body-only
 * protocol, its carrier's, with the carrier keys' twins in it (identity linking). Read before the
 * decision writes anything; each protocol's keys are read once.
 */
export async function planStates(
  engine: Engine,
  ctx: OpContext,
  namespaces: readonly EncryptionNamespace[],
): Promise<Map<EncryptionNamespace, PlanState | undefined>> {
  const { account } = engine
  const { tx, view } = ctx
  const levels = [AUTHENTICATED, MANUALLY_DISTRUSTED] as const
  const before = new Map<EncryptionNamespace, readonly PlanKey[]>()
  const keysBefore = async (ns: EncryptionNamespace): Promise<readonly PlanKey[]> => {
    const known = before.get(ns)
    if (known !== undefined) return known
    const keys = await tx.getKeys(ns, { levels })
    before.set(ns, keys)
    return keys
  }
  const states = new Map<EncryptionNamespace, PlanState | undefined>()
  for (const ns of namespaces) {
    if (states.has(ns)) continue
    // D-12: a protocol that cannot carry a trust message (bodyOnly) sends over another one
    const carrier = carrierFor(engine, ns)
    if (carrier === undefined) {
      states.set(ns, undefined) // nothing can carry its messages
      continue
    }
    const base = {
      account,
      encryption: ns,
      oneKeyPerIdentity: requireBackend(engine, ns).capabilities.oneKeyPerIdentity,
      ownKey: await view.ownKey(ns),
      keys: await keysBefore(ns),
    }
    const c = carrier.namespace
    states.set(
      ns,
      c === ns
        ? base
        : {
            ...base,
            carrier: {
              encryption: c,
              oneKeyPerIdentity: carrier.capabilities.oneKeyPerIdentity,
              ownKey: await view.ownKey(c),
              keys: await keysBefore(c),
              twins: (id) => twinIds(engine, c, id).flatMap((t) => (t.encryption === ns ? [t.keyId] : [])),
            },
          },
    )
  }
  return states
}

/** ATM-S1 … S6 for one change over its protocol's state before the decision (none without one). */
export function planChange(into: Planned[], state: PlanState | undefined, change: LocalChange): void {
  if (state !== undefined) for (const message of planMessages(state, change)) into.push({ state, message })
}

/**
 * TM-15, TM-21: each planned message with the keys it may be encrypted for, read after the
 * decision (and what it released); messages nobody they are meant for could read are left out.
 */
export async function withAllowedKeys(
  engine: Engine,
  ctx: OpContext,
  planned: readonly Planned[],
): Promise<OutgoingTrustMessage[]> {
  const outgoing: OutgoingTrustMessage[] = []
  for (const { state, message } of planned) {
    const owners = recipientOwners(state, message.to)
    const recipientNs = state.carrier?.encryption ?? state.encryption
    const after =
      owners === undefined ? [] : await ctx.tx.getKeys(recipientNs, { owners, levels: [AUTHENTICATED] })
    const keys = allowedKeys(state, message, after)
    if (readable(message, keys, engine.account)) outgoing.push(outgoingMessage(state, message, keys))
  }
  return outgoing
}
