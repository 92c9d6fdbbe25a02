/**
 * vitest globalSetup of @vouch/cli: builds the compiled `vouch` (dist/bundle) once before the
 * tests, so the tests that spawn `vouch` always run the current sources, on a fresh clone too.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url))], {
    stdio: 'inherit',
  })
}
