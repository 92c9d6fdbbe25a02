/**
 * Many accounts in one database: every statement the store runs for one account is an index
 * lookup or index range of that account (no sequential scan of a table shared by 10,000
 * accounts), so per-account operations cost the same at 10 and at 10,000 accounts (the
 * benchmark shows the times). Checked with PostgreSQL's planner: every statement the store runs
 * while a workload of every store method is applied to one account is EXPLAINed, with its real
 * parameters, against tables holding 10,000 accounts (analysed).
 */
import type { BareJid, KeyId, TrustStore } from '@vouch/tm-core/contracts'
import { type CompiledQuery, Kysely, type LogEvent, PostgresDialect } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropTrustTables, postgresStore, type TrustDb } from '../src/index.ts'
import { freshPrefix, NO_PG, NS, SKIP, testPool } from './helpers.ts'

const ACCOUNTS = 10_000
const ctx = (at: number) => ({ provenance: { kind: 'manual' as const }, at })

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  Plans?: PlanNode[]
}

function scans(node: PlanNode, out: string[] = []): string[] {
  if (node['Node Type'] === 'Seq Scan') out.push(`Seq Scan on ${node['Relation Name']}`)
  for (const child of node.Plans ?? []) scans(child, out)
  return out
}

describe.skipIf(NO_PG)(`${ACCOUNTS.toLocaleString('en')} accounts in one database ${SKIP}`, () => {
  const prefix = freshPrefix()
  const logged: CompiledQuery[] = []
  let store: TrustStore
  let db: Kysely<TrustDb>

  beforeAll(async () => {
    const pool = testPool()
    db = new Kysely<TrustDb>({
      dialect: new PostgresDialect({ pool }),
      log: (e: LogEvent) => {
        if (e.level === 'query') logged.push(e.query)
      },
    })
    store = await postgresStore({ database: db, tablePrefix: prefix })
    // 10,000 accounts × 20 keys of 4 owners, 6 postponed decisions, 8 last-applied times, 3 state entries
    const q = (text: string) => pool.query(text)
    await q(`insert into ${prefix}keys
      select 'user' || a || '@example.org', '${NS}', 'owner' || (k % 4) || '@example.com', 'key-' || k,
             (array['undecided','automatically-trusted','authenticated','manually-distrusted'])[1 + k % 4],
             '{"kind":"manual"}', 1, 1
      from generate_series(1, ${ACCOUNTS}) a, generate_series(1, 20) k`)
    await q(`insert into ${prefix}postponed
      select 'user' || a || '@example.org', '${NS}', 'sender-' || (p % 2), 'owner1@example.com', 'pk-' || p,
             'user' || a || '@example.org', case when p % 3 = 0 then 'distrust' else 'trust' end, p, p
      from generate_series(1, ${ACCOUNTS}) a, generate_series(1, 6) p`)
    await q(`insert into ${prefix}last_applied
      select 'user' || a || '@example.org', '${NS}', 'sender-0', 'owner0@example.com', 'key-' || k, k
      from generate_series(1, ${ACCOUNTS}) a, generate_series(1, 8) k`)
    await q(`insert into ${prefix}backend_state
      select 'user' || a || '@example.org', 'ns', 'session:' || s, '\\x0102'::bytea
      from generate_series(1, ${ACCOUNTS}) a, generate_series(1, 3) s`)
    await q(`insert into ${prefix}authenticated_once
      select 'user' || a || '@example.org', '${NS}', 'owner2@example.com' from generate_series(1, ${ACCOUNTS}) a`)
    for (const t of ['keys', 'postponed', 'last_applied', 'backend_state', 'authenticated_once'])
      await q(`analyze ${prefix}${t}`)
  }, 120_000)

  afterAll(async () => {
    // (db is not destroyed: that would end the file's shared pool; the store leaves a given Kysely alone)
    await store?.close()
    await dropTrustTables({ database: testPool(), tablePrefix: prefix })
  })

  it('every statement of every store method for one account uses an index of that account (no Seq Scan)', async () => {
    const me = store.forAccount('user5000@example.org' as BareJid)
    const owner = 'owner1@example.com' as BareJid
    const k = (s: string) => s as KeyId
    logged.length = 0
    await me.getOwnKey(NS)
    await me.setOwnKey(NS, k('own'))
    await me.getSecurityPolicy(NS)
    await me.setSecurityPolicy(NS, 'authenticated-only')
    await me.wasAuthenticatedOnce(NS, 'owner2@example.com' as BareJid)
    await me.getTrustLevel(NS, owner, k('key-1'))
    await me.getKey(NS, owner, k('key-5'))
    await me.getKeys(NS)
    await me.getKeys(NS, { levels: ['authenticated'] })
    await me.getKeys(NS, { owners: [owner] })
    await me.getKeys(NS, { keyIds: [k('key-1'), k('key-2')] })
    await me.hasKey(NS, owner, ['authenticated'])
    await me.addKeys(NS, owner, [k('new-1'), k('new-2')], ctx(2))
    await me.setTrustLevels(NS, [{ owner, keyIds: [k('key-1'), k('new-1')], level: 'authenticated' }], ctx(3))
    await me.changeTrustLevels(NS, [owner], 'automatically-trusted', 'automatically-distrusted', ctx(4))
    await me.addPostponed(
      Array.from({ length: 3 }, (_, i) => ({
        encryption: NS,
        senderKey: k('sender-0'),
        senderJid: 'user5000@example.org' as BareJid,
        owner,
        keyId: k(`pk-new-${i}`),
        polarity: 'trust' as const,
        sceTime: 100 + i,
        receivedAt: 100 + i,
      })),
    )
    await me.getPostponed(NS, { senderKeys: [k('sender-0')] })
    await me.getPostponed(NS, { keyIds: [k('pk-1')] })
    await me.removePostponed(NS, { trust: [k('pk-1')], distrust: [k('pk-3')] })
    await me.removePostponedBySenders(NS, [k('sender-1')])
    await me.getLastApplied(NS, k('sender-0'), 'owner0@example.com' as BareJid, k('key-3'))
    await me.setLastApplied(NS, k('sender-0'), 'owner0@example.com' as BareJid, k('key-3'), 50)
    await me.getState('ns', 'session:1')
    await me.setState('ns', 'session:9', new Uint8Array([9]))
    await me.listState('ns', 'session:')
    await me.deleteState('ns', 'session:9')
    await me.removeKeysById(NS, [k('new-2')])
    await me.removeKeys(NS, owner, [k('new-1')])
    await me.resetAuthenticatedOnce(NS, 'owner2@example.com' as BareJid)

    const statements = logged.filter((c) => /^\s*(select|insert|update|delete|with)\b/i.test(c.sql))
    const checked = statements.filter((c) => !/pg_advisory_xact_lock|set_config/.test(c.sql))
    expect(checked.length).toBeGreaterThan(25)
    const problems: string[] = []
    const pool = testPool()
    for (const c of checked) {
      const { rows } = await pool.query(`explain (format json) ${c.sql}`, [...c.parameters])
      const plan = (rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]?.Plan as PlanNode
      for (const s of scans(plan)) problems.push(`${s}: ${c.sql}`)
    }
    expect(problems).toEqual([])
  }, 60_000)

  it('accounts stay apart at this size: another account sees none of it', async () => {
    const other = store.forAccount('user4999@example.org' as BareJid)
    expect(await other.getOwnKey(NS)).toBeUndefined()
    expect(await other.getKeys(NS)).toHaveLength(20)
    const { rows } = await testPool().query(`select count(distinct account)::int as n from ${prefix}keys`)
    expect(rows[0].n).toBe(ACCOUNTS)
  })
})
