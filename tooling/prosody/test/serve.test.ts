/**
 * `pnpm prosody` (src/serve.ts): a scripted `kill` (SIGTERM to the pnpm process) stops Prosody
 * and removes its directory exactly as Ctrl-C does (SIGINT to the whole terminal group).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { prosodyInstalled } from '../src/index.ts'

const SKIP = !prosodyInstalled() && process.env.CI === undefined
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

async function until(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return check()
}

describe.skipIf(SKIP)('pnpm prosody', { timeout: 60_000 }, () => {
  if (SKIP) console.info('skipped: Prosody is not installed (apt-get install prosody)')
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to pnpm prosody stops the server and removes its directory`, async () => {
      const child = spawn('pnpm', ['-s', 'prosody'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
      })
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
      expect(await until(() => /data in (\S+)\)/.test(out), 30_000), out).toBe(true)
      const dir = /data in (\S+)\)\./.exec(out)?.[1] as string
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)?.[1])
      expect(existsSync(dir)).toBe(true)
      expect(await accepts(port)).toBe(true)
      child.kill(signal)
      await exited
      expect(await until(() => !existsSync(dir), 10_000), `${dir} removed`).toBe(true)
      expect(await until(async () => !(await accepts(port)), 10_000), `port ${port} closed`).toBe(true)
    })
  }
})
