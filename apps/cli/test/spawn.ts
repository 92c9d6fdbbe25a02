/**
 * Runs the built `vouch` command (bin/vouch.mjs → dist/bundle, built by the globalSetup) as a
 * separate process, as a user would: its own environment, standard input, exit code.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../bin/vouch.mjs', import.meta.url))

export interface Spawned {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export function vouchProcess(
  argv: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly stdin?: string; readonly timeoutMs?: number } = {},
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(`vouch ${argv.join(' ')} did not end within ${options.timeoutMs ?? 30_000} ms\n${stderr}`),
      )
    }, options.timeoutMs ?? 30_000)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.stdin ?? '')
  })
}
