/**
 * Bench data: `n` accounts in one database, each as ATM leaves it after discovering and
 * authenticating keys — an own key, four own-endpoint sender keys (authenticated: one per worker
 * process, so D-9 never sets two workers against each other), the D-11 flag, and a contact bob
 * with 8 automatically trusted keys. Written in bulk (the same rows on PostgreSQL and SQLite).
 */
import { type Atm, createAtm, NS_ATM, type ReceivedTrustMessage } from '@vouch/atm'
import type { BareJid, KeyId, TrustStore } from '@vouch/tm-core/contracts'
import { keyIdFromBytes, NS_OMEMO_2 } from '@vouch/tm-core'
import type pg from 'pg'

export const NS = NS_OMEMO_2
export const SENDERS = 4
export const BOB_KEYS = 8

function keyOf(account: number, tag: number, i: number): KeyId {
  const b = new Uint8Array(32)
  const v = new DataView(b.buffer)
  v.setUint32(0, account)
  v.setUint32(4, tag)
  v.setUint32(8, i)
  b[31] = 0x5a
  return keyIdFromBytes(b)
}

/**
 * One ATM engine per bench account on `store`, made on first use (the workers and the profile run
 * the same engines: OMEMO 2 keys, the clock of the machine).
 */
export function atmEngines(store: TrustStore): (i: number) => Atm {
  const omemo = { namespace: NS, capabilities: { oneKeyPerIdentity: false, keyIdLength: 32 } }
  const engines = new Map<number, Atm>()
  return (i) => {
    let atm = engines.get(i)
    if (atm === undefined) {
      const a = benchAccount(i)
      atm = createAtm({
        account: a.jid,
        store: store.forAccount(a.jid),
        backends: [omemo],
        now: () => Date.now(),
      })
      engines.set(i, atm)
    }
    return atm
  }
}

export interface BenchAccount {
  readonly jid: BareJid
  readonly own: KeyId
  readonly senders: readonly KeyId[]
  readonly bob: BareJid
  readonly bobKeys: readonly KeyId[]
}

export function benchAccount(i: number): BenchAccount {
  return {
    jid: `user${i}@example.org` as BareJid,
    own: keyOf(i, 0, 0),
    senders: Array.from({ length: SENDERS }, (_, k) => keyOf(i, 1, k)),
    bob: `bob${i % 100}@example.com` as BareJid,
    bobKeys: Array.from({ length: BOB_KEYS }, (_, k) => keyOf(i, 2, k)),
  }
}

/**
 * The `n`-th ATM trust message of a run for account `a`, from own endpoint `worker` (its own
 * authenticated sender key): about one of bob's keys in turn, trusting it for one round of the
 * keys, distrusting it for the next, so that each message changes the key's level; sent at
 * `sceTime` (default: a fixed time plus `n`, for a run on fresh data).
 */
export function atmMessage(
  a: BenchAccount,
  n: number,
  worker: number,
  sceTime = Date.UTC(2025, 0, 1) + n,
): ReceivedTrustMessage {
  const keyId = a.bobKeys[n % a.bobKeys.length] as KeyId
  const trust = Math.floor(n / a.bobKeys.length) % 2 === 0
  return {
    message: {
      usage: NS_ATM,
      encryption: NS,
      keyOwners: [{ jid: a.bob, trust: trust ? [keyId] : [], distrust: trust ? [] : [keyId] }],
    },
    senderJid: `${a.jid}/worker${worker}` as BareJid,
    senderKey: a.senders[worker] as KeyId,
    carrier: NS,
    encrypted: true,
    sceTime,
  }
}

type KeyRow = [string, string, string, string, string, string, number, number]

function rows(accounts: number): {
  keys: KeyRow[]
  own: [string, string, string][]
  once: [string, string, string][]
} {
  const keys: KeyRow[] = []
  const own: [string, string, string][] = []
  const once: [string, string, string][] = []
  const prov = JSON.stringify({ kind: 'manual' })
  for (let i = 0; i < accounts; i++) {
    const a = benchAccount(i)
    own.push([a.jid, NS, a.own])
    once.push([a.jid, NS, a.jid])
    for (const s of a.senders) keys.push([a.jid, NS, a.jid, s, 'authenticated', prov, 1, 1])
    for (const k of a.bobKeys) keys.push([a.jid, NS, a.bob, k, 'automatically-trusted', prov, 1, 1])
  }
  return { keys, own, once }
}

/** Fills a migrated PostgreSQL store (tables `prefix…`). */
export async function fillPostgres(pool: pg.Pool, prefix: string, accounts: number): Promise<void> {
  const { keys, own, once } = rows(accounts)
  const col = <T>(r: readonly T[][], i: number) => r.map((x) => x[i])
  for (let i = 0; i < keys.length; i += 20_000) {
    const part = keys.slice(i, i + 20_000)
    await pool.query(
      `insert into ${prefix}keys select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])`,
      [0, 1, 2, 3, 4, 5, 6, 7].map((c) => col(part, c)),
    )
  }
  await pool.query(`insert into ${prefix}own_keys select * from unnest($1::text[], $2::text[], $3::text[])`, [
    col(own, 0),
    col(own, 1),
    col(own, 2),
  ])
  await pool.query(
    `insert into ${prefix}authenticated_once select * from unnest($1::text[], $2::text[], $3::text[])`,
    [col(once, 0), col(once, 1), col(once, 2)],
  )
  for (const t of ['keys', 'own_keys', 'authenticated_once']) await pool.query(`analyze ${prefix}${t}`)
}

/** The part of a better-sqlite3 database the filler uses. */
export interface SqliteLike {
  prepare(sql: string): { run(...args: unknown[]): unknown }
  exec(sql: string): unknown
}

/** Fills a migrated SQLite store (tables `prefix…`). */
export function fillSqlite(db: SqliteLike, prefix: string, accounts: number): void {
  const { keys, own, once } = rows(accounts)
  const k = db.prepare(`insert into ${prefix}keys values (?, ?, ?, ?, ?, ?, ?, ?)`)
  const o = db.prepare(`insert into ${prefix}own_keys values (?, ?, ?)`)
  const a = db.prepare(`insert into ${prefix}authenticated_once values (?, ?, ?)`)
  db.exec('begin')
  for (const r of keys) k.run(...r)
  for (const r of own) o.run(...r)
  for (const r of once) a.run(...r)
  db.exec('commit')
  db.exec('analyze')
}
