#!/usr/bin/env node
// The `vouch` command: runs the compiled bundle (dist/bundle, built by `pnpm --filter
// @vouch/cli build`, tooling/setup.sh and the CLI tests). Without a bundle (a checkout that was
// never built) it falls back to the TypeScript sources through tsx, which is slower.
import { existsSync } from 'node:fs'

const bundle = new URL('../dist/bundle/main.js', import.meta.url)
let run
if (existsSync(bundle)) {
  ;({ run } = await import(bundle.href))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ run } = await import('../src/main.ts'))
}
process.exitCode = await run(process.argv.slice(2))
