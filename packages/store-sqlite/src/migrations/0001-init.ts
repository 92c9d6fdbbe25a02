import { type Kysely, type Migration, sql } from 'kysely'
import type { TableNames } from '../sql-core/schema.ts'

/**
 * Schema version 1: keys, own keys, security policies, authenticated-once flags (D-11),
 * postponed decisions (D-8), last-applied times (D-9) and backend state. Every primary key starts
 * with (account, encryption) (or (account, namespace)), so the lookups by owner and by sender key
 * use it directly. Small tables looked up only by their primary key are `WITHOUT ROWID`; `keys`
 * and `postponed` are ordinary rowid tables because SQLite's planner (3.53) ignores secondary
 * indexes on a `WITHOUT ROWID` table for these queries (checked with EXPLAIN QUERY PLAN), and
 * `backend_state` holds blobs, which `WITHOUT ROWID` handles badly.
 */
export function init(t: TableNames, prefix: string): Migration {
  const withoutRowid = sql`without rowid`
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable(t.keys)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('encryption', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('provenance', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'integer', (c) => c.notNull())
        .addColumn('changed_at', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}keys_pk`, ['account', 'encryption', 'owner', 'key_id'])
        .execute()
      // getKeys({ levels }) / hasKey(owner, levels) and the ATM engine's "all authenticated keys"
      await db.schema
        .createIndex(`${prefix}keys_by_level`)
        .on(t.keys)
        .columns(['account', 'encryption', 'level', 'owner'])
        .execute()
      // removeKeysById / getKeys({ keyIds }): key ids without the owner
      await db.schema
        .createIndex(`${prefix}keys_by_key_id`)
        .on(t.keys)
        .columns(['account', 'encryption', 'key_id'])
        .execute()

      await db.schema
        .createTable(t.own_keys)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('encryption', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}own_keys_pk`, ['account', 'encryption'])
        .modifyEnd(withoutRowid)
        .execute()

      await db.schema
        .createTable(t.security_policies)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('encryption', 'text', (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}security_policies_pk`, ['account', 'encryption'])
        .modifyEnd(withoutRowid)
        .execute()

      await db.schema
        .createTable(t.authenticated_once)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('encryption', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}authenticated_once_pk`, ['account', 'encryption', 'owner'])
        .modifyEnd(withoutRowid)
        .execute()

      await db.schema
        .createTable(t.postponed)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('encryption', 'text', (c) => c.notNull())
        .addColumn('sender_key', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('sender_jid', 'text', (c) => c.notNull())
        .addColumn('polarity', 'text', (c) => c.notNull().check(sql`polarity in ('trust', 'distrust')`))
        .addColumn('sce_time', 'integer', (c) => c.notNull())
        .addColumn('received_at', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}postponed_pk`, [
          'account',
          'encryption',
          'sender_key',
          'owner',
          'key_id',
        ])
        .execute()
      // removePostponed({ trust, distrust }) and getPostponed({ keyIds }): by key id (and polarity)
      await db.schema
        .createIndex(`${prefix}postponed_by_key_id`)
        .on(t.postponed)
        .columns(['account', 'encryption', 'key_id', 'polarity'])
        .execute()
      // per-sender cap: count and evict the oldest of one sender key
      await db.schema
        .createIndex(`${prefix}postponed_by_sender_time`)
        .on(t.postponed)
        .columns(['account', 'encryption', 'sender_key', 'sce_time', 'received_at'])
        .execute()

      await db.schema
        .createTable(t.last_applied)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('encryption', 'text', (c) => c.notNull())
        .addColumn('sender_key', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('sce_time', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}last_applied_pk`, [
          'account',
          'encryption',
          'sender_key',
          'owner',
          'key_id',
        ])
        .modifyEnd(withoutRowid)
        .execute()

      await db.schema
        .createTable(t.backend_state)
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'blob', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}backend_state_pk`, ['account', 'namespace', 'key'])
        .execute()
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        t.backend_state,
        t.last_applied,
        t.postponed,
        t.authenticated_once,
        t.security_policies,
        t.own_keys,
        t.keys,
      ]) {
        await db.schema.dropTable(table).execute()
      }
    },
  }
}
