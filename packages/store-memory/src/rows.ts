/**
 * The account state as rows, for a persistent store built on this engine
 * (`@vouch/store-indexeddb`): {@link accountRows} lists every row, {@link diffAccounts} the rows
 * one commit changed, {@link accountFromRows} rebuilds the state. A row key is a list of strings
 * whose first member names the table; a value is structured-cloneable (plain objects, strings,
 * numbers, `true`, `Uint8Array`).
 *
 * | key | value |
 * | --- | --- |
 * | `['policy', encryption]` | `SecurityPolicy` |
 * | `['ownKey', encryption]` | `KeyId` |
 * | `['authOnce', encryption, owner]` | `true` (D-11) |
 * | `['key', encryption, ownerAndKeyId]` | `KeyRecord` |
 * | `['postponed', encryption, d8Key]` | `PostponedDecision` |
 * | `['lastApplied', encryption, d9Key]` | SCE time |
 * | `['state', namespace, key]` | bytes |
 *
 * The diff is cheap because copies are copy-on-write (data.ts): a table a commit did not write is
 * the same object before and after, and a record or byte array is replaced, never changed in place,
 * so only the written tables are compared, entry by entry, by identity.
 */
import type {
  BareJid,
  EncryptionNamespace,
  KeyId,
  KeyRecord,
  PostponedDecision,
  SecurityPolicy,
} from '@vouch/tm-core'
import { type AccountData, type EncryptionData, emptyAccount, freezeProvenance, write } from './data.ts'

/** A row's key: the table, then the encryption (or state namespace), then the entry's key. */
export type RowKey = readonly string[]

/** What one commit changed: rows to write (whole values) and rows to delete. */
export interface RowChanges {
  readonly put: readonly (readonly [RowKey, unknown])[]
  readonly delete: readonly RowKey[]
}

const EMPTY_SET: ReadonlySet<string> = new Set()
const EMPTY_MAP: ReadonlyMap<string, unknown> = new Map()

/** Every row of `data`. */
export function accountRows(data: AccountData): [RowKey, unknown][] {
  return diffAccounts(emptyAccount(), data).put as [RowKey, unknown][]
}

function diffMap(
  table: string,
  ns: string,
  before: ReadonlyMap<string, unknown>,
  after: ReadonlyMap<string, unknown>,
  out: { put: (readonly [RowKey, unknown])[]; delete: RowKey[] },
): void {
  if (before === after) return
  for (const [k, v] of after) if (before.get(k) !== v) out.put.push([[table, ns, k], v])
  for (const k of before.keys()) if (!after.has(k)) out.delete.push([table, ns, k])
}

function diffSet(
  table: string,
  ns: string,
  before: ReadonlySet<string>,
  after: ReadonlySet<string>,
  out: { put: (readonly [RowKey, unknown])[]; delete: RowKey[] },
): void {
  if (before === after) return
  for (const k of after) if (!before.has(k)) out.put.push([[table, ns, k], true])
  for (const k of before) if (!after.has(k)) out.delete.push([table, ns, k])
}

function diffEncryption(
  ns: string,
  b: EncryptionData | undefined,
  a: EncryptionData | undefined,
  out: { put: (readonly [RowKey, unknown])[]; delete: RowKey[] },
): void {
  for (const field of ['policy', 'ownKey'] as const) {
    const before = b?.[field]
    const after = a?.[field]
    if (before === after) continue
    if (after === undefined) out.delete.push([field, ns])
    else out.put.push([[field, ns], after])
  }
  diffSet('authOnce', ns, b?.authenticatedOnce ?? EMPTY_SET, a?.authenticatedOnce ?? EMPTY_SET, out)
  diffMap('key', ns, b?.keys ?? EMPTY_MAP, a?.keys ?? EMPTY_MAP, out)
  diffMap('postponed', ns, b?.postponed ?? EMPTY_MAP, a?.postponed ?? EMPTY_MAP, out)
  diffMap('lastApplied', ns, b?.lastApplied ?? EMPTY_MAP, a?.lastApplied ?? EMPTY_MAP, out)
}

/** The rows that turn `before` into `after` (`after` a copy of `before`, changed). */
export function diffAccounts(before: AccountData, after: AccountData): RowChanges {
  const out: { put: (readonly [RowKey, unknown])[]; delete: RowKey[] } = { put: [], delete: [] }
  for (const [ns, a] of after.encryptions) diffEncryption(ns, before.encryptions.get(ns), a, out)
  for (const [ns, b] of before.encryptions)
    if (!after.encryptions.has(ns)) diffEncryption(ns, b, undefined, out)
  for (const [ns, a] of after.state) diffMap('state', ns, before.state.get(ns) ?? EMPTY_MAP, a, out)
  for (const [ns, b] of before.state) if (!after.state.has(ns)) diffMap('state', ns, b, EMPTY_MAP, out)
  return out
}

/** The state the rows describe (rows as {@link accountRows} or a sequence of diffs left them). */
export function accountFromRows(rows: Iterable<readonly [RowKey, unknown]>): AccountData {
  const data = emptyAccount()
  for (const [key, value] of rows) {
    const [table, ns, k] = key as [string, string, string | undefined]
    if (table === 'state') {
      let m = data.state.get(ns)
      if (m === undefined) {
        m = new Map()
        data.state.set(ns, m)
        data.ownedState.add(ns)
      }
      m.set(k as string, new Uint8Array(value as Uint8Array))
      continue
    }
    const e = write(data, ns as EncryptionNamespace)
    switch (table) {
      case 'policy':
        e.policy = value as SecurityPolicy
        break
      case 'ownKey':
        e.ownKey = value as KeyId
        break
      case 'authOnce':
        e.authenticatedOnce.add(k as BareJid)
        break
      case 'key': {
        const r = value as KeyRecord
        e.keys.set(k as string, Object.freeze({ ...r, provenance: freezeProvenance(r.provenance) }))
        break
      }
      case 'postponed':
        e.postponed.set(k as string, Object.freeze({ ...(value as PostponedDecision) }))
        break
      case 'lastApplied':
        e.lastApplied.set(k as string, value as number)
        break
      default:
        throw new RangeError(`unknown row table ${JSON.stringify(table)}`)
    }
  }
  return data
}
