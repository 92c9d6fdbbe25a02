import type { Kysely, Migration } from 'kysely'
import type { TableNames } from '../sql-core/schema.ts'

/**
 * Schema version 2: the indexes the per-sender-JID and per-account caps on postponed decisions
 * need (`TrustStoreLimits.maxPostponedPerSenderJid`, `maxPostponedPerAccount`). Each one counts a
 * group and finds its oldest decisions without reading the rest of the table (checked with
 * EXPLAIN QUERY PLAN in test/open.test.ts), as `postponed_by_sender_time` does for one sender key.
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
