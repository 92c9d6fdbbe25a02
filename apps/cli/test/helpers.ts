import { Readable } from 'node:stream'
import { run } from '../src/main.ts'

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI in-process with captured output and the given standard input. */
export async function vouch(argv: readonly string[], stdin = ''): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await run(argv, {
    output: {
      out: (t) => {
        stdout += t.endsWith('\n') ? t : `${t}\n`
      },
      err: (t) => {
        stderr += t.endsWith('\n') ? t : `${t}\n`
      },
    },
    stdin: Readable.from([stdin]),
  })
  return { code, stdout, stderr }
}

export const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname
