import { Readable } from 'node:stream'
import { Command, CommanderError } from 'commander'
import { registerSimulateCommand } from '../src/commands/simulate.ts'
import { reportError } from '../src/io.ts'
import { run } from '../src/main.ts'

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** An Output that collects what the CLI prints, one line per call. */
function captured(): {
  readonly output: { out(t: string): void; err(t: string): void }
  result(code: number): CliResult
} {
  let stdout = ''
  let stderr = ''
  return {
    output: {
      out: (t) => {
        stdout += t.endsWith('\n') ? t : `${t}\n`
      },
      err: (t) => {
        stderr += t.endsWith('\n') ? t : `${t}\n`
      },
    },
    result: (code) => ({ code, stdout, stderr }),
  }
}

/** Runs the CLI in-process with captured output and the given standard input. */
export async function vouch(argv: readonly string[], stdin = ''): Promise<CliResult> {
  const c = captured()
  const code = await run(argv, { output: c.output, stdin: Readable.from([stdin]) })
  return c.result(code)
}

/** `vouch simulate …` in-process with captured output (the command on its own program). */
export async function simulateCli(args: readonly string[]): Promise<CliResult> {
  const c = captured()
  const program = new Command('vouch')
    .exitOverride()
    .configureOutput({ writeOut: c.output.out, writeErr: c.output.err })
  registerSimulateCommand(program, { output: c.output, stdin: Readable.from(['']) })
  for (const cmd of program.commands) cmd.exitOverride()
  try {
    await program.parseAsync(['simulate', ...args], { from: 'user' })
    return c.result(0)
  } catch (e) {
    if (e instanceof CommanderError) return c.result(e.exitCode === 0 ? 0 : 2)
    return c.result(reportError(e, c.output))
  }
}

export const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname
