/**
 * The browser project: the platform-neutral packages' own tests, run a second time in headless
 * Chromium (vitest browser mode, Playwright driving Debian's Chromium). One project, one browser
 * for all of them: each project would start its own browser and dev server. The list grows as
 * packages become platform-neutral (issue 14); a test that needs Node stays out, named below.
 */
import { fileURLToPath } from 'node:url'
import { playwright } from '@vitest/browser-playwright'
import { defineProject } from 'vitest/config'
import { CHROMIUM_ARGS, CHROMIUM_MISSING, CHROMIUM_PATH, chromiumAvailable } from './src/index.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Test files run in Chromium, relative to the repository root. ATM's tests run on the memory store
 * and, in place of SQLite, on `@vouch/store-indexeddb` (packages/atm/test/stores.ts).
 */
export const BROWSER_TESTS = [
  'packages/tm-core/test/**/*.test.ts',
  'packages/sce/test/**/*.test.ts',
  'packages/uri/test/**/*.test.ts',
  'packages/atm/test/**/*.test.ts',
  'packages/store-memory/test/**/*.test.ts',
  'packages/pipeline/test/**/*.test.ts',
  'packages/backend-omemo/test/**/*.test.ts',
]

/**
 * Test files of those packages that need Node, with the reason. The packages' sources all run in
 * the browser; these tests read their cases from disk (`node:fs`), decode PNG with a Node library
 * or drive a Node program.
 */
export const NODE_ONLY_TESTS = [
  // protocol cases and vectors enumerated / read with node:fs
  'packages/tm-core/test/xep0434-protocol-cases.test.ts',
  'packages/tm-core/test/xep0434-early-draft-usage.test.ts',
  'packages/tm-core/test/rfc7622-vectors.test.ts',
  'packages/sce/test/protocol-cases.test.ts',
  'packages/uri/test/protocol-cases.test.ts',
  'packages/uri/test/qr.test.ts', // its reference decoder reads the PNG with pngjs (Node streams)
  // reads package.json from disk; python-twomemo runs as a Node child process
  'packages/backend-omemo/test/exports.test.ts',
  'packages/backend-omemo/test/twomemo.interop.test.ts',
]

if (!chromiumAvailable()) console.warn(CHROMIUM_MISSING)

export default chromiumAvailable()
  ? defineProject({
      test: {
        root,
        name: 'browser (chromium)',
        include: BROWSER_TESTS,
        exclude: ['**/node_modules/**', ...NODE_ONLY_TESTS],
        browser: {
          enabled: true,
          headless: true,
          screenshotFailures: false,
          provider: playwright({
            launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] },
          }),
          instances: [{ browser: 'chromium' }],
        },
      },
    })
  : defineProject({ test: { name: 'browser (chromium)', include: ['test/chromium-missing.test.ts'] } })
