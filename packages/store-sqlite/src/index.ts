/**
 * @packageDocumentation
 * @vouch/store-sqlite: SQLite TrustStore on kysely + better-sqlite3 (bring your own database)
 */
export {}
