import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Readable, Writable } from 'node:stream'
import { createInterface } from 'node:readline'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore } from '../src/index.ts'
import { tempDir } from './helpers.ts'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

type Child = ChildProcessByStdio<Writable, Readable, null>

/** A child Node process running a TypeScript fixture, with its stdout as a stream of lines. */
function start(script: string, args: readonly string[]) {
  const child: Child = spawn(process.execPath, ['--import', 'tsx', fixture(script), ...args], {
    cwd: PACKAGE_DIR,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines: string[] = []
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line)
    for (const w of waiters.splice(0)) {
      if (w.match(line)) w.resolve(line)
      else waiters.push(w)
    }
  })
  return {
    child,
    lines,
    exited,
    /** Resolves with the first line (already printed or to come) that matches. */
    waitFor(match: (line: string) => boolean): Promise<string> {
      const seen = lines.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      return Promise.race([
        new Promise<string>((resolve) => waiters.push({ match, resolve })),
        exited.then((code) => {
          throw new Error(`${script} exited (${code}) before the line; printed: ${lines.join(' | ')}`)
        }),
      ])
    },
    async kill(): Promise<void> {
      child.kill('SIGKILL')
      await exited
    },
  }
}

function integrity(path: string): string {
  const db = new Database(path)
  try {
    return String(db.pragma('integrity_check', { simple: true }))
  } finally {
    db.close()
  }
}

function count(path: string, sql: string): number {
  const db = new Database(path, { readonly: true })
  try {
    return (db.prepare(sql).get() as { n: number }).n
  } finally {
    db.close()
  }
}

describe('durability: a SIGKILLed writer leaves all or none of a transaction', { timeout: 60_000 }, () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  const WRITES = 4000

  async function killedAt(mode: 'mid' | 'before-commit' | 'after-commit') {
    const path = tmp.file(`${mode}.db`)
    const writer = start('killed-writer.ts', [path, mode, String(WRITES)])
    const signal = { mid: 'MID', 'before-commit': 'BEFORE_COMMIT', 'after-commit': 'COMMITTED' }[mode]
    await writer.waitFor((l) => l === signal)
    await writer.kill()
    expect(integrity(path)).toBe('ok')
    // The store opens again (WAL recovery) and reads what survived.
    const store = await sqliteStore({ database: path })
    await store.close()
    return {
      keys: count(path, 'select count(*) as n from vouch_keys'),
      lastApplied: count(path, 'select count(*) as n from vouch_last_applied'),
      flags: count(path, 'select count(*) as n from vouch_authenticated_once'),
      committedPrinted: writer.lines.includes('COMMITTED'),
    }
  }

  it('killed half-way through a 4,000-write transaction: all or none, and the file is intact', async () => {
    const r = await killedAt('mid')
    expect([0, WRITES]).toContain(r.keys)
    expect(r.lastApplied).toBe(r.keys)
    expect(r.flags).toBe(r.keys === 0 ? 0 : 1)
    // The writer slows down after MID, so in practice the kill lands before the commit.
    if (!r.committedPrinted) expect(r.keys).toBe(0)
  })

  it('killed after the last write but before COMMIT: nothing of the transaction is there', async () => {
    const r = await killedAt('before-commit')
    expect(r).toEqual({ keys: 0, lastApplied: 0, flags: 0, committedPrinted: false })
  })

  it('killed right after the commit was reported: every write is there', async () => {
    const r = await killedAt('after-commit')
    expect(r).toEqual({ keys: WRITES, lastApplied: WRITES, flags: 1, committedPrinted: true })
  })

  it('killed at a random moment in a stream of transactions: every reported commit is there, no partial one', async () => {
    const PER_TX = 200
    for (const delayMs of [150, 400, 700]) {
      const path = tmp.file(`loop-${delayMs}.db`)
      const writer = start('killed-writer.ts', [path, 'loop', String(PER_TX)])
      await writer.waitFor((l) => l === 'OPEN')
      await new Promise((r) => setTimeout(r, delayMs))
      await writer.kill()
      expect(integrity(path)).toBe('ok')
      const reported = writer.lines.filter((l) => l.startsWith('COMMITTED ')).map((l) => Number(l.slice(10)))
      const db = new Database(path, { readonly: true })
      const groups = db
        .prepare(
          `select substr(key_id, 1, instr(key_id, '-') - 1) as t, count(*) as n from vouch_keys group by t`,
        )
        .all() as { t: string; n: number }[]
      const applied = db.prepare('select count(*) as n from vouch_last_applied').get() as { n: number }
      db.close()
      expect(reported.length, 'the writer committed nothing before the kill').toBeGreaterThan(0)
      for (const g of groups) expect(g.n, `transaction ${g.t} is partial`).toBe(PER_TX)
      const present = groups.map((g) => Number(g.t.slice(1))).sort((a, b) => a - b)
      for (const t of reported) expect(present, `reported commit ${t} is missing`).toContain(t)
      // at most one commit more than reported (committed, killed before it could print)
      expect(present.length - reported.length).toBeGreaterThanOrEqual(0)
      expect(present.length - reported.length).toBeLessThanOrEqual(1)
      expect(present).toEqual(present.map((_, i) => i))
      expect(applied.n).toBe(present.length * PER_TX)
      if (process.env.TM_VERBOSE)
        console.log(`loop ${delayMs} ms: ${reported.length} reported, ${present.length} present`)
    }
  })
})

describe('durability: two processes writing one database file', { timeout: 60_000 }, () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  async function race(path: string, writes: number, busyTimeoutMs: number, mode: 'tx' | 'plain') {
    const writer = (id: string) =>
      start('concurrent-writer.ts', [path, id, String(writes), String(busyTimeoutMs), mode])
    let writers: ReturnType<typeof writer>[]
    if (busyTimeoutMs > 0) {
      // both open (and migrate) at the same moment too
      writers = ['w1', 'w2'].map(writer)
      await Promise.all(writers.map((w) => w.waitFor((l) => l === 'READY')))
    } else {
      // without a busy timeout, opening at the same moment may itself lose the migration lock:
      // open one after the other, so only the writes race
      writers = []
      for (const id of ['w1', 'w2']) {
        const w = writer(id)
        await w.waitFor((l) => l === 'READY')
        writers.push(w)
      }
    }
    for (const w of writers) w.child.stdin.write('GO\n')
    await Promise.all(writers.map((w) => w.waitFor((l) => l === 'DONE')))
    await Promise.all(writers.map((w) => w.exited))
    expect(integrity(path)).toBe('ok')
    const db = new Database(path, { readonly: true })
    const present = new Set(
      (db.prepare('select key_id from vouch_keys').all() as { key_id: string }[]).map((r) => r.key_id),
    )
    const applied = new Set(
      (db.prepare('select key_id from vouch_last_applied').all() as { key_id: string }[]).map(
        (r) => r.key_id,
      ),
    )
    db.close()
    const ok: string[] = []
    const errors: string[] = []
    for (const [n, w] of writers.entries()) {
      for (const line of w.lines) {
        const [kind, i, ...rest] = line.split(' ')
        if (kind === 'OK') ok.push(`w${n + 1}-${i}`)
        if (kind === 'ERR') errors.push(rest.join(' '))
      }
    }
    return { ok, errors, present, applied }
  }

  it('both processes commit every transaction when the busy timeout is long enough (BEGIN IMMEDIATE waits)', async () => {
    // Fresh file: both processes also open and migrate it at the same moment.
    const r = await race(tmp.file('shared.db'), 300, 5000, 'tx')
    expect(r.errors).toEqual([])
    expect(r.ok).toHaveLength(600)
    for (const id of r.ok) {
      expect(r.present.has(id), `${id} reported committed but missing`).toBe(true)
      expect(r.applied.has(id), `${id} last-applied missing`).toBe(true)
    }
    expect(r.present.size).toBe(600)
  })

  it('with no busy timeout, a loser gets a typed retryable StoreBusyError and every reported write is there', async () => {
    const path = tmp.file('contended.db')
    await (await sqliteStore({ database: path })).close() // created and migrated beforehand
    const r = await race(path, 400, 0, 'plain')
    for (const e of r.errors) expect(e).toBe('StoreBusyError true')
    if (process.env.TM_VERBOSE) console.log(`contended: ${r.ok.length} committed, ${r.errors.length} busy`)
    expect(r.ok.length + r.errors.length).toBe(800)
    for (const id of r.ok) expect(r.present.has(id), `${id} reported committed but missing`).toBe(true)
    expect(r.present.size).toBe(r.ok.length)
  })
})
