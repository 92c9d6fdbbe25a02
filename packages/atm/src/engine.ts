/**
 * XEP-0450: Automatic Trust Management (ATM) — implements v0.4.0 (`urn:xmpp:atm:1`)
 * https://xmpp.org/extensions/xep-0450.html
 *
 * Pure decision logic over the `AccountTrustStore` contract: no crypto, no network, no clock
 * except `init.now`. Every manual decision and every received trust message is one store
 * transaction (all or nothing; a savepoint of the caller's with `{ store: tx }`); events are
 * emitted after it settled.
 *
 * `createAtm` only composes: plan.ts (ATM-S1 … S6, pure), receive.ts (checks, qualification,
 * postpone or apply), apply.ts (writing decisions), release.ts (ATM-P1), decide.ts (local and URI
 * decisions), discover.ts (new keys, by policy.ts), context.ts (what they share).
 */
import type { BareJid, EncryptionNamespace, SecurityPolicy } from '@vouch/tm-core'
import { DEFAULT_TRUST_MESSAGE_LIMITS, InvalidTrustMessageError, toBareJid } from '@vouch/tm-core'
import type { Engine } from './context.ts'
import { storeOf } from './context.ts'
import { applyUri, decide } from './decide.ts'
import { keysDiscovered } from './discover.ts'
import { createEmitter } from './emitter.ts'
import { resolveSecurityPolicy } from './policy.ts'
import { handleBatch, handleOne } from './receive.ts'
import type { Atm, AtmBackend, AtmInit, AtmLimits, ResolvedAtmPolicy } from './types.ts'
import { DEFAULT_ATM_POLICY } from './types.ts'
import { canonicalBareJid } from './validate.ts'

/**
 * Creates the XEP-0450 engine of one account.
 *
 * @throws InvalidTrustMessageError when two backends declare the same namespace
 * @throws InvalidJidError (rule JID) when `account` is not a canonical bare JID
 */
export function createAtm(init: AtmInit): Atm {
  const explicitSecurityPolicy: SecurityPolicy | undefined = init.policy?.securityPolicy
  const policy: ResolvedAtmPolicy = Object.freeze({
    ...DEFAULT_ATM_POLICY,
    ...stripUndefined(init.policy ?? {}),
    securityPolicy: explicitSecurityPolicy,
  })
  const limits: AtmLimits = Object.freeze({
    ...DEFAULT_TRUST_MESSAGE_LIMITS,
    ...stripUndefined(init.limits ?? {}),
  })
  const backends = new Map<EncryptionNamespace, AtmBackend>()
  for (const b of init.backends) {
    if (backends.has(b.namespace))
      throw new InvalidTrustMessageError('TM-6', `two backends declare the namespace ${b.namespace}`)
    backends.set(b.namespace, b)
  }
  const e: Engine = {
    account: canonicalBareJid(init.account, 'JID'),
    store: init.store,
    now: init.now,
    ownFullJid: init.ownFullJid,
    policy,
    explicitSecurityPolicy,
    backends,
    codec: { limits, keyIdLength: (enc) => backends.get(enc)?.capabilities.keyIdLength },
    emitter: createEmitter(),
    confirm: init.confirm,
    bareJidOf: rememberedBareJid(),
  }
  return {
    account: e.account,
    policy,
    // explicit → store → default (policy.ts); the store is read only when none was given
    effectiveSecurityPolicy: async (encryption, options) =>
      explicitSecurityPolicy ??
      resolveSecurityPolicy(undefined, await storeOf(e, options).getSecurityPolicy(encryption)),
    decide: (input, origin, options) => decide(e, input, origin, options),
    authenticate: (encryption, owner, keyIds, origin, options) =>
      decide(e, { encryption, owner, trust: keyIds }, origin, options),
    distrust: (encryption, owner, keyIds, origin, options) =>
      decide(e, { encryption, owner, distrust: keyIds }, origin, options),
    applyUri: (uri, options) => applyUri(e, uri, options),
    handleTrustMessage: (input, options) => handleOne(e, input, options),
    handleTrustMessages: (inputs, options) => handleBatch(e, inputs, options),
    keysDiscovered: (encryption, owner, keyIds, options) =>
      keysDiscovered(e, encryption, owner, keyIds, options),
    resetToakafa: async (encryption, owner, options) =>
      storeOf(e, options).resetAuthenticatedOnce(encryption, canonicalBareJid(owner)),
    on: (event, listener) => e.emitter.on(event, listener),
  }
}

/** `toBareJid` (which validates and throws `InvalidJidError`), remembered for 256 senders. */
function rememberedBareJid(): (jid: string) => BareJid {
  const bareJids = new Map<string, BareJid>()
  return (jid) => {
    let bare = bareJids.get(jid)
    if (bare === undefined) {
      bare = toBareJid(jid)
      if (bareJids.size >= 256) bareJids.clear()
      bareJids.set(jid, bare)
    }
    return bare
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
