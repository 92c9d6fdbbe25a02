/**
 * `vouch`: the command-line tool of the Vouch suite (a composition root: it wires packages
 * together and holds no protocol logic).
 *
 * Fast start: a command group's module (and with it its libraries) is loaded only when that
 * group runs; the others appear in `vouch --help` with their description from {@link GROUPS}.
 */
import { pathToFileURL } from 'node:url'
import { Command, CommanderError } from 'commander'
import { type Output, processOutput, reportError } from './io.ts'

export interface CliContext {
  readonly output: Output
  readonly stdin: NodeJS.ReadableStream
}

type Register = (program: Command, ctx: CliContext) => void

/** Each command group: its one-line description and how to load its registration. */
const GROUPS: readonly {
  readonly names: readonly string[]
  readonly description: string
  readonly load: () => Promise<Register>
}[] = [
  {
    names: ['tm'],
    description: 'Trust messages (XEP-0434): parse and build',
    load: async () => (await import('./commands/tm.ts')).registerTmCommands,
  },
  {
    names: ['uri'],
    description: 'Trust Message URIs: parse, build, qr; show and use (online)',
    load: async () => {
      const [{ registerUriCommands }, { registerOnlineCommands }] = await Promise.all([
        import('./commands/uri.ts'),
        import('./commands/online.ts'),
      ])
      // `uri show|use` are online subcommands of the same group (the online module is light)
      return (program, ctx) => {
        registerUriCommands(program, ctx)
        registerOnlineCommands(program, ctx)
      }
    },
  },
  {
    names: ['sce'],
    description: 'Stanza Content Encryption envelopes (XEP-0420): open',
    load: async () => (await import('./commands/sce.ts')).registerSceCommands,
  },
  {
    names: ['simulate'],
    description: 'the ATM scenario on the deterministic network simulator',
    load: async () => (await import('./commands/simulate.ts')).registerSimulateCommand,
  },
  {
    names: ['ox'],
    description: 'OpenPGP for XMPP (XEP-0373/0374) on a data directory, offline',
    load: async () => (await import('./commands/ox.ts')).registerOxCommands,
  },
  {
    names: ['account', 'device', 'chat', 'trust'],
    description: '',
    // also adds `uri show|use` to the `uri` group (a placeholder unless `uri` runs)
    load: async () => (await import('./commands/online.ts')).registerOnlineCommands,
  },
  {
    names: ['contact'],
    description: 'contacts (roster, presence subscriptions): what lets you read contacts-only keys',
    load: async () => (await import('./commands/contact.ts')).registerContactCommands,
  },
]

const ONLINE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  account: 'XMPP accounts of this device (OMEMO 2 by default, or OX, per account)',
  device: "this account's devices: add, list, revoke",
  chat: 'encrypted chat; vouch chat JID opens a line-based session (type to send)',
  trust: 'trust levels of keys (XEP-0434, XEP-0450)',
}

/** The first operand of `argv`: the command group that will run (if any). */
function groupOf(argv: readonly string[]): string | undefined {
  const operands = argv.filter((a) => !a.startsWith('-'))
  // `vouch help chat` shows the real `chat` group
  return operands[0] === 'help' ? operands[1] : operands[0]
}

/**
 * The program with the group `argv` names fully registered (all of them when `argv` is
 * `undefined`) and the others as placeholders for `--help`.
 */
export async function buildProgram(ctx: CliContext, argv?: readonly string[]): Promise<Command> {
  const program = new Command('vouch')
    .description(
      'Trust Messages (XEP-0434), SCE (XEP-0420), Trust Message URIs, ATM (XEP-0450), OMEMO 2 and OX from a terminal',
    )
    .showHelpAfterError(false)
    // options after a subcommand belong to it (`chat listen --data X`, `chat` has --data too)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.output.out(s),
      writeErr: (s) => ctx.output.err(s),
    })
  const wanted = argv === undefined ? undefined : groupOf(argv)
  for (const group of GROUPS) {
    if (argv === undefined || (wanted !== undefined && group.names.includes(wanted))) {
      const register = await group.load()
      register(program, ctx)
    } else {
      for (const name of group.names)
        if (!program.commands.some((c) => c.name() === name))
          program.command(name).description(group.description || (ONLINE_DESCRIPTIONS[name] ?? ''))
    }
  }
  // placeholders and real groups in the usual order
  const order = ['tm', 'uri', 'sce', 'simulate', 'ox', 'account', 'device', 'contact', 'chat', 'trust']
  ;(program.commands as Command[]).sort((a, b) => order.indexOf(a.name()) - order.indexOf(b.name()))
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
  try {
    const program = await buildProgram(ctx, argv)
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
