/** Security policy, own key, the D-11 "authenticated once" flag, and `resetAll`. */
import type { EncryptionNamespace, KeyId, SecurityPolicy } from '@vouch/tm-core/contracts'
import { arg } from './compiled.ts'
import { chunks, type Db, q, type Scope, TEMPLATE_ROWS, unique } from './context.ts'

export async function getSecurityPolicy(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
): Promise<SecurityPolicy | undefined> {
  const [row] = await q(
    s,
    db,
    'getSecurityPolicy',
    (b) =>
      b
        .selectFrom(s.core.t.security_policies)
        .select('policy')
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1)),
    [s.account, encryption],
  )
  return row?.policy
}

export async function setSecurityPolicy(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  policy: SecurityPolicy,
): Promise<void> {
  await q(
    s,
    db,
    'setSecurityPolicy',
    (b) =>
      b
        .insertInto(s.core.t.security_policies)
        .values({ account: arg(0), encryption: arg(1), policy: arg<SecurityPolicy>(2) })
        .onConflict((oc) =>
          oc.columns(['account', 'encryption']).doUpdateSet({ policy: arg<SecurityPolicy>(2) }),
        ),
    [s.account, encryption, policy],
  )
}

export async function resetSecurityPolicy(s: Scope, db: Db, encryption: EncryptionNamespace): Promise<void> {
  await db
    .deleteFrom(s.core.t.security_policies)
    .where('account', '=', s.account)
    .where('encryption', '=', encryption)
    .execute()
}

export async function wasAuthenticatedOnce(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owner: string,
): Promise<boolean> {
  const rows = await q(
    s,
    db,
    'wasAuthenticatedOnce',
    (b) =>
      b
        .selectFrom(s.core.t.authenticated_once)
        .select('owner')
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1))
        .where('owner', '=', arg(2)),
    [s.account, encryption, owner],
  )
  return rows.length > 0
}

export async function resetAuthenticatedOnce(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owner: string,
): Promise<void> {
  await db
    .deleteFrom(s.core.t.authenticated_once)
    .where('account', '=', s.account)
    .where('encryption', '=', encryption)
    .where('owner', '=', owner)
    .execute()
}

/** D-11: sets the flag of `owners` (a key of each was just authenticated). */
export async function markAuthenticated(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owners: readonly string[],
): Promise<void> {
  const list = unique(owners)
  if (list.length === 0) return
  const t = s.core.t
  if (list.length <= TEMPLATE_ROWS) {
    await q(
      s,
      db,
      `markAuthenticated:${list.length}`,
      (b) =>
        b
          .insertInto(t.authenticated_once)
          .values(list.map((_, i) => ({ account: arg(0), encryption: arg(1), owner: arg(2 + i) })))
          .onConflict((oc) => oc.doNothing()),
      [s.account, encryption, ...list],
    )
    return
  }
  for (const part of chunks(list)) {
    await db
      .insertInto(t.authenticated_once)
      .values(part.map((owner) => ({ account: s.account, encryption, owner })))
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
}

export async function getOwnKey(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
): Promise<KeyId | undefined> {
  const [row] = await q(
    s,
    db,
    'getOwnKey',
    (b) =>
      b
        .selectFrom(s.core.t.own_keys)
        .select('key_id')
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1)),
    [s.account, encryption],
  )
  return row?.key_id as KeyId | undefined
}

export async function setOwnKey(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  keyId: KeyId,
): Promise<void> {
  await db
    .insertInto(s.core.t.own_keys)
    .values({ account: s.account, encryption, key_id: keyId })
    .onConflict((oc) => oc.columns(['account', 'encryption']).doUpdateSet({ key_id: keyId }))
    .execute()
}

export async function resetOwnKey(s: Scope, db: Db, encryption: EncryptionNamespace): Promise<void> {
  await db
    .deleteFrom(s.core.t.own_keys)
    .where('account', '=', s.account)
    .where('encryption', '=', encryption)
    .execute()
}

/** Everything of the account about `encryption` (backend state is per namespace: not touched). */
export async function resetAll(s: Scope, db: Db, encryption: EncryptionNamespace): Promise<void> {
  const t = s.core.t
  for (const table of [
    t.keys,
    t.own_keys,
    t.security_policies,
    t.authenticated_once,
    t.postponed,
    t.last_applied,
  ] as const) {
    await db.deleteFrom(table).where('account', '=', s.account).where('encryption', '=', encryption).execute()
  }
}
