/**
 * OMEMO 2 in the browser vs in Node, one run: the same work (`packages/backend-omemo/bench/
 * provider-core.ts`) with the Node provider (`node:crypto`) in Node and the browser provider in
 * headless Chromium (Debian's, through Playwright, the module served by a Vite dev server), once
 * as it ships (X25519 and Ed25519 on WebCrypto) and once on noble only (`webCrypto: false`, its
 * fallback). Medians in ms and the Chromium / Node ratio, rounds alternating between the runtimes.
 *
 * The clock is CPU time by default: Node `process.cpuUsage()` (every thread of the process);
 * Chromium: every thread of the renderer process, summed from `/proc/<pid>/task/<tid>/schedstat`
 * (nanoseconds; Chromium runs WebCrypto on worker threads, so the main thread's time alone would
 * leave the curve work out), read through an exposed function, its reading cost calibrated and
 * subtracted. A machine shared with other work inflates neither side; `BENCH_CLOCK=wall` times
 * wall clock instead.
 *
 *   pnpm --filter @vouch/browser-tests bench   (BENCH_ROUNDS, BENCH_SAMPLES, BENCH_CLOCK=cpu|wall)
 */
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright'
import { createServer } from 'vite'
import {
  type BenchClock,
  type BenchResult,
  runProviderBench,
  WALL_CLOCK,
} from '../../../packages/backend-omemo/bench/provider-core.ts'
import { nodeCryptoProvider } from '../../../packages/backend-omemo/src/provider-node.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../src/index.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5)
const CPU = process.env.BENCH_CLOCK !== 'wall'
const nodeClock: BenchClock = CPU
  ? {
      now: () => {
        const u = process.cpuUsage()
        return (u.user + u.system) / 1000
      },
      batchMs: 20,
      overheadMs: 0,
    }
  : WALL_CLOCK
const root = fileURLToPath(new URL('../../..', import.meta.url))

/** CPU milliseconds of every thread of the processes `pids` (Linux schedstat, ns resolution). */
async function processCpuMs(pids: readonly number[]): Promise<number> {
  let ns = 0
  for (const pid of pids) {
    let tids: string[]
    try {
      tids = await readdir(`/proc/${pid}/task`)
    } catch {
      continue // the process is gone
    }
    for (const tid of tids) {
      try {
        ns += Number((await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).split(' ')[0])
      } catch {
        // the thread ended between the listing and the read
      }
    }
  }
  return ns / 1e6
}

/** The page in Chromium that runs the same module, round after round. */
async function openChromium() {
  const vite = await createServer({
    root,
    configFile: false,
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, watch: null },
    optimizeDeps: {
      entries: [
        'packages/backend-omemo/bench/provider-core.ts',
        'packages/backend-omemo/src/provider-browser.ts',
      ],
    },
  })
  await vite.listen()
  const address = vite.httpServer?.address()
  const origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
    headless: true,
  })
  const page = await browser.newPage()
  await page.route(`${origin}/bench.html`, (r) =>
    r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bench</title>' }),
  )
  await page.goto(`${origin}/bench.html`)
  // the renderer processes (the page's, and any spare one, which idles)
  const cdp = await browser.newBrowserCDPSession()
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
    processInfo: { type: string; id: number }[]
  }
  const renderers = processInfo.filter((p) => p.type === 'renderer').map((p) => p.id)
  if (renderers.length === 0) throw new Error('no renderer process found')
  await page.exposeFunction('__vouchCpuMs', () => processCpuMs(renderers))
  const run = (provider: 'webcrypto' | 'noble') =>
    page.evaluate(
      async ([samples, w, cpu]) => {
        const core = await import(/* @vite-ignore */ '/packages/backend-omemo/bench/provider-core.ts')
        const prov = await import(/* @vite-ignore */ '/packages/backend-omemo/src/provider-browser.ts')
        const p =
          w === 'webcrypto' ? prov.defaultCryptoProvider() : prov.browserCryptoProvider({ webCrypto: false })
        if (p.name !== w) throw new Error(`provider ${p.name}`)
        const curves = await prov.webCryptoCurves()
        if (w === 'webcrypto' && !(curves.x25519 && curves.ed25519)) throw new Error('no WebCrypto curves')
        if (!cpu) return (await core.runProviderBench(p, samples)) as Record<string, number>
        const now = (globalThis as unknown as { __vouchCpuMs(): Promise<number> }).__vouchCpuMs
        const pairs: number[] = []
        for (let i = 0; i < 21; i++) pairs.push(-(await now()) + (await now()))
        pairs.sort((a, b) => a - b)
        const clock = { now, batchMs: 20, overheadMs: pairs[10] as number }
        return (await core.runProviderBench(p, samples, clock)) as Record<string, number>
      },
      [SAMPLES, provider, CPU] as const,
    )
  return {
    version: browser.version(),
    run,
    async close() {
      await browser.close()
      await vite.close()
    },
  }
}

/** Per row, the median of the rounds' medians. */
function combine(rounds: readonly BenchResult[]): BenchResult {
  const out: BenchResult = {}
  for (const row of Object.keys(rounds[0] ?? {})) {
    const v = rounds.map((r) => r[row] as number).sort((a, b) => a - b)
    out[row] = v[Math.floor(v.length / 2)] as number
  }
  return out
}

// Rounds alternate between the runtimes, so a load change on the machine hits both alike.
const chrome = await openChromium()
const rounds: Record<'node' | 'chromium' | 'nobleChromium', BenchResult[]> = {
  node: [],
  chromium: [],
  nobleChromium: [],
}
try {
  // the page imports everything once first: Vite's dependency optimizer must not run (in this
  // process) while Node is being timed
  await chrome.run('noble')
  for (let r = 0; r < ROUNDS; r++) {
    rounds.node.push(await runProviderBench(nodeCryptoProvider(), SAMPLES, nodeClock))
    rounds.chromium.push(await chrome.run('webcrypto'))
    rounds.nobleChromium.push(await chrome.run('noble'))
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`)
  }
} finally {
  await chrome.close()
}
const node = combine(rounds.node)
const inChrome = combine(rounds.chromium)
const nobleInChrome = combine(rounds.nobleChromium)

const f = (v: number | undefined): string => (v === undefined ? '–' : v < 0.1 ? v.toFixed(4) : v.toFixed(3))
const ratio = (c: number | undefined, n: number): string => (c === undefined ? '–' : `${(c / n).toFixed(1)}×`)
console.log(
  `OMEMO 2, browser provider in Chromium ${chrome.version} (WebCrypto curves; noble only) vs node:crypto in Node ${process.version}; ${CPU ? 'CPU' : 'wall'} time, medians in ms of ${ROUNDS} alternating rounds × ${SAMPLES} samples of ≥ ${CPU ? 20 : 5} ms batches`,
)
console.log(
  '| work | node:crypto in Node | webcrypto in Chromium | Chromium / Node | noble only in Chromium | noble / Node |',
)
console.log('| --- | --- | --- | --- | --- | --- |')
for (const [row, ms] of Object.entries(node))
  console.log(
    `| ${row} | ${f(ms)} | ${f(inChrome[row])} | ${ratio(inChrome[row], ms)} | ${f(nobleInChrome[row])} | ${ratio(nobleInChrome[row], ms)} |`,
  )
