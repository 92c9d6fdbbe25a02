/**
 * OMEMO 2 in the browser vs in Node, one run: the same work (`packages/backend-omemo/bench/
 * provider-core.ts`) with the Node provider (`node:crypto`) in Node, the browser provider
 * (`@noble/*`) in Node, and the browser provider in headless Chromium (Debian's, through
 * Playwright, the module served by a Vite dev server). Medians in ms and the Chromium / Node ratio.
 * WebCrypto's asynchronous X25519 is timed in both runtimes for the choice of provider.
 *
 *   pnpm --filter @vouch/browser-tests bench        (BENCH_SAMPLES=… to change the samples)
 */
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright'
import { createServer } from 'vite'
import {
  type BenchResult,
  runProviderBench,
  webCryptoX25519,
} from '../../../packages/backend-omemo/bench/provider-core.ts'
import { browserCryptoProvider } from '../../../packages/backend-omemo/src/provider-browser.ts'
import { nodeCryptoProvider } from '../../../packages/backend-omemo/src/provider-node.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../src/index.ts'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15)
const root = fileURLToPath(new URL('../../..', import.meta.url))

async function inChromium(): Promise<{
  result: BenchResult
  webCrypto: BenchResult
  provider: string
  version: string
}> {
  const vite = await createServer({
    root,
    configFile: false,
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0 },
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
  try {
    const page = await browser.newPage()
    await page.route(`${origin}/bench.html`, (r) =>
      r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bench</title>' }),
    )
    await page.goto(`${origin}/bench.html`)
    const out = await page.evaluate(async (samples) => {
      const core = await import(/* @vite-ignore */ '/packages/backend-omemo/bench/provider-core.ts')
      const prov = await import(/* @vite-ignore */ '/packages/backend-omemo/src/provider-browser.ts')
      const p = prov.defaultCryptoProvider()
      return {
        provider: p.name as string,
        result: (await core.runProviderBench(p, samples)) as Record<string, number>,
        webCrypto: (await core.webCryptoX25519(samples)) as Record<string, number>,
      }
    }, SAMPLES)
    return { ...out, version: browser.version() }
  } finally {
    await browser.close()
    await vite.close()
  }
}

const node = await runProviderBench(nodeCryptoProvider(), SAMPLES)
const nobleInNode = await runProviderBench(browserCryptoProvider(), SAMPLES)
const webCryptoNode = await webCryptoX25519(SAMPLES)
const chrome = await inChromium()

const f = (v: number | undefined): string => (v === undefined ? '–' : v < 0.1 ? v.toFixed(4) : v.toFixed(3))
console.log(
  `OMEMO 2, browser provider (${chrome.provider}) in Chromium ${chrome.version} vs node:crypto in Node ${process.version}; medians in ms, ${SAMPLES} samples of ≥ 5 ms batches`,
)
console.log('| work | node:crypto in Node | noble in Node | noble in Chromium | Chromium / Node |')
console.log('| --- | --- | --- | --- | --- |')
for (const [row, ms] of Object.entries(node)) {
  const c = chrome.result[row]
  console.log(
    `| ${row} | ${f(ms)} | ${f(nobleInNode[row])} | ${f(c)} | ${c === undefined ? '–' : `${(c / ms).toFixed(1)}×`} |`,
  )
}
console.log('\n| WebCrypto X25519 (asynchronous) | Node | Chromium |')
console.log('| --- | --- | --- |')
for (const [row, ms] of Object.entries(webCryptoNode))
  console.log(`| ${row} | ${f(ms)} | ${f(chrome.webCrypto[row])} |`)
