/**
 * `pnpm --filter @vouch/cli bench`: wall time of whole `vouch` processes, median of 10 each
 * (issue 13 point 7: `--help` and `uri parse` ≤ 300 ms, `chat send` on the loopback Prosody
 * ≤ 1 s), the compiled bundle (`node bin/vouch.mjs`, lazy per command) side by side with the
 * anchor: the same sources run through tsx (`tsx src/main.ts`, how `vouch` ran before).
 * Builds the bundle first. `chat send` needs Prosody (skipped with a note without it).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prosodyInstalled, startProsody } from '@vouch/prosody-tooling'

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 10)
const BUNDLE = [process.execPath, here('../bin/vouch.mjs')] as const
const TSX = [here('../../../node_modules/.bin/tsx'), here('../src/main.ts')] as const
const URI =
  'xmpp:bob@example.com?trust-message;encryption=urn:xmpp:omemo:2;trust=623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f'

execFileSync(process.execPath, [here('../build.mjs')], { stdio: 'inherit' })

function time(cmd: readonly string[], args: readonly string[], env: NodeJS.ProcessEnv = {}): number {
  const start = performance.now()
  const r = spawnSync(cmd[0] as string, [...cmd.slice(1), ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  })
  const ms = performance.now() - start
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`)
  return ms
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

const rows: { command: string; bundle: number; tsx: number }[] = []
function measure(label: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): void {
  const b: number[] = []
  const t: number[] = []
  for (let i = 0; i < RUNS; i++) {
    b.push(time(BUNDLE, args, env))
    t.push(time(TSX, args, env))
  }
  rows.push({ command: label, bundle: median(b), tsx: median(t) })
}

measure('vouch --help', ['--help'])
measure('vouch uri parse URI', ['uri', 'parse', URI])

if (prosodyInstalled()) {
  const server = await startProsody()
  const root = mkdtempSync(join(tmpdir(), 'vouch-bench-'))
  const env = { VOUCH_PASSWORD: 'bench-1234' }
  try {
    const a = ['--data', join(root, 'alice')]
    const b = ['--data', join(root, 'bob')]
    time(BUNDLE, ['account', 'register', 'alice@localhost', '--service', server.service, ...a], env)
    time(BUNDLE, ['account', 'register', 'bob@localhost', '--service', server.service, ...b], env)
    const uriOf = (d: readonly string[]): string =>
      JSON.parse(
        spawnSync(BUNDLE[0], [BUNDLE[1], 'uri', 'show', '--json', ...d], { encoding: 'utf8' }).stdout,
      ).uri
    time(BUNDLE, ['uri', 'use', uriOf(b), '--yes', ...a], env)
    time(BUNDLE, ['uri', 'use', uriOf(a), '--yes', ...b], env)
    measure(
      'vouch chat send (OMEMO 2, loopback Prosody)',
      ['chat', 'send', 'bob@localhost', 'bench', ...a],
      env,
    )
  } finally {
    await server.stop()
    rmSync(root, { recursive: true, force: true })
  }
} else {
  console.log('chat send: skipped (Prosody is not installed)')
}

console.log(`\nmedian of ${RUNS} runs, ms (node ${process.version})`)
console.log('| command | bundle (node bin/vouch.mjs) | anchor (tsx src/main.ts) | ratio |')
console.log('| --- | ---: | ---: | ---: |')
for (const r of rows)
  console.log(
    `| ${r.command} | ${r.bundle.toFixed(0)} | ${r.tsx.toFixed(0)} | ${(r.tsx / r.bundle).toFixed(1)}× |`,
  )
