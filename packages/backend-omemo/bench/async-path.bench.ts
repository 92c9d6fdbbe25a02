/**
 * The Node provider before and after the asynchronous curve path, one run: `provider-core.ts`'s
 * rows with `nodeCryptoProvider` on the sources of `BENCH_BASE` (default `c073b24~1`, the last
 * commit whose X3DH and ratchet were synchronous) and on the working tree, rounds alternating (which goes first flips each round).
 * The base's sources are taken with `git archive` into a temporary copy of this package whose
 * `node_modules` is a link to this one's. CPU time (`process.cpuUsage()`), medians in ms and the
 * ratio now / base.
 *
 *   pnpm --filter @vouch/backend-omemo exec tsx bench/async-path.bench.ts   (BENCH_BASE, BENCH_ROUNDS, BENCH_SAMPLES)
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { nodeCryptoProvider } from '../src/provider-node.ts'
import { type BenchClock, type BenchResult, runProviderBench } from './provider-core.ts'

const BASE = process.env.BENCH_BASE ?? 'c073b24~1'
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5)
const pkg = fileURLToPath(new URL('..', import.meta.url))
const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: pkg, encoding: 'utf8' }).trim()
const clock: BenchClock = {
  now: () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  },
  batchMs: 20,
  overheadMs: 0,
}

const dir = mkdtempSync(join(tmpdir(), 'omemo-base-'))
try {
  const rel = 'packages/backend-omemo'
  const paths = ['src', 'bench/provider-core.ts', 'test/helpers.ts', 'package.json'].map((p) => `${rel}/${p}`)
  const tar = execFileSync('git', ['archive', BASE, ...paths], { cwd: repo, maxBuffer: 64 << 20 })
  mkdirSync(join(dir, rel), { recursive: true })
  execFileSync('tar', ['-x', '-C', dir], { input: tar })
  symlinkSync(join(pkg, 'node_modules'), join(dir, rel, 'node_modules'))
  const base = (await import(pathToFileURL(join(dir, rel, 'bench/provider-core.ts')).href)) as {
    runProviderBench: typeof runProviderBench
  }
  const baseProvider = (await import(pathToFileURL(join(dir, rel, 'src/provider-node.ts')).href)) as {
    nodeCryptoProvider: typeof nodeCryptoProvider
  }
  const rounds: { base: BenchResult[]; now: BenchResult[] } = { base: [], now: [] }
  const runBase = async () =>
    rounds.base.push(await base.runProviderBench(baseProvider.nodeCryptoProvider(), SAMPLES, clock))
  const runNow = async () => rounds.now.push(await runProviderBench(nodeCryptoProvider(), SAMPLES, clock))
  for (let r = 0; r < ROUNDS; r++) {
    // the order flips each round: the second run of a round finds the heap the first one grew
    if (r % 2 === 0) await runBase().then(runNow)
    else await runNow().then(runBase)
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`)
  }
  const median = (all: BenchResult[], row: string): number => {
    const v = all.map((x) => x[row] as number).sort((a, b) => a - b)
    return v[Math.floor(v.length / 2)] as number
  }
  const f = (v: number): string => (v < 0.1 ? v.toFixed(4) : v.toFixed(3))
  console.log(
    `node:crypto provider, synchronous path (${BASE}) vs asynchronous path (working tree), Node ${process.version}; CPU time, medians in ms of ${ROUNDS} alternating rounds × ${SAMPLES} samples of ≥ 20 ms batches`,
  )
  console.log('| work | before (sync) | now (async) | now / before |')
  console.log('| --- | --- | --- | --- |')
  for (const row of Object.keys(rounds.now[0] ?? {})) {
    const b = median(rounds.base, row)
    const n = median(rounds.now, row)
    console.log(`| ${row} | ${f(b)} | ${f(n)} | ${(n / b).toFixed(2)} |`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
