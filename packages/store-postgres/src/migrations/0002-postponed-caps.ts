import type { TableNames } from '@vouch/store-sqlite/sql-core'
import type { Kysely, Migration } from 'kysely'

/**
 * Schema version 2, as `@vouch/store-sqlite`'s `0002-postponed-caps`: the indexes the
 * per-sender-JID and per-account caps on postponed decisions count and evict with.
 */
export function postponedCaps(t: TableNames, prefix: string): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createIndex(`${prefix}postponed_by_sender_jid_time`)
        .on(t.postponed)
        .columns(['account', 'encryption', 'sender_jid', 'sce_time', 'received_at'])
        .execute()
      await db.schema
        .createIndex(`${prefix}postponed_by_time`)
        .on(t.postponed)
        .columns(['account', 'sce_time', 'received_at'])
        .execute()
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex(`${prefix}postponed_by_time`).execute()
      await db.schema.dropIndex(`${prefix}postponed_by_sender_jid_time`).execute()
    },
  }
}
