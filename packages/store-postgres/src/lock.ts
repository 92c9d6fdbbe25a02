import { createHash } from 'node:crypto'

/**
 * The `pg_advisory_xact_lock` key of one account of one store: the first 8 bytes of
 * SHA-256(table prefix, NUL, account) as a signed 64-bit integer (decimal text). The prefix keeps
 * two stores in one database (different prefixes) apart; two accounts that collide (2⁻⁶⁴) only
 * wait for each other, which is still correct.
 */
export function accountLockKey(tablePrefix: string, account: string): string {
  const digest = createHash('sha256').update(`${tablePrefix}\u0000${account}`, 'utf8').digest()
  return digest.readBigInt64BE(0).toString()
}
