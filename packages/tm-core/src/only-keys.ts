/**
 * TM-15/TM-21: `EncryptOptions.onlyKeys` as one protocol's set of allowed keys. One home for the
 * rule every backend applies when it picks recipients: keys of another protocol are ignored, and
 * owners compare as bare JIDs.
 */
import type { EncryptionNamespace, KeyId } from './contracts/ids.ts'
import type { KeyRef } from './contracts/trust.ts'
import { toBareJid } from './jid.ts'

/** Which keys a message may be encrypted for (`undefined`: no explicit list was given). */
export interface OnlyKeys {
  has(owner: string, keyId: KeyId): boolean
}

/**
 * The allowed keys of `namespace` among `onlyKeys`, or `undefined` when `onlyKeys` is
 * `undefined` (no explicit list). A malformed owner JID is rejected with `rule`.
 */
export function onlyKeysOf(
  onlyKeys: readonly KeyRef[] | undefined,
  namespace: EncryptionNamespace,
  rule: string,
): OnlyKeys | undefined {
  if (onlyKeys === undefined) return undefined
  const set = new Set<string>()
  for (const k of onlyKeys) if (k.encryption === namespace) set.add(`${toBareJid(k.owner, rule)} ${k.keyId}`)
  return { has: (owner, keyId) => set.has(`${owner} ${keyId}`) }
}
