import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDatabase as KyselySqliteDatabase,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely'

/**
 * kysely's SQLite driver with two changes:
 * - transactions start with `BEGIN IMMEDIATE`, so a transaction takes the write lock up front and
 *   waits (busy timeout) for another process's writer instead of failing with SQLITE_BUSY when
 *   it upgrades from reading to writing half-way (which no busy handler can resolve);
 * - the adapter declares transactional DDL (SQLite has it), so migrations run in one transaction.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'))
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }
}

export class VouchSqliteDialect extends SqliteDialect {
  readonly #database: KyselySqliteDatabase
  constructor(database: KyselySqliteDatabase) {
    super({ database })
    this.#database = database
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database })
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter()
  }
}

/** Transaction control by kysely's driver and by the store's savepoints (`vouch_sp_<n>`, n < 100). */
const CONTROL = /^(begin immediate|commit|rollback|(savepoint|release|rollback to) vouch_sp_[1-9][0-9]?)$/

/**
 * Wraps a better-sqlite3 database: caches prepared statements by SQL text (kysely prepares every
 * query again, which costs more than running it), and closes the database only if we opened it.
 * Our queries pass lists as one JSON parameter, so the SQL texts are few and the cache stays small.
 */
export class CachingDatabase implements KyselySqliteDatabase {
  readonly #db: KyselySqliteDatabase
  readonly #owned: boolean
  readonly #cache = new Map<string, SqliteStatement>()
  /** transaction control statements (at most 3 + 3 × 99 texts), kept apart from `#cache` */
  readonly #control = new Map<string, SqliteStatement>()
  readonly #max: number
  constructor(db: KyselySqliteDatabase, owned: boolean, max = 200) {
    this.#db = db
    this.#owned = owned
    this.#max = max
  }
  prepare(sql: string): SqliteStatement {
    let stmt = this.#cache.get(sql)
    if (stmt === undefined && CONTROL.test(sql)) {
      // As better-sqlite3's own `transaction()`, which prepares BEGIN/COMMIT/SAVEPOINT once.
      stmt = this.#control.get(sql)
      if (stmt === undefined) {
        stmt = this.#db.prepare(sql)
        this.#control.set(sql, stmt)
      }
      return stmt
    }
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql)
      // DDL and other statements are not cached: they are rare and must see the current schema.
      if (/^\s*(select|insert|update|delete|with)\b/i.test(sql)) {
        if (this.#cache.size >= this.#max) {
          const oldest = this.#cache.keys().next()
          if (oldest.done !== true) this.#cache.delete(oldest.value)
        }
        this.#cache.set(sql, stmt)
      }
    }
    return stmt
  }
  close(): void {
    this.#cache.clear()
    this.#control.clear()
    if (this.#owned) this.#db.close()
  }
}
