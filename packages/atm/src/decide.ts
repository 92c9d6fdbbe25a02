/**
 * Local decisions (internal): manual and URI decisions (URI-3, URI-4, X15), in one transaction:
 * read the state before, plan ATM-S1 … S6 (plan.ts, pure), write (apply.ts), release what newly
 * authenticated keys had sent (release.ts), then give each planned message its allowed keys
 * (send.ts). The twins identity linking decides with it are planned in their protocols (D-12).
 */
import type { BareJid, KeyId, Provenance } from '@vouch/tm-core'
import { ConfirmationDeniedError, InvalidJidError } from '@vouch/tm-core'
import { setLevel } from './apply.ts'
import {
  AUTHENTICATED,
  checkOwner,
  type Engine,
  MANUALLY_DISTRUSTED,
  requireBackend,
  run,
  storeOf,
  unique,
} from './context.ts'
import { linkedNamespaces } from './link.ts'
import { linkedChanges } from './plan.ts'
import { release } from './release.ts'
import { type Planned, planChange, planStates, withAllowedKeys } from './send.ts'
import type {
  ApplyUriOptions,
  DecisionInput,
  DecisionOrigin,
  DecisionResult,
  SkippedDecision,
  TransactionOptions,
  TrustUri,
  UriDecisionSummary,
} from './types.ts'

/** A manual or URI decision about one owner's keys (distrust wins for a key in both, D-8). */
export async function decide(
  engine: Engine,
  input: DecisionInput,
  origin: DecisionOrigin = { source: 'manual' },
  options?: TransactionOptions,
): Promise<DecisionResult> {
  const { account } = engine
  const enc = input.encryption
  const backend = requireBackend(engine, enc)
  const checked = checkOwner(engine, enc, input.owner, input.trust ?? [], input.distrust ?? [])
  const owner = checked.jid
  const ook = backend.capabilities.oneKeyPerIdentity
  if (ook && owner === account)
    throw new InvalidJidError(
      'ATM-4',
      `${enc} uses one key per identity: only keys of contacts can be authenticated or distrusted, not those of ${account}`,
    )
  const provenance: Provenance =
    origin.source === 'manual' ? { kind: 'manual' } : { kind: 'uri', source: origin.uriSource }

  return run(engine, options, async (ctx) => {
    const { view } = ctx
    const ownKey = await view.ownKey(enc)
    const notOwn = (id: KeyId): boolean => !(owner === account && id === ownKey) // X8
    const distrustSet = unique(checked.distrust).filter(notOwn)
    const trustSet = unique(checked.trust).filter((id) => notOwn(id) && !distrustSet.includes(id)) // D-8
    const toAuth: KeyId[] = []
    for (const id of trustSet) if ((await view.key(enc, owner, id))?.level !== AUTHENTICATED) toAuth.push(id)
    const toDist: KeyId[] = []
    for (const id of distrustSet)
      if ((await view.key(enc, owner, id))?.level !== MANUALLY_DISTRUSTED) toDist.push(id)
    if (toAuth.length === 0 && toDist.length === 0) return { changes: [], outgoing: [] } // QXmpp 8

    // The state before the decision, in `enc` and in every protocol identity linking can reach
    // (D-12), read before anything is written.
    const states = await planStates(engine, ctx, [enc, ...linkedNamespaces(engine, enc)])
    const planned: Planned[] = []
    planChange(planned, states.get(enc), { owner, authenticate: toAuth, distrust: toDist })

    const newlyAuthenticated = await setLevel(engine, ctx, enc, owner, toAuth, AUTHENTICATED, provenance)
    const newlyDistrusted = await setLevel(engine, ctx, enc, owner, toDist, MANUALLY_DISTRUSTED, provenance)
    // D-12: what identity linking decided in other protocols is this endpoint's decision too, so
    // it is planned as one in its protocol (ATM-S1 … S6 over that protocol's state before)
    const twins = [...newlyAuthenticated, ...newlyDistrusted].filter((r) => r.encryption !== enc)
    for (const [ns, change] of linkedChanges(owner, twins)) planChange(planned, states.get(ns), change)

    // ATM-P1: postponed data of the newly authenticated keys (automatic, never re-broadcast: D-5).
    const releasedSkips: SkippedDecision[] = []
    await release(
      engine,
      ctx,
      newlyAuthenticated.map((r) => ({ encryption: r.encryption, owner: r.owner, keyId: r.keyId })),
      releasedSkips,
    )

    // TM-15, TM-21: allowed keys in the state after the decision (and what it released).
    const outgoing = await withAllowedKeys(engine, ctx, planned)
    return { changes: ctx.changes, outgoing }
  })
}

/** URI-3, URI-4, X15: a Trust Message URI, applied only once `options.confirm` said yes. */
export async function applyUri(
  engine: Engine,
  uri: TrustUri,
  options: ApplyUriOptions,
): Promise<DecisionResult> {
  const { account } = engine
  const backend = requireBackend(engine, uri.encryption)
  const checked = checkOwner(engine, uri.encryption, uri.jid, uri.trust, uri.distrust)
  const jid: BareJid = checked.jid
  if (backend.capabilities.oneKeyPerIdentity && jid === account)
    throw new InvalidJidError(
      'ATM-4',
      `${uri.encryption} uses one key per identity: a URI for ${account} has no effect`,
    )
  const store = storeOf(engine, options)
  const ownKey = await store.getOwnKey(uri.encryption)
  const isOwn = (id: KeyId): boolean => jid === account && id === ownKey
  const distrust = checked.distrust
  const trust = checked.trust.filter((id) => !distrust.includes(id))
  const authenticate: KeyId[] = []
  const distrustNow: KeyId[] = []
  for (const id of trust)
    if (!isOwn(id) && (await store.getTrustLevel(uri.encryption, jid, id)) !== AUTHENTICATED)
      authenticate.push(id)
  for (const id of distrust)
    if (!isOwn(id) && (await store.getTrustLevel(uri.encryption, jid, id)) !== MANUALLY_DISTRUSTED)
      distrustNow.push(id)
  const summary: UriDecisionSummary = {
    jid,
    encryption: uri.encryption,
    uriSource: options.uriSource,
    authenticate,
    distrust: distrustNow,
    skippedOwnKeys: [...trust, ...distrust].filter(isOwn),
  }
  // URI-4, X15: nothing is stored and nothing is sent unless the user confirms.
  if (!(await options.confirm(summary)))
    throw new ConfirmationDeniedError('URI-4', `the Trust Message URI for ${jid} was not confirmed`)
  return decide(
    engine,
    { encryption: uri.encryption, owner: jid, trust, distrust },
    { source: 'uri', uriSource: options.uriSource },
    options.store === undefined ? undefined : { store: options.store },
  )
}
