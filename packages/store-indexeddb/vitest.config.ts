/**
 * This package's tests need IndexedDB: the project runs in headless Chromium (vitest browser
 * mode, tooling/browser-tests). Without Chromium it runs one skipped test that says so.
 */
import {
  CHROMIUM_ARGS,
  CHROMIUM_MISSING,
  CHROMIUM_PATH,
  chromiumAvailable,
} from '../../tooling/browser-tests/src/index.ts'
import { playwright } from '@vitest/browser-playwright'
import type { BrowserCommand } from 'vitest/node'
import { defineProject } from 'vitest/config'

/**
 * Opens a second page of the test's browser context (same origin, same IndexedDB), imports
 * `moduleUrl` from the dev server there, calls its export `exportName` with `args`, waits until
 * the page sets `globalThis.__vouchCrashPoint` to `crashPoint`, and closes the page on the spot
 * (no unload handlers): the test then reopens the database.
 */
const crashPage: BrowserCommand<[string, string, unknown[], string]> = async (
  ctx,
  moduleUrl,
  exportName,
  args,
  crashPoint,
) => {
  const { context, page } = ctx as unknown as {
    context: import('playwright').BrowserContext
    page: import('playwright').Page
  }
  const other = await context.newPage()
  try {
    // an empty page of the same origin, served by Playwright itself
    const blank = new URL('/__vouch_crash_page__', page.url()).href
    await other.route(blank, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>crash</title>' }),
    )
    await other.goto(blank)
    await other.evaluate(
      async ([url, name, a]) => {
        const m = await import(/* @vite-ignore */ url as string)
        await m[name as string](...(a as unknown[]))
      },
      [moduleUrl, exportName, args] as const,
    )
    await other.waitForFunction(
      (p) => (globalThis as { __vouchCrashPoint?: string }).__vouchCrashPoint === p,
      crashPoint,
      {
        polling: 1,
        timeout: 10_000,
      },
    )
  } finally {
    await other.close({ runBeforeUnload: false })
  }
}

if (!chromiumAvailable()) console.warn(CHROMIUM_MISSING)

export default chromiumAvailable()
  ? defineProject({
      test: {
        name: '@vouch/store-indexeddb',
        include: ['test/**/*.test.ts'],
        browser: {
          enabled: true,
          commands: { crashPage },
          headless: true,
          screenshotFailures: false,
          provider: playwright({
            launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] },
          }),
          instances: [{ browser: 'chromium' }],
        },
      },
    })
  : defineProject({
      test: {
        name: '@vouch/store-indexeddb',
        include: ['../../tooling/browser-tests/test/chromium-missing.test.ts'],
      },
    })
