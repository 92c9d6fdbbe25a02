/** Names and builders shared by this package's tests (they run in Chromium). */
import type { ChangeContext, KeyId } from '@vouch/tm-core'
import { NS_OMEMO_2, parseBareJid, parseKeyIdBase64 } from '@vouch/tm-core'

export const OMEMO = NS_OMEMO_2
export const ALICE = parseBareJid('alice@example.org')
export const BOB = parseBareJid('bob@example.com')
export const CTX: ChangeContext = { provenance: { kind: 'manual' }, at: 1_700_000_000_000 }

/** The `i`-th of a series of distinct key ids. */
export function keyId(i: number): KeyId {
  const bytes = new Uint8Array(32)
  new DataView(bytes.buffer).setUint32(0, i)
  return parseKeyIdBase64(btoa(String.fromCharCode(...bytes)))
}

export const keyIds = (n: number, from = 0): KeyId[] => Array.from({ length: n }, (_, i) => keyId(from + i))

/** A database name no other test uses. */
export const freshName = (what: string): string =>
  `${what}-${Date.now()}-${Math.random().toString(36).slice(2)}`
