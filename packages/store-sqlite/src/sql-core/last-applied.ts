/** D-9: the SCE time of the last decision applied per (sender key, owner, key id). */
import type { EncryptionNamespace, KeyId } from '@vouch/tm-core/contracts'
import { arg } from './compiled.ts'
import { type Db, q, type Scope } from './context.ts'
import type { LastAppliedRow } from './unit-of-work.ts'
import type { RowWrite } from './writes.ts'

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

/** D-9 times (one per sender key, owner and key id): insert or overwrite. */
export const lastAppliedWrite: RowWrite<LastAppliedRow> = {
  name: 'lastApplied',
  width: 5,
  build: (s, b, n, at) =>
    b
      .insertInto(s.core.t.last_applied)
      .values(
        Array.from({ length: n }, (_, i) => ({
          account: arg(0),
          encryption: at(i, 0),
          sender_key: at(i, 1),
          owner: at(i, 2),
          key_id: at(i, 3),
          sce_time: at<number>(i, 4),
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['account', 'encryption', 'sender_key', 'owner', 'key_id'])
          .doUpdateSet((eb) => ({ sce_time: eb.ref('excluded.sce_time') })),
      ),
  values: (r) => [r.encryption, r.senderKey, r.owner, r.keyId, r.sceTime],
}
