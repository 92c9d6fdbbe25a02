/**
 * Postponed decisions (ATM-P1, D-8) and their caps. Which decision wins, which group is capped
 * next and which decisions go are the shared rules of `@vouch/tm-core` (store-postponed.ts);
 * this module finds, counts and deletes them with the group's time index.
 */
import type {
  AddPostponedResult,
  EncryptionNamespace,
  KeyId,
  MergedPostponed,
  Polarity,
  PostponedDecision,
  PostponedGroup,
  PostponedGroupKind,
  PostponedQuery,
} from '@vouch/tm-core'
import {
  comparePostponed,
  oldestToEvict,
  postponedCaps,
  postponedIdentity,
  postponedResult,
  touchedGroups,
} from '@vouch/tm-core'
import { StoreError } from '@vouch/tm-core/contracts'
import { sql, type SqlBool } from 'kysely'
import { arg } from './compiled.ts'
import { chunks, type Db, listParam, q, type Scope, TEMPLATE_ROWS, toPostponed } from './context.ts'
import type { PostponedTable } from './schema.ts'

/**
 * The columns (after `account`) that identify one group of each cap, in the order of
 * `PostponedGroup.values`; each group has its time index (migrations 0001, 0002).
 */
const GROUP_COLUMNS = {
  senderKey: ['encryption', 'sender_key'],
  senderJid: ['encryption', 'sender_jid'],
  account: [],
} as const satisfies Record<PostponedGroupKind, readonly (keyof PostponedTable)[]>

/** Upsert of decisions: replaces a stored one unless it has a newer sceTime (`replacesStored`). */
function upsert(s: Scope, b: Db, account: string, rows: readonly PostponedDecision[]) {
  const t = s.core.t
  return b
    .insertInto(t.postponed)
    .values(
      rows.map((d) => ({
        account,
        encryption: d.encryption,
        sender_key: d.senderKey,
        owner: d.owner,
        key_id: d.keyId,
        sender_jid: d.senderJid,
        polarity: d.polarity,
        sce_time: d.sceTime,
        received_at: d.receivedAt,
      })),
    )
    .onConflict((oc) =>
      oc
        .columns(['account', 'encryption', 'sender_key', 'owner', 'key_id'])
        .doUpdateSet((eb) => ({
          sender_jid: eb.ref('excluded.sender_jid'),
          polarity: eb.ref('excluded.polarity'),
          sce_time: eb.ref('excluded.sce_time'),
          received_at: eb.ref('excluded.received_at'),
        }))
        .where(sql<SqlBool>`${sql.ref(`${t.postponed}.sce_time`)} <= excluded.sce_time`),
    )
    .returning(['encryption', 'sender_key', 'owner', 'key_id'])
}

/** Stores the winners of the call's D-8 merge; returns the D-8 identities actually written. */
async function store(s: Scope, db: Db, winners: readonly PostponedDecision[]): Promise<Set<string>> {
  const written = new Set<string>()
  for (const part of chunks(winners)) {
    // Up to TEMPLATE_ROWS rows: a template with the values account, then the 8 fields of each
    // decision; more: built with the values.
    const rows =
      part.length <= TEMPLATE_ROWS
        ? await q(
            s,
            db,
            `addPostponed:${part.length}`,
            (b) =>
              upsert(
                s,
                b,
                arg(0),
                part.map((_, i) => ({
                  encryption: arg(1 + 8 * i),
                  senderKey: arg(2 + 8 * i),
                  owner: arg(3 + 8 * i),
                  keyId: arg(4 + 8 * i),
                  senderJid: arg(5 + 8 * i),
                  polarity: arg<Polarity>(6 + 8 * i),
                  sceTime: arg<number>(7 + 8 * i),
                  receivedAt: arg<number>(8 + 8 * i),
                })),
              ),
            [
              s.account,
              ...part.flatMap((d) => [
                d.encryption,
                d.senderKey,
                d.owner,
                d.keyId,
                d.senderJid,
                d.polarity,
                d.sceTime,
                d.receivedAt,
              ]),
            ],
          )
        : await upsert(s, db, s.account, part).execute()
    for (const r of rows) {
      const key = { encryption: r.encryption, senderKey: r.sender_key, owner: r.owner, keyId: r.key_id }
      written.add(postponedIdentity(key as PostponedDecision))
    }
  }
  return written
}

/**
 * The contract's `addPostponed` after the D-8 merge within the call (`merged`, not empty): the
 * upsert (step 2), then the caps in the contract's order, each on what the previous one left.
 * The account's count comes first: no group holds more than the account, so a group is counted
 * only when the account is over the group's cap.
 */
export async function addPostponed(s: Scope, db: Db, merged: MergedPostponed): Promise<AddPostponedResult> {
  const { winners, ignored } = merged
  const written = await store(s, db, [...winners.values()])
  const stored: PostponedDecision[] = []
  for (const [k, d] of winners) {
    if (written.has(k)) stored.push(d)
    else ignored.push(d)
  }
  const evicted: PostponedDecision[] = []
  if (stored.length > 0) {
    let total = await countGroup(s, db, { kind: 'account', values: [] })
    for (const cap of postponedCaps(s.core.limits)) {
      if (total <= cap.max) continue
      for (const group of touchedGroups(cap.kind, stored)) {
        const count = group.kind === 'account' ? total : await countGroup(s, db, group)
        if (count <= cap.max) continue
        const victims = await evictOldest(s, db, group, count, cap.max)
        total -= victims.length
        evicted.push(...victims)
      }
    }
  }
  return postponedResult(stored, ignored, evicted)
}

/** `where` of one group: values 0 (the account), 1 … n (the group's columns). */
function inGroup(s: Scope, b: Db, kind: PostponedGroupKind) {
  let sel = b.selectFrom(s.core.t.postponed).where('account', '=', arg(0))
  for (const [i, c] of GROUP_COLUMNS[kind].entries()) sel = sel.where(c, '=', arg(1 + i))
  return sel
}

async function countGroup(s: Scope, db: Db, group: PostponedGroup): Promise<number> {
  const [count] = await q(
    s,
    db,
    `countPostponed:${group.kind}`,
    (b) => inGroup(s, b, group.kind).select((eb) => eb.fn.countAll<number>().as('n')),
    [s.account, ...group.values],
  )
  if (count === undefined) throw new StoreError('addPostponed: COUNT returned no row')
  return Number(count.n)
}

/**
 * Deletes and returns the oldest decisions of a group of `count` beyond `max` (`oldestToEvict`).
 * Reads only the candidates: the rows up to the (sceTime, receivedAt) of the last one to go,
 * found through the group's time index.
 */
async function evictOldest(
  s: Scope,
  db: Db,
  group: PostponedGroup,
  count: number,
  max: number,
): Promise<PostponedDecision[]> {
  const n = group.values.length
  const groupValues = [s.account, ...group.values]
  // the (sceTime, receivedAt) of the over-th oldest: every decision to evict is at or before it
  const [edge] = await q(
    s,
    db,
    `postponedEdge:${group.kind}`,
    (b) =>
      inGroup(s, b, group.kind)
        .select(['sce_time', 'received_at'])
        .orderBy('sce_time')
        .orderBy('received_at')
        .limit(1)
        .offset(arg<number>(1 + n)),
    [...groupValues, count - max - 1],
  )
  if (edge === undefined) throw new StoreError('addPostponed: the rows to evict vanished')
  const candidates = await q(
    s,
    db,
    `postponedUpTo:${group.kind}`,
    (b) =>
      inGroup(s, b, group.kind)
        .selectAll()
        .where(sql<SqlBool>`(sce_time, received_at) <= (${arg<number>(1 + n)}, ${arg<number>(2 + n)})`),
    [...groupValues, edge.sce_time, edge.received_at],
  )
  const victims = oldestToEvict(candidates.map(toPostponed), count, max)
  for (const v of victims) {
    await q(
      s,
      db,
      'evictPostponed',
      (b) =>
        b
          .deleteFrom(s.core.t.postponed)
          .where('account', '=', arg(0))
          .where('encryption', '=', arg(1))
          .where('sender_key', '=', arg(2))
          .where('owner', '=', arg(3))
          .where('key_id', '=', arg(4)),
      [s.account, v.encryption, v.senderKey, v.owner, v.keyId],
    )
  }
  return victims
}

export async function getPostponed(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  query: PostponedQuery,
): Promise<readonly PostponedDecision[]> {
  const { senderKeys, keyIds, polarity } = query
  if (senderKeys?.length === 0 || keyIds?.length === 0) return []
  const sk = senderKeys !== undefined
  const k = keyIds !== undefined
  const p = polarity !== undefined
  const { t, dialect } = s.core
  const rows = await q(
    s,
    db,
    `getPostponed:${+sk}${+k}${+p}`,
    (b) => {
      let sel = b
        .selectFrom(t.postponed)
        .selectAll()
        .where('account', '=', arg(0))
        .where('encryption', '=', arg(1))
      if (sk) sel = sel.where(dialect.inList('sender_key', arg(2)))
      if (k) sel = sel.where(dialect.inList('key_id', arg(3)))
      if (p) sel = sel.where('polarity', '=', arg<Polarity>(4))
      return sel
    },
    [s.account, encryption, listParam(s, senderKeys), listParam(s, keyIds), polarity],
  )
  return rows.map(toPostponed).sort(comparePostponed)
}

export async function removePostponed(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  keyIds: { readonly trust?: readonly KeyId[]; readonly distrust?: readonly KeyId[] },
): Promise<void> {
  const { t, dialect } = s.core
  for (const polarity of ['trust', 'distrust'] as const) {
    const ids = keyIds[polarity]
    if (ids === undefined || ids.length === 0) continue
    await q(
      s,
      db,
      'removePostponed',
      (b) =>
        b
          .deleteFrom(t.postponed)
          .where('account', '=', arg(0))
          .where('encryption', '=', arg(1))
          .where('polarity', '=', arg<Polarity>(2))
          .where(dialect.inList('key_id', arg(3))),
      [s.account, encryption, polarity, dialect.list(ids)],
    )
  }
}

export async function removePostponedBySenders(
  s: Scope,
  db: Db,
  encryption: EncryptionNamespace,
  senderKeys: readonly KeyId[] | undefined,
): Promise<void> {
  if (senderKeys?.length === 0) return
  const sk = senderKeys !== undefined
  const { t, dialect } = s.core
  await q(
    s,
    db,
    `removePostponedBySenders:${+sk}`,
    (b) => {
      let del = b.deleteFrom(t.postponed).where('account', '=', arg(0)).where('encryption', '=', arg(1))
      if (sk) del = del.where(dialect.inList('sender_key', arg(2)))
      return del
    },
    [s.account, encryption, listParam(s, senderKeys)],
  )
}
