/** Security policy, own key, the D-11 "authenticated once" flag, and `resetAll`. */
import type { EncryptionNamespace, KeyId, SecurityPolicy } from '@vouch/tm-core/contracts'
import { sql } from 'kysely'
import { arg } from './compiled.ts'
import { type RowWrite, sendWrites } from './writes.ts'
import { type Db, q, type Scope, unique } from './context.ts'

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

/** D-11 flags (one per encryption and owner): insert if missing. */
export const authenticatedOnceWrite: RowWrite<{ readonly encryption: string; readonly owner: string }> = {
  name: 'authenticatedOnce',
  width: 2,
  build: (s, b, n, at) =>
    b
      .insertInto(s.core.t.authenticated_once)
      .values(
        Array.from({ length: n }, (_, i) => ({ account: arg(0), encryption: at(i, 0), owner: at(i, 1) })),
      )
      .onConflict((oc) => oc.doNothing()),
  values: (r) => [r.encryption, r.owner],
}

/** D-11: sets the flag of `owners` (a key of each was just authenticated). */
export async function markAuthenticated(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owners: readonly string[],
): Promise<void> {
  const rows = unique(owners).map((owner) => ({ encryption, owner }))
  await sendWrites(s, db, [{ write: authenticatedOnceWrite, rows }])
}

/** Everything of the account read once per transaction by the unit of work. */
export interface AccountSettings {
  /** own key per encryption */
  readonly ownKeys: ReadonlyMap<string, KeyId>
  readonly policies: ReadonlyMap<string, SecurityPolicy>
  /** whether the account has a postponed decision stored (of any encryption) */
  readonly hasPostponed: boolean
}

/** The account's own keys, security policies, and whether it has postponed decisions: one statement. */
export async function getAccountSettings(s: Scope, db: Db): Promise<AccountSettings> {
  const t = s.core.t
  const rows = await q(
    s,
    db,
    'getAccountSettings',
    (b) =>
      b
        .selectFrom(t.own_keys)
        .select([sql.lit('own').as('kind'), 'encryption', 'key_id as value'])
        .where('account', '=', arg(0))
        .unionAll(
          b
            .selectFrom(t.security_policies)
            .select([sql.lit('policy').as('kind'), 'encryption', 'policy as value'])
            .where('account', '=', arg(0)),
        )
        .unionAll(
          b
            .selectFrom(
              b.selectFrom(t.postponed).select('key_id').where('account', '=', arg(0)).limit(1).as('p'),
            )
            .select([sql.lit('postponed').as('kind'), 'key_id as encryption', 'key_id as value']),
        ),
    [s.account],
  )
  const ownKeys = new Map<string, KeyId>()
  const policies = new Map<string, SecurityPolicy>()
  let hasPostponed = false
  for (const r of rows) {
    if (r.kind === 'own') ownKeys.set(r.encryption, r.value as KeyId)
    else if (r.kind === 'policy') policies.set(r.encryption, r.value as SecurityPolicy)
    else hasPostponed = true
  }
  return { ownKeys, policies, hasPostponed }
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
