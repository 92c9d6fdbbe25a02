import type { TableNames } from '@vouch/store-sqlite/sql-core'
import { type Kysely, type Migration, sql } from 'kysely'

/** Text compared byte-wise on UTF-8 (code point order), as SQLite's BINARY collation and the core expect. */
export const TEXT = sql`text collate "C"`

/**
 * Schema version 1, the same tables, columns, keys and indexes as `@vouch/store-sqlite`'s
 * `0001-init` (so the versions share their numbers), in PostgreSQL types: text `COLLATE "C"`,
 * times (ms since the epoch) `bigint`, backend state `bytea`. Every primary key and index starts
 * with `account`, so each account's rows are one index range, whatever the number of accounts.
 */
export function init(t: TableNames, prefix: string): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable(t.keys)
        .addColumn('account', TEXT, (c) => c.notNull())
        .addColumn('encryption', TEXT, (c) => c.notNull())
        .addColumn('owner', TEXT, (c) => c.notNull())
        .addColumn('key_id', TEXT, (c) => c.notNull())
        .addColumn('level', TEXT, (c) => c.notNull())
        .addColumn('provenance', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}keys_pk`, ['account', 'encryption', 'owner', 'key_id'])
        .execute()
      await db.schema
        .createIndex(`${prefix}keys_by_level`)
        .on(t.keys)
        .columns(['account', 'encryption', 'level', 'owner'])
        .execute()
      await db.schema
        .createIndex(`${prefix}keys_by_key_id`)
        .on(t.keys)
        .columns(['account', 'encryption', 'key_id'])
        .execute()

      await db.schema
        .createTable(t.own_keys)
        .addColumn('account', TEXT, (c) => c.notNull())
        .addColumn('encryption', TEXT, (c) => c.notNull())
        .addColumn('key_id', TEXT, (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}own_keys_pk`, ['account', 'encryption'])
        .execute()

      await db.schema
        .createTable(t.security_policies)
        .addColumn('account', TEXT, (c) => c.notNull())
        .addColumn('encryption', TEXT, (c) => c.notNull())
        .addColumn('policy', TEXT, (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}security_policies_pk`, ['account', 'encryption'])
        .execute()

      await db.schema
        .createTable(t.authenticated_once)
        .addColumn('account', TEXT, (c) => c.notNull())
        .addColumn('encryption', TEXT, (c) => c.notNull())
        .addColumn('owner', TEXT, (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}authenticated_once_pk`, ['account', 'encryption', 'owner'])
        .execute()

      await db.schema
        .createTable(t.postponed)
        .addColumn('account', TEXT, (c) => c.notNull())
        .addColumn('encryption', TEXT, (c) => c.notNull())
        .addColumn('sender_key', TEXT, (c) => c.notNull())
        .addColumn('owner', TEXT, (c) => c.notNull())
        .addColumn('key_id', TEXT, (c) => c.notNull())
        .addColumn('sender_jid', TEXT, (c) => c.notNull())
        .addColumn('polarity', TEXT, (c) => c.notNull().check(sql`polarity in ('trust', 'distrust')`))
        .addColumn('sce_time', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}postponed_pk`, [
          'account',
          'encryption',
          'sender_key',
          'owner',
          'key_id',
        ])
        .execute()
      await db.schema
        .createIndex(`${prefix}postponed_by_key_id`)
        .on(t.postponed)
        .columns(['account', 'encryption', 'key_id', 'polarity'])
        .execute()
      await db.schema
        .createIndex(`${prefix}postponed_by_sender_time`)
        .on(t.postponed)
        .columns(['account', 'encryption', 'sender_key', 'sce_time', 'received_at'])
        .execute()

      await db.schema
        .createTable(t.last_applied)
        .addColumn('account', TEXT, (c) => c.notNull())
        .addColumn('encryption', TEXT, (c) => c.notNull())
        .addColumn('sender_key', TEXT, (c) => c.notNull())
        .addColumn('owner', TEXT, (c) => c.notNull())
        .addColumn('key_id', TEXT, (c) => c.notNull())
        .addColumn('sce_time', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${prefix}last_applied_pk`, [
          'account',
          'encryption',
          'sender_key',
          'owner',
          'key_id',
        ])
        .execute()

      await db.schema
        .createTable(t.backend_state)
        .addColumn('account', TEXT, (c) => c.notNull())
        .addColumn('namespace', TEXT, (c) => c.notNull())
        .addColumn('key', TEXT, (c) => c.notNull())
        .addColumn('value', 'bytea', (c) => c.notNull())
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
