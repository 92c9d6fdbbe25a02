/**
 * The result order the store contract prescribes (`AccountTrustStore` doc comment), as
 * comparators every store implementation can share.
 */
import type { KeyRecord, PostponedDecision } from './contracts/store.ts'

/**
 * Compares two strings by Unicode code point: the order of their UTF-8 bytes, which is SQLite's
 * BINARY collation and the order of the reference store (`@vouch/store-memory`), not the UTF-16
 * code-unit order of `<` and `Array.prototype.sort`. The two differ only for characters above
 * U+FFFF against U+E000 … U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return shift(x) - shift(y)
  }
  return a.length - b.length
}

// Surrogates (U+D800 … U+DFFF) encode code points above U+FFFF, so they must sort after
// U+E000 … U+FFFF: move them up by 0x2000 and those down by 0x800.
function shift(unit: number): number {
  if (unit >= 0xd800 && unit < 0xe000) return unit + 0x2000
  if (unit >= 0xe000) return unit - 0x800
  return unit
}

/** Contract order for keys: (owner, keyId), then encryption. */
export function compareKeys(a: KeyRecord, b: KeyRecord): number {
  return (
    compareCodePoints(a.owner, b.owner) ||
    compareCodePoints(a.keyId, b.keyId) ||
    compareCodePoints(a.encryption, b.encryption)
  )
}

/** Contract order for postponed decisions: (sceTime, receivedAt, owner, keyId), then senderKey, encryption. */
export function comparePostponed(a: PostponedDecision, b: PostponedDecision): number {
  return (
    a.sceTime - b.sceTime ||
    a.receivedAt - b.receivedAt ||
    compareCodePoints(a.owner, b.owner) ||
    compareCodePoints(a.keyId, b.keyId) ||
    compareCodePoints(a.senderKey, b.senderKey) ||
    compareCodePoints(a.encryption, b.encryption) ||
    compareCodePoints(a.polarity, b.polarity)
  )
}
