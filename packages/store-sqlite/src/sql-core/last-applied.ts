/** D-9: the SCE time of the last decision applied per (sender key, owner, key id). */
import type { EncryptionNamespace, KeyId } from '@vouch/tm-core/contracts'
import { arg } from './compiled.ts'
import { type Db, q, type Scope } from './context.ts'

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

export async function setLastApplied(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  senderKey: KeyId,
  owner: string,
  keyId: KeyId,
  sceTime: number,
): Promise<void> {
  await q(
    s,
    db,
    'setLastApplied',
    (b) =>
      b
        .insertInto(s.core.t.last_applied)
        .values({
          account: arg(0),
          encryption: arg(1),
          sender_key: arg(2),
          owner: arg(3),
          key_id: arg(4),
          sce_time: arg<number>(5),
        })
        .onConflict((oc) =>
          oc
            .columns(['account', 'encryption', 'sender_key', 'owner', 'key_id'])
            .doUpdateSet({ sce_time: arg<number>(5) }),
        ),
    [s.account, encryption, senderKey, owner, keyId, sceTime],
  )
}
