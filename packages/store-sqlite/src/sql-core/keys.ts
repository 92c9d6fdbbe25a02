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
import { chunks, type Db, listParam, q, type Scope, TEMPLATE_ROWS, toKeyRecord, unique } from './context.ts'
import { markAuthenticated } from './settings.ts'

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

type Head = { account: string; encryption: string; provenance: string; at: number }
type LevelRow = { owner: string; key_id: string; level: TrustLevel }

/** Upsert that only touches rows whose level differs; RETURNING yields new and changed rows. */
function levelUpsert(s: Scope, b: Db, head: Head, rows: readonly LevelRow[]) {
  const { t, dialect } = s.core
  return b
    .insertInto(t.keys)
    .values(
      rows.map((r) => ({
        account: head.account,
        encryption: head.encryption,
        owner: r.owner,
        key_id: r.key_id,
        level: r.level,
        provenance: head.provenance,
        first_seen: head.at,
        changed_at: head.at,
      })),
    )
    .onConflict((oc) =>
      oc
        .columns(['account', 'encryption', 'owner', 'key_id'])
        .doUpdateSet((eb) => ({
          level: eb.ref('excluded.level'),
          provenance: eb.ref('excluded.provenance'),
          changed_at: eb.ref('excluded.changed_at'),
        }))
        .where(dialect.distinct(`${t.keys}.level`, 'excluded.level')),
    )
    .returningAll()
}

/** `wanted` from {@link wantedLevels}, not empty: the records created or changed. */
export async function setTrustLevels(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  wanted: Map<string, { owner: BareJid; keyId: KeyId; level: TrustLevel }>,
  ctx: ChangeContext,
): Promise<readonly KeyRecord[]> {
  const provenance = JSON.stringify(ctx.provenance)
  const changed: KeyRecord[] = []
  for (const part of chunks([...wanted.values()])) {
    // Up to TEMPLATE_ROWS rows: a template with the values account, encryption, provenance, at,
    // then owner, key id, level of each row; more: built with the values.
    const rows =
      part.length <= TEMPLATE_ROWS
        ? await q(
            s,
            db,
            `setTrustLevels:${part.length}`,
            (b) =>
              levelUpsert(
                s,
                b,
                { account: arg(0), encryption: arg(1), provenance: arg(2), at: arg<number>(3) },
                part.map((_, i) => ({
                  owner: arg(4 + 3 * i),
                  key_id: arg(5 + 3 * i),
                  level: arg<TrustLevel>(6 + 3 * i),
                })),
              ),
            [s.account, encryption, provenance, ctx.at, ...part.flatMap((w) => [w.owner, w.keyId, w.level])],
          )
        : await levelUpsert(
            s,
            db,
            { account: s.account, encryption, provenance, at: ctx.at },
            part.map((w) => ({ owner: w.owner, key_id: w.keyId, level: w.level })),
          ).execute()
    for (const row of rows) changed.push(toKeyRecord(row))
  }
  // D-11: owners of keys this call made authenticated (an unchanged key does not count).
  await markAuthenticated(
    s,
    db,
    encryption,
    changed.filter((r) => r.level === 'authenticated').map((r) => r.owner),
  )
  return changed.sort(compareKeys)
}

export async function changeTrustLevels(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  owners: readonly BareJid[],
  from: TrustLevel,
  to: TrustLevel,
  ctx: ChangeContext,
): Promise<readonly KeyRecord[]> {
  const { t, dialect } = s.core
  const rows = await db
    .updateTable(t.keys)
    .set({ level: to, provenance: JSON.stringify(ctx.provenance), changed_at: ctx.at })
    .where('account', '=', s.account)
    .where('encryption', '=', encryption)
    .where('level', '=', from)
    .where(dialect.inList('owner', dialect.list(owners)))
    .returningAll()
    .execute()
  const changed = rows.map(toKeyRecord)
  if (to === 'authenticated') {
    await markAuthenticated(
      s,
      db,
      encryption,
      changed.map((r) => r.owner),
    )
  }
  return changed.sort(compareKeys)
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
