/**
 * `vouch`: the command-line tool of the Vouch suite (a composition root: it wires packages
 * together and holds no protocol logic).
 */
import { pathToFileURL } from 'node:url'
import { Command, CommanderError } from 'commander'
import { registerOnlineCommands } from './commands/online.ts'
import { registerOxCommands } from './commands/ox.ts'
import { registerSceCommands } from './commands/sce.ts'
import { registerSimulateCommand } from './commands/simulate.ts'
import { registerTmCommands } from './commands/tm.ts'
import { registerUriCommands } from './commands/uri.ts'
import { type Output, processOutput, reportError } from './io.ts'

export interface CliContext {
  readonly output: Output
  readonly stdin: NodeJS.ReadableStream
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('vouch')
    .description(
      'Trust Messages (XEP-0434), SCE (XEP-0420), Trust Message URIs and ATM (XEP-0450) from a terminal',
    )
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.output.out(s),
      writeErr: (s) => ctx.output.err(s),
    })
  registerTmCommands(program, ctx)
  registerUriCommands(program, ctx)
  registerSceCommands(program, ctx)
  registerSimulateCommand(program, ctx)
  registerOxCommands(program, ctx)
  registerOnlineCommands(program, ctx)
  for (const cmd of program.commands) inheritSettings(cmd)
  return program
}

function inheritSettings(cmd: Command): void {
  cmd.exitOverride()
  for (const sub of cmd.commands) inheritSettings(sub)
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function run(
  argv: readonly string[],
  ctx: CliContext = { output: processOutput, stdin: process.stdin },
): Promise<number> {
  const program = buildProgram(ctx)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return 0
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are not failures; commander already printed its message
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.help' ||
        e.code === 'commander.version'
      )
        return 0
      return e.exitCode === 0 ? 0 : 2
    }
    return reportError(e, ctx.output)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await run(process.argv.slice(2))
}
