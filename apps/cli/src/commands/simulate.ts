/**
 * `vouch simulate`: runs the default ATM (XEP-0450) scenario on the deterministic network
 * simulator — the minimal spanning set of mutual manual authentications — and shows, step by
 * step, the manual actions, each trust message (from → to, which keys, who could read it) and the
 * final trust matrix; or, with `--json`, one line:
 * `{"manualAuthentications":n,"trustMessagesSent":m,"converged":bool,"matrix":{…}}`.
 */
import type { Network, ScenarioOptions, ScenarioReport, StoreFactory } from '@vouch/simulator'
import { formatScenario, parseAccounts, runSpanningScenario, scenarioJson } from '@vouch/simulator'
import { sqliteStore } from '@vouch/store-sqlite'
import { type Command, Option } from 'commander'
import { processOutput, UsageError } from '../io.ts'
import type { CliContext } from '../main.ts'

export interface SimulateOptions {
  readonly accounts: string
  readonly json?: boolean
  readonly seed?: number
  readonly reorder?: boolean
  readonly duplicate?: boolean
  readonly drop?: boolean
  readonly offline?: readonly string[]
  readonly store?: 'memory' | 'sqlite'
  /** ANSI colour in the text output (the command sets it when stdout is a TTY) */
  readonly color?: boolean
}

/** SQLite in memory, one database per endpoint. */
const sqliteFactory: StoreFactory = () => sqliteStore({ database: ':memory:' })

/**
 * Runs the scenario and returns the report (the caller closes `report.network`).
 *
 * @throws UsageError for a malformed `--accounts` or an unknown `--offline` endpoint
 */
export async function simulate(options: SimulateOptions): Promise<ScenarioReport> {
  let accounts: ScenarioOptions['accounts']
  try {
    accounts = parseAccounts(options.accounts)
  } catch (e) {
    throw new UsageError(`--accounts: ${e instanceof Error ? e.message : String(e)}`)
  }
  const labels = new Set(
    accounts.flatMap((a) => Array.from({ length: a.endpoints }, (_, i) => `${a.name}/${i + 1}`)),
  )
  for (const o of options.offline ?? [])
    if (!labels.has(o)) throw new UsageError(`--offline ${o}: no such endpoint (e.g. ${[...labels][0]})`)
  return runSpanningScenario({
    accounts,
    seed: options.seed ?? 1,
    adversary: {
      reorder: options.reorder === true,
      duplicate: options.duplicate === true ? 0.5 : 0,
      dropToArchive: options.drop === true ? 0.3 : 0,
    },
    offline: options.offline ?? [],
    ...(options.store === 'sqlite' ? { store: sqliteFactory } : {}),
  })
}

/** The text (or JSON) the command prints for a report. */
export function renderSimulation(
  report: ScenarioReport,
  options: Pick<SimulateOptions, 'json' | 'color'>,
): string {
  if (options.json === true) return JSON.stringify(scenarioJson(report))
  return formatScenario(report, { color: options.color === true })
}

export async function closeSimulation(net: Network): Promise<void> {
  await net.close()
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

function seedOf(value: string): number {
  if (!/^\d{1,10}$/.test(value)) throw new UsageError(`--seed ${value}: expected a non-negative integer`)
  return Number(value)
}

export function registerSimulateCommand(program: Command, ctx: CliContext): void {
  program
    .command('simulate')
    .description(
      'run the default ATM scenario (minimal spanning set of mutual manual authentications) on the deterministic network simulator',
    )
    .option('--accounts <list>', 'accounts and endpoint counts, NAME:COUNT,…', 'alice:3,bob:1')
    .option('--json', 'print {"manualAuthentications","trustMessagesSent","converged","matrix"} only')
    .option('--seed <n>', 'seed of keys and adversarial delivery', seedOf, 1)
    .option('--reorder', 'deliver with random delays (reordering)')
    .option('--duplicate', 'replay deliveries (duplicates)')
    .option('--drop', 'lose live copies; the archived copy (MAM) arrives later')
    .option(
      '--offline <endpoint>',
      'an endpoint (e.g. alice/2) offline until the end; repeatable',
      collect,
      [],
    )
    .addOption(
      new Option('--store <kind>', 'trust store of every endpoint')
        .choices(['memory', 'sqlite'])
        .default('memory'),
    )
    .action(async (opts: SimulateOptions & { offline: string[] }) => {
      const report = await simulate(opts)
      try {
        const color = ctx.output === processOutput && process.stdout.isTTY === true
        ctx.output.out(renderSimulation(report, { json: opts.json === true, color }))
      } finally {
        await closeSimulation(report.network)
      }
    })
}
