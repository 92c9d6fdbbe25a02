/**
 * TOAKAFA (TOAK-1 … TOAK-3, D-11): the one home of the rule that gives a newly seen key its level.
 * Pure: the caller reads the inputs (the engine does, in `keysDiscovered`, the only path that
 * stores a new key).
 */
import type { SecurityPolicy, TrustLevel } from '@vouch/tm-core'
import { DEFAULT_SECURITY_POLICY } from '@vouch/tm-core'

/**
 * The security policy that applies to one encryption: the one given explicitly (`createAtm`'s
 * `policy.securityPolicy`), else the one the store keeps for that encryption, else the default
 * (`toakafa`).
 */
export function resolveSecurityPolicy(
  explicit: SecurityPolicy | undefined,
  stored: SecurityPolicy | undefined,
): SecurityPolicy {
  return explicit ?? stored ?? DEFAULT_SECURITY_POLICY
}

/**
 * The level of a key seen for the first time: `automatically-trusted` under TOAKAFA while its owner
 * was never authenticated (TOAK-1; D-11: sticky per owner, `resetToakafa` forgets it), else
 * `automatically-distrusted` (TOAK-3, and every key under `authenticated-only`).
 */
export function levelForNewKey(policy: SecurityPolicy, authenticatedOnce: boolean): TrustLevel {
  return policy === 'toakafa' && !authenticatedOnce ? 'automatically-trusted' : 'automatically-distrusted'
}
