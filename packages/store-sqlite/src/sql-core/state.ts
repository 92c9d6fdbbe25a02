/** Opaque backend state per (namespace, key). */
import { compareCodePoints } from '@vouch/tm-core'
import { arg } from './compiled.ts'
import { type Db, q, type Scope } from './context.ts'

export async function getState(
  s: Scope,
  db: Db,
  namespace: string,
  key: string,
): Promise<Uint8Array | undefined> {
  const [row] = await q(
    s,
    db,
    'getState',
    (b) =>
      b
        .selectFrom(s.core.t.backend_state)
        .select('value')
        .where('account', '=', arg(0))
        .where('namespace', '=', arg(1))
        .where('key', '=', arg(2)),
    [s.account, namespace, key],
  )
  return row === undefined ? undefined : s.core.dialect.fromBlob(row.value)
}

/** `blob` is the value as the dialect binds it (`dialect.toBlob`). */
export async function setState(
  s: Scope,
  db: Db,
  namespace: string,
  key: string,
  blob: unknown,
): Promise<void> {
  await q(
    s,
    db,
    'setState',
    (b) =>
      b
        .insertInto(s.core.t.backend_state)
        .values({ account: arg(0), namespace: arg(1), key: arg(2), value: arg<Uint8Array>(3) })
        .onConflict((oc) =>
          oc.columns(['account', 'namespace', 'key']).doUpdateSet({ value: arg<Uint8Array>(3) }),
        ),
    [s.account, namespace, key, blob],
  )
}

export async function deleteState(s: Scope, db: Db, namespace: string, key: string): Promise<void> {
  await q(
    s,
    db,
    'deleteState',
    (b) =>
      b
        .deleteFrom(s.core.t.backend_state)
        .where('account', '=', arg(0))
        .where('namespace', '=', arg(1))
        .where('key', '=', arg(2)),
    [s.account, namespace, key],
  )
}

/**
 * The smallest string greater, in code point order, than every string that starts with
 * `prefix`: the last code point that is not U+10FFFF, plus one (skipping the surrogates), with
 * what followed it dropped. Undefined when there is none (the prefix is all U+10FFFF) or the
 * prefix is not well-formed UTF-16 (a lone surrogate: drivers replace it, so no range is safe).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  if (/\p{Cs}/u.test(prefix)) return undefined
  const points = [...prefix].map((c) => c.codePointAt(0) as number)
  while (points.length > 0) {
    const last = points.pop() as number
    if (last === 0x10ffff) continue
    points.push(last + 1 === 0xd800 ? 0xe000 : last + 1)
    return String.fromCodePoint(...points)
  }
  return undefined
}

export async function listState(
  s: Scope,
  db: Db,
  namespace: string,
  prefix: string | undefined,
): Promise<readonly string[]> {
  const { t, dialect } = s.core
  let sel = db
    .selectFrom(t.backend_state)
    .select('key')
    .where('account', '=', s.account)
    .where('namespace', '=', namespace)
  if (prefix !== undefined && prefix !== '') {
    // An index range [prefix, upper) on the primary key (account, namespace, key) when text
    // compares byte-wise, and the dialect's exact byte-wise prefix check.
    if (dialect.bytewiseText) {
      sel = sel.where('key', '>=', prefix)
      const upper = prefixUpperBound(prefix)
      if (upper !== undefined) sel = sel.where('key', '<', upper)
    }
    sel = sel.where(dialect.startsWith('key', prefix))
  }
  const rows = await sel.execute()
  return rows.map((r) => r.key).sort(compareCodePoints)
}
