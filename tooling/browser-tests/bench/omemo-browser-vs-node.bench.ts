/**
 * OMEMO 2 in the browser vs in Node, one run: the same work (`packages/backend-omemo/bench/
 * provider-core.ts`) with the Node provider (`node:crypto`) in Node, the browser provider
 * (`@noble/*`) in Node, and the browser provider in headless Chromium (Debian's, through
 * Playwright, the module served by a Vite dev server). Medians in ms and the Chromium / Node ratio,
 * rounds alternating between the runtimes. The clock is CPU time by default (Node:
 * `process.cpuUsage()`; Chromium: the renderer main thread's `ThreadTime`, read over CDP, its
 * reading cost calibrated and subtracted), so a machine shared with other work inflates neither
 * side; `BENCH_CLOCK=wall` times wall clock instead. WebCrypto's asynchronous X25519 (which runs
 * off the main thread in Chromium) is always timed on the wall clock.
 *
 *   pnpm --filter @vouch/browser-tests bench   (BENCH_ROUNDS, BENCH_SAMPLES, BENCH_CLOCK=cpu|wall)
 */
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright'
import { createServer } from 'vite'
import {
  type BenchClock,
  type BenchResult,
  runProviderBench,
  WALL_CLOCK,
  webCryptoX25519,
} from '../../../packages/backend-omemo/bench/provider-core.ts'
import { browserCryptoProvider } from '../../../packages/backend-omemo/src/provider-browser.ts'
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
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Performance.enable')
  await page.exposeFunction('__vouchCpuMs', async () => {
    const { metrics } = await cdp.send('Performance.getMetrics')
    return (metrics.find((m) => m.name === 'ThreadTime')?.value ?? Number.NaN) * 1000
  })
  const run = (what: 'omemo' | 'webcrypto') =>
    page.evaluate(
      async ([samples, w, cpu]) => {
        const core = await import(/* @vite-ignore */ '/packages/backend-omemo/bench/provider-core.ts')
        const prov = await import(/* @vite-ignore */ '/packages/backend-omemo/src/provider-browser.ts')
        const p = prov.defaultCryptoProvider()
        if (p.name !== 'noble') throw new Error(`provider ${p.name}`)
        if (w === 'webcrypto') return (await core.webCryptoX25519(samples)) as Record<string, number>
        if (!cpu) return (await core.runProviderBench(p, samples)) as Record<string, number>
        const now = (globalThis as unknown as { __vouchCpuMs(): Promise<number> }).__vouchCpuMs
        const pairs: number[] = []
        for (let i = 0; i < 21; i++) pairs.push(-(await now()) + (await now()))
        pairs.sort((a, b) => a - b)
        const clock = { now, batchMs: 20, overheadMs: pairs[10] as number }
        return (await core.runProviderBench(p, samples, clock)) as Record<string, number>
      },
      [SAMPLES, what, CPU] as const,
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
const rounds: Record<'node' | 'nobleNode' | 'chromium' | 'wcNode' | 'wcChromium', BenchResult[]> = {
  node: [],
  nobleNode: [],
  chromium: [],
  wcNode: [],
  wcChromium: [],
}
try {
  // the page imports everything once first: Vite's dependency optimizer must not run (in this
  // process) while Node is being timed
  await chrome.run('webcrypto')
  for (let r = 0; r < ROUNDS; r++) {
    rounds.node.push(await runProviderBench(nodeCryptoProvider(), SAMPLES, nodeClock))
    rounds.chromium.push(await chrome.run('omemo'))
    rounds.nobleNode.push(await runProviderBench(browserCryptoProvider(), SAMPLES, nodeClock))
    rounds.wcNode.push(await webCryptoX25519(SAMPLES))
    rounds.wcChromium.push(await chrome.run('webcrypto'))
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`)
  }
} finally {
  await chrome.close()
}
const node = combine(rounds.node)
const nobleInNode = combine(rounds.nobleNode)
const inChrome = combine(rounds.chromium)
const wcNode = combine(rounds.wcNode)
const wcChrome = combine(rounds.wcChromium)

const f = (v: number | undefined): string => (v === undefined ? '–' : v < 0.1 ? v.toFixed(4) : v.toFixed(3))
console.log(
  `OMEMO 2, browser provider (noble) in Chromium ${chrome.version} vs node:crypto in Node ${process.version}; ${CPU ? 'CPU' : 'wall'} time, medians in ms of ${ROUNDS} alternating rounds × ${SAMPLES} samples of ≥ ${CPU ? 20 : 5} ms batches`,
)
console.log('| work | node:crypto in Node | noble in Node | noble in Chromium | Chromium / Node |')
console.log('| --- | --- | --- | --- | --- |')
for (const [row, ms] of Object.entries(node)) {
  const c = inChrome[row]
  console.log(
    `| ${row} | ${f(ms)} | ${f(nobleInNode[row])} | ${f(c)} | ${c === undefined ? '–' : `${(c / ms).toFixed(1)}×`} |`,
  )
}
console.log('\n| WebCrypto X25519 (asynchronous, wall time) | Node | Chromium |')
console.log('| --- | --- | --- |')
for (const [row, ms] of Object.entries(wcNode)) console.log(`| ${row} | ${f(ms)} | ${f(wcChrome[row])} |`)
