/**
 * Concurrency, the reason this store exists: several worker processes handling trust messages for
 * the same accounts at once end exactly where handling them one by one ends — D-9 ordering per
 * (sender key, owner, key id), postponed decisions (D-8) and their release, the postponed caps —
 * with no lost update and no deadlock. Each message's transaction appends the message's id to
 * its account's log in backend state (same transaction), so the log is the order in which
 * PostgreSQL serialised the account's transactions; replaying every account's log one message at
 * a time on store-memory (the reference) must give exactly the state in PostgreSQL.
 *
 * CI size: 4 workers × 250 messages on 10 accounts (account locks) and 4 × 100 (SERIALIZABLE);
 * the full size, 4 × 1,000 with account locks, with `VOUCH_PG_CONCURRENCY_MESSAGES=1000`
 * (any n; `VOUCH_PG_SERIALIZABLE_MESSAGES=n` for the SERIALIZABLE run: at 4 × 1,000 on a loaded
 * 2-core machine one transaction was aborted 100 times in a row — see the README).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { memoryStore } from '@vouch/store-memory'
import type { TrustStore } from '@vouch/tm-core/contracts'
import { afterAll, describe, expect, it } from 'vitest'
import { dropTrustTables, migratePostgres, postgresStore } from '../src/index.ts'
import {
  accountKeys,
  applySequentially,
  dumpAccount,
  makeMessages,
  readLog,
  setUpAccounts,
  WORKLOAD_LIMITS,
  type WorkMessage,
} from './fixtures/workload.ts'
import { freshPrefix, NO_PG, PG_URL, SKIP, testPool } from './helpers.ts'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url))
const ACCOUNTS = 10
const WORKERS = 4
const SIZE = Number(process.env.VOUCH_PG_CONCURRENCY_MESSAGES ?? 0)
const SERIAL_SIZE = Number(process.env.VOUCH_PG_SERIALIZABLE_MESSAGES ?? 0)

interface Worker {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly exited: Promise<number | null>
  readonly messages: { mid?: number; done?: boolean; ms?: number }[]
  /** resolves with the id of the message whose transaction the worker stopped in */
  readonly mid: Promise<number>
}

function startWorker(args: Record<string, unknown>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(args)], {
    cwd: PACKAGE_DIR,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const messages: Worker['messages'] = []
  let ready = () => {}
  let mid = (_: number) => {}
  const worker: Worker = {
    child,
    messages,
    ready: new Promise<void>((r) => {
      ready = r
    }),
    mid: new Promise<number>((r) => {
      mid = r
    }),
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  }
  child.on('message', (m: { ready?: boolean; mid?: number; done?: boolean }) => {
    messages.push(m)
    if (m.ready === true) ready()
    if (m.mid !== undefined) mid(m.mid)
  })
  return worker
}

interface Run {
  readonly store: TrustStore
  readonly prefix: string
  readonly messages: readonly WorkMessage[]
  readonly workers: readonly Worker[]
}

/** Migrates and sets up fresh tables, starts the workers on their slices, and says go. */
async function run(
  concurrency: 'account-lock' | 'serializable',
  perWorker: number,
  killWorker?: { readonly index: number; readonly at: number },
): Promise<Run> {
  const url = PG_URL as string
  const prefix = freshPrefix()
  const seed = 0x5eed + perWorker
  await migratePostgres({ database: url, tablePrefix: prefix })
  const store = await postgresStore({ database: testPool(), tablePrefix: prefix, limits: WORKLOAD_LIMITS })
  await setUpAccounts(store, ACCOUNTS)
  const workers = Array.from({ length: WORKERS }, (_, w) =>
    startWorker({
      url,
      prefix,
      concurrency,
      seed,
      accounts: ACCOUNTS,
      first: w * perWorker,
      count: perWorker,
      ...(killWorker?.index === w ? { killAt: killWorker.at } : {}),
    }),
  )
  await Promise.all(workers.map((w) => w.ready))
  for (const w of workers) w.child.send('go')
  return { store, prefix, messages: makeMessages(seed, ACCOUNTS, WORKERS * perWorker), workers }
}

/** Replays every account's log on store-memory and compares every account's state. */
async function expectSequentialEquivalent(r: Run, perWorker: number, lost: ReadonlySet<number>) {
  const memory = memoryStore({ limits: WORKLOAD_LIMITS })
  await setUpAccounts(memory, ACCOUNTS)
  let interleavings = 0
  let logged = 0
  for (let i = 0; i < ACCOUNTS; i++) {
    const log = await readLog(r.store, i)
    logged += log.length
    // every message for this account exactly once (the killed one: never)
    const expected = r.messages.filter((m) => m.account === i && !lost.has(m.id)).map((m) => m.id)
    expect([...log].sort((a, b) => a - b)).toEqual(expected)
    // each worker's own messages keep its order
    for (let w = 0; w < WORKERS; w++) {
      const mine = log.filter((id) => Math.floor(id / perWorker) === w)
      expect(mine).toEqual([...mine].sort((a, b) => a - b))
    }
    for (let j = 1; j < log.length; j++)
      if (Math.floor((log[j] as number) / perWorker) !== Math.floor((log[j - 1] as number) / perWorker))
        interleavings++
    await applySequentially(
      memory,
      log.map((id) => r.messages[id] as WorkMessage),
    )
    expect(await dumpAccount(r.store, i), accountKeys(i).jid).toEqual(await dumpAccount(memory, i))
  }
  // the workers really ran at once on the same accounts
  expect(interleavings).toBeGreaterThan(ACCOUNTS)
  // and the workload exercised what it is meant to: postponed decisions left, D-9 ordering
  let postponed = 0
  for (let i = 0; i < ACCOUNTS; i++) {
    const state = (await dumpAccount(memory, i)) as { postponed: unknown[] }
    postponed += state.postponed.length
  }
  expect(postponed).toBeGreaterThan(0)
  await memory.close()
  return logged
}

async function cleanUp(r: Run): Promise<void> {
  await r.store.close()
  await dropTrustTables({ database: testPool(), tablePrefix: r.prefix })
}

describe.skipIf(NO_PG)(`several worker processes, the same accounts ${SKIP}`, () => {
  const runs: Run[] = []
  afterAll(async () => {
    for (const r of runs) for (const w of r.workers) if (w.child.exitCode === null) w.child.kill('SIGKILL')
  })

  const lockSize = SIZE > 0 ? SIZE : 250
  it(`D-9, D-8, caps: ${WORKERS} processes × ${lockSize} trust messages on ${ACCOUNTS} accounts (account locks) end where the sequential run in commit order ends on store-memory`, async () => {
    const r = await run('account-lock', lockSize)
    runs.push(r)
    const codes = await Promise.all(r.workers.map((w) => w.exited))
    expect(codes).toEqual(Array(WORKERS).fill(0))
    expect(await expectSequentialEquivalent(r, lockSize, new Set())).toBe(WORKERS * lockSize)
    await cleanUp(r)
  }, 300_000)

  const serialSize = SERIAL_SIZE > 0 ? SERIAL_SIZE : 100
  it(`the same with SERIALIZABLE transactions (aborted ones retried): ${WORKERS} × ${serialSize} messages`, async () => {
    const r = await run('serializable', serialSize)
    runs.push(r)
    const codes = await Promise.all(r.workers.map((w) => w.exited))
    expect(codes).toEqual(Array(WORKERS).fill(0))
    expect(await expectSequentialEquivalent(r, serialSize, new Set())).toBe(WORKERS * serialSize)
    await cleanUp(r)
  }, 300_000)

  it('SIGKILL of a worker mid-transaction: nothing of that transaction is stored, the other workers carry on', async () => {
    const perWorker = 100
    const r = await run('account-lock', perWorker, { index: 1, at: 40 })
    runs.push(r)
    const victim = r.workers[1] as Worker
    const killedId = await victim.mid
    // the victim holds its account's lock now, mid-transaction (engine writes and marker done)
    victim.child.kill('SIGKILL')
    expect(await victim.exited).toBeNull()
    const others = r.workers.filter((w) => w !== victim)
    expect(await Promise.all(others.map((w) => w.exited))).toEqual([0, 0, 0])
    for (const w of others) expect(w.messages.some((m) => m.done === true)).toBe(true)
    // the victim's messages after the killed one never ran; the killed one left nothing
    const lost = new Set(
      r.messages.filter((m) => Math.floor(m.id / perWorker) === 1 && m.id >= killedId).map((m) => m.id),
    )
    const killedAccount = (r.messages[killedId] as WorkMessage).account
    expect(
      await r.store.forAccount(accountKeys(killedAccount).jid).getState('vouch-test-marker', 'killed'),
    ).toBeUndefined()
    expect(await expectSequentialEquivalent(r, perWorker, lost)).toBe(WORKERS * perWorker - lost.size)
    await cleanUp(r)
  }, 300_000)
})
