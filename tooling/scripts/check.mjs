#!/usr/bin/env node
// The README's test command: lint, typecheck, every test; ends with a plain
// "N passed, N failed" line that CI reads. Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'

const results = '.vitest-results.json'
// changesets: every changed published package has a changeset (against `main`; a clone without
// that branch checks the pending changesets themselves, e.g. that each names a real package)
const hasMain =
  spawnSync('git', ['rev-parse', '--verify', '--quiet', 'main'], { stdio: 'ignore' }).status === 0
const steps = [
  ['lint', 'pnpm', ['exec', 'biome', 'check', '.']],
  ['changesets', 'pnpm', ['exec', 'changeset', 'status', ...(hasMain ? [] : ['--since=HEAD'])]],
  ['typecheck', 'pnpm', ['run', '--silent', 'typecheck']],
  [
    'test',
    'pnpm',
    [
      'exec',
      'vitest',
      'run',
      // CI has 2 cores for everything (Prosody, PostgreSQL, Chromium, gpg, python-omemo and two
      // vitest workers): a test's limit is a hang detector, not a speed check (benchmarks are), so
      // the 5 s default would fail property suites that merely ran on a busy core
      '--testTimeout=60000',
      '--hookTimeout=120000',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${results}`,
      ...process.argv.slice(2),
    ],
  ],
]

let passed = 0
let failed = 0
let skipped = 0
let stepFailures = 0
rmSync(results, { force: true })
for (const [name, cmd, args] of steps) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } })
  if (name === 'test' && existsSync(results)) {
    const json = JSON.parse(readFileSync(results, 'utf8'))
    passed += json.numPassedTests ?? 0
    failed += json.numFailedTests ?? 0
    skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0)
    // a suite that failed to load has no tests but still fails the run
    if (r.status !== 0 && (json.numFailedTests ?? 0) === 0) stepFailures++
  } else if (r.status !== 0) {
    console.error(`step ${name} failed (exit ${r.status})`)
    stepFailures++
    if (name !== 'lint') failed++
  } else if (name !== 'test') {
    passed++
  }
}
if (stepFailures > 0) console.error(`${stepFailures} step(s) failed`)
console.log(
  `\n${passed} passed, ${failed + (stepFailures > 0 && failed === 0 ? stepFailures : 0)} failed, ${skipped} skipped`,
)
process.exit(failed > 0 || stepFailures > 0 ? 1 : 0)
