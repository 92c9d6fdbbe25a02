#!/usr/bin/env node
// Builds the `vouch` command as compiled JavaScript: one ESM bundle of src/main.ts in
// dist/bundle/ (esbuild), split at every dynamic import(), so a command loads only the protocol
// libraries it needs. better-sqlite3 stays external (a native addon), and so does the optional
// OMEMO 0.3 plugin @vouch/backend-omemo-legacy (GPL-3.0-only: never bundled into the MIT CLI). `bin/vouch.mjs` runs the
// bundle; the tests and tooling/setup.sh build it (`pnpm --filter @vouch/cli build`).
import { rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const outdir = join(here, 'dist', 'bundle')
rmSync(outdir, { recursive: true, force: true })
const result = await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // tsx (a dependency) loads the plugin's TypeScript sources in a workspace checkout
  external: [
    'better-sqlite3',
    '@vouch/backend-omemo-legacy',
    '@vouch/backend-omemo-legacy/*',
    'tsx',
    'tsx/*',
  ],
  // CommonJS dependencies inside an ESM bundle call require() for Node built-ins
  banner: {
    js: "import { createRequire as __vouchRequire } from 'node:module'; const require = __vouchRequire(import.meta.url);",
  },
  logLevel: 'warning',
  legalComments: 'linked',
  sourcemap: 'linked',
  metafile: true,
})
// which sources each chunk holds (test/lazy-loading.test.ts checks what a command loads)
writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile))
