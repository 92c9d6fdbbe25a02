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

/** Test files run in Chromium, relative to the repository root. */
export const BROWSER_TESTS = [
  'packages/backend-omemo/test/primitives.vectors.test.ts',
  'packages/backend-omemo/test/double-ratchet.test.ts',
  // omemo2.vectors.test.ts waits for session.ts without Buffer (issue 14 point 1)
]

if (!chromiumAvailable()) console.warn(CHROMIUM_MISSING)

export default chromiumAvailable()
  ? defineProject({
      test: {
        root,
        name: 'browser (chromium)',
        include: BROWSER_TESTS,
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
