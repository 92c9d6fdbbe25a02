#!/usr/bin/env node
// Launcher for the TypeScript sources (Node 20 cannot run .ts by itself): registers tsx, then
// runs the CLI. `pnpm vouch …` from the repository root does the same through tsx directly.
import { register } from 'tsx/esm/api'

register()
const { run } = await import('../src/main.ts')
process.exitCode = await run(process.argv.slice(2))
