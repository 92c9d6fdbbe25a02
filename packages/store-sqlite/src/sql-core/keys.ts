/** Keys and their trust levels. */
import type {
  BareJid,
  ChangeContext,
  EncryptionNamespace,
  KeyId,
  KeyQuery,
  KeyRecord,
  LevelChange,
  TrustLevel,
} from '@vouch/tm-core/contracts'
import { compareKeys } from '@vouch/tm-core'
import { arg } from './compiled.ts'
import { chunks, type Db, listParam, q, type Scope, toKeyRecord, unique } from './context.ts'
import { markAuthenticated } from './settings.ts'
import type { KeyRow } from './unit-of-work.ts'
import type { RowWrite } from './writes.ts'

/** The `KeyRecord`s added (keys already known are left alone). */
export async function addKeys(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owner: BareJid,
  keyIds: readonly KeyId[],
  ctx: ChangeContext,
  level: TrustLevel,
): Promise<readonly KeyRecord[]> {
  const provenance = JSON.stringify(ctx.provenance)
  const added: KeyRecord[] = []
  for (const part of chunks(unique(keyIds))) {
    const rows = await db
      .insertInto(s.core.t.keys)
      .values(
        part.map((keyId) => ({
          account: s.account,
          encryption,
          owner,
          key_id: keyId,
          level,
          provenance,
          first_seen: ctx.at,
          changed_at: ctx.at,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .execute()
    for (const row of rows) added.push(toKeyRecord(row))
  }
  if (level === 'authenticated' && added.length > 0) await markAuthenticated(s, db, encryption, [owner])
  return added.sort(compareKeys)
}

export async function getKey(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owner: BareJid,
  keyId: KeyId,
): Promise<KeyRecord | undefined> {
  const [row] = await q(
    s,
    db,
    'getKey',
    (b) =>
      b
        .selectFrom(s.core.t.keys)
        .selectAll()
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1))
        .where('owner', '=', arg(2))
        .where('key_id', '=', arg(3)),
    [s.account, encryption, owner, keyId],
  )
  return row === undefined ? undefined : toKeyRecord(row)
}

export async function getTrustLevel(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owner: BareJid,
  keyId: KeyId,
): Promise<TrustLevel> {
  const [row] = await q(
    s,
    db,
    'getTrustLevel',
    (b) =>
      b
        .selectFrom(s.core.t.keys)
        .select('level')
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1))
        .where('owner', '=', arg(2))
        .where('key_id', '=', arg(3)),
    [s.account, encryption, owner, keyId],
  )
  return row?.level ?? 'undecided'
}

export async function getKeys(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  query: KeyQuery,
): Promise<readonly KeyRecord[]> {
  const { owners, levels, keyIds } = query
  if (owners?.length === 0 || levels?.length === 0 || keyIds?.length === 0) return []
  const o = owners !== undefined
  const l = levels !== undefined
  const k = keyIds !== undefined
  const { t, dialect } = s.core
  const rows = await q(
    s,
    db,
    `getKeys:${+o}${+l}${+k}`,
    (b) => {
      let sel = b
        .selectFrom(t.keys)
        .selectAll()
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1))
      if (o) sel = sel.where(dialect.inList('owner', arg(2)))
      if (l) sel = sel.where(dialect.inList('level', arg(3)))
      if (k) sel = sel.where(dialect.inList('key_id', arg(4)))
      return sel
    },
    [s.account, encryption, listParam(s, owners), listParam(s, levels), listParam(s, keyIds)],
  )
  return rows.map(toKeyRecord).sort(compareKeys)
}

/**
 * Up to `limit` + 1 keys of `owners` (any level), for the unit of work to learn whole owners at
 * once: more than `limit` rows means it did not.
 */
export async function getOwnersKeys(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owners: readonly BareJid[],
  limit: number,
): Promise<readonly KeyRecord[]> {
  const { t, dialect } = s.core
  const rows = await q(
    s,
    db,
    'getOwnersKeys',
    (b) =>
      b
        .selectFrom(t.keys)
        .selectAll()
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1))
        .where(dialect.inList('owner', arg(2)))
        .limit(arg<number>(3)),
    [s.account, encryption, dialect.list(owners), limit + 1],
  )
  return rows.map(toKeyRecord)
}

export async function hasKey(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owner: BareJid,
  levels: readonly TrustLevel[] | undefined,
): Promise<boolean> {
  if (levels?.length === 0) return false
  const l = levels !== undefined
  const { t, dialect } = s.core
  const rows = await q(
    s,
    db,
    `hasKey:${+l}`,
    (b) => {
      let sel = b
        .selectFrom(t.keys)
        .select('key_id')
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1))
        .where('owner', '=', arg(2))
      if (l) sel = sel.where(dialect.inList('level', arg(3)))
      return sel.limit(1)
    },
    [s.account, encryption, owner, listParam(s, levels)],
  )
  return rows.length > 0
}

/** One target level per key: a key named twice gets the last level asked for. */
export function wantedLevels(
  changes: readonly LevelChange[],
): Map<string, { owner: BareJid; keyId: KeyId; level: TrustLevel }> {
  const wanted = new Map<string, { owner: BareJid; keyId: KeyId; level: TrustLevel }>()
  for (const change of changes) {
    for (const keyId of change.keyIds) {
      const k = JSON.stringify([change.owner, keyId])
      wanted.delete(k)
      wanted.set(k, { owner: change.owner, keyId, level: change.level })
    }
  }
  return wanted
}

/** Whole key rows (their new state, computed by the unit of work): insert or overwrite. */
export const keyRowWrite: RowWrite<KeyRow> = {
  name: 'keys',
  width: 7,
  build: (s, b, n, at) =>
    b
      .insertInto(s.core.t.keys)
      .values(
        Array.from({ length: n }, (_, i) => ({
          account: arg(0),
          encryption: at(i, 0),
          owner: at(i, 1),
          key_id: at(i, 2),
          level: at<TrustLevel>(i, 3),
          provenance: at(i, 4),
          first_seen: at<number>(i, 5),
          changed_at: at<number>(i, 6),
        })),
      )
      .onConflict((oc) =>
        oc.columns(['account', 'encryption', 'owner', 'key_id']).doUpdateSet((eb) => ({
          level: eb.ref('excluded.level'),
          provenance: eb.ref('excluded.provenance'),
          first_seen: eb.ref('excluded.first_seen'),
          changed_at: eb.ref('excluded.changed_at'),
        })),
      ),
  values: (r) => [
    r.record.encryption,
    r.record.owner,
    r.record.keyId,
    r.record.level,
    r.provenance,
    r.record.firstSeen,
    r.record.changedAt,
  ],
}

export async function removeKeys(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owner: BareJid,
  keyIds: readonly KeyId[] | undefined,
): Promise<void> {
  if (keyIds?.length === 0) return
  const { t, dialect } = s.core
  let del = db
    .deleteFrom(t.keys)
    .where('account', '=', s.account)
    .where('encryption', '=', encryption)
    .where('owner', '=', owner)
  if (keyIds !== undefined) del = del.where(dialect.inList('key_id', dialect.list(keyIds)))
  await del.execute()
}

export async function removeKeysById(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  keyIds: readonly KeyId[],
): Promise<void> {
  if (keyIds.length === 0) return
  const { t, dialect } = s.core
  await db
    .deleteFrom(t.keys)
    .where('account', '=', s.account)
    .where('encryption', '=', encryption)
    .where(dialect.inList('key_id', dialect.list(keyIds)))
    .execute()
}
