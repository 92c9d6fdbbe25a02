/**
 * @packageDocumentation
 * `@vouch/browser-tests` (private): how every browser test of the suite starts Chromium. Debian's
 * `chromium` (tooling/debian-packages.txt) at {@link CHROMIUM_PATH}; a test tool's own browser
 * download does not work on these machines. The flags let it run as root on a closed network
 * (TOOLCHAIN.md, Chromium): without the background-networking ones it keeps dialling outside hosts.
 */
import { existsSync } from 'node:fs'

/** Debian's Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/** Launch flags for Chromium as root, offline (Playwright adds `--headless` itself when asked). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]

/** True when Debian's Chromium is installed (CI installs it; a laptop may not have it). */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH)
}

/** The reason printed by a browser project that skips because Chromium is missing. */
export const CHROMIUM_MISSING = `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium): browser tests skipped`
