/** D-9: the SCE time of the last decision applied per (sender key, owner, key id). */
import type { EncryptionNamespace, KeyId } from '@vouch/tm-core/contracts'
import { arg } from './compiled.ts'
import { chunks, type Db, q, type Scope, TEMPLATE_ROWS } from './context.ts'
import type { LastAppliedRow } from './unit-of-work.ts'

export async function getLastApplied(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  senderKey: KeyId,
  owner: string,
  keyId: KeyId,
): Promise<number | undefined> {
  const [row] = await q(
    s,
    db,
    'getLastApplied',
    (b) =>
      b
        .selectFrom(s.core.t.last_applied)
        .select('sce_time')
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1))
        .where('sender_key', '=', arg(2))
        .where('owner', '=', arg(3))
        .where('key_id', '=', arg(4)),
    [s.account, encryption, senderKey, owner, keyId],
  )
  return row === undefined ? undefined : Number(row.sce_time)
}

/**
 * Up to `limit` + 1 D-9 times of one sender key about one owner's keys, for the unit of work to
 * learn them at once: more than `limit` rows means it did not.
 */
export async function getLastAppliedOfOwner(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  senderKey: KeyId,
  owner: string,
  limit: number,
): Promise<readonly { key_id: string; sce_time: number }[]> {
  return q(
    s,
    db,
    'getLastAppliedOfOwner',
    (b) =>
      b
        .selectFrom(s.core.t.last_applied)
        .select(['key_id', 'sce_time'])
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1))
        .where('sender_key', '=', arg(2))
        .where('owner', '=', arg(3))
        .limit(arg<number>(4)),
    [s.account, encryption, senderKey, owner, limit + 1],
  )
}

type LastAppliedValues = {
  account: string
  encryption: string
  sender_key: string
  owner: string
  key_id: string
  sce_time: number
}

function lastAppliedUpsert(s: Scope, b: Db, rows: readonly LastAppliedValues[]) {
  return b
    .insertInto(s.core.t.last_applied)
    .values([...rows])
    .onConflict((oc) =>
      oc
        .columns(['account', 'encryption', 'sender_key', 'owner', 'key_id'])
        .doUpdateSet((eb) => ({ sce_time: eb.ref('excluded.sce_time') })),
    )
}

/** Stores the D-9 times of `rows` (one per sender key, owner and key id): the unit of work's flush. */
export async function writeLastApplied(s: Scope, db: Db, rows: readonly LastAppliedRow[]): Promise<void> {
  for (const part of chunks(rows)) {
    if (part.length <= TEMPLATE_ROWS) {
      // a template per row count: the account, then 5 values per row
      await q(
        s,
        db,
        `writeLastApplied:${part.length}`,
        (b) =>
          lastAppliedUpsert(
            s,
            b,
            part.map((_, i) => ({
              account: arg(0),
              encryption: arg(1 + 5 * i),
              sender_key: arg(2 + 5 * i),
              owner: arg(3 + 5 * i),
              key_id: arg(4 + 5 * i),
              sce_time: arg<number>(5 + 5 * i),
            })),
          ),
        [s.account, ...part.flatMap((r) => [r.encryption, r.senderKey, r.owner, r.keyId, r.sceTime])],
      )
      continue
    }
    await lastAppliedUpsert(
      s,
      db,
      part.map((r) => ({
        account: s.account,
        encryption: r.encryption,
        sender_key: r.senderKey,
        owner: r.owner,
        key_id: r.keyId,
        sce_time: r.sceTime,
      })),
    ).execute()
  }
}
