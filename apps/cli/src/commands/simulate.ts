/**
 * `vouch simulate`: runs the default ATM (XEP-0450) scenario on the deterministic network
 * simulator — the minimal spanning set of mutual manual authentications — and shows, step by
 * step, the manual actions, each trust message (from → to, which keys, who could read it) and the
 * final trust matrix; or, with `--json`, one line:
 * `{"manualAuthentications":n,"trustMessagesSent":m,"converged":bool,"matrix":{…}}`.
 */
import type { Network, ScenarioOptions, ScenarioReport, StoreFactory } from '@vouch/simulator'
import {
  formatScenario,
  isPostgresUrl,
  parseAccounts,
  postgresStores,
  runSpanningScenario,
  scenarioJson,
} from '@vouch/simulator'
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
  /** `memory`, `sqlite` (in memory), or a PostgreSQL URL (`postgres://…`: tables of its own per endpoint, dropped afterwards) */
  readonly store?: string
  /** ANSI colour in the text output (the command sets it when stdout is a TTY) */
  readonly color?: boolean
}

/** SQLite in memory, one database per endpoint. */
const sqliteFactory: StoreFactory = () => sqliteStore({ database: ':memory:' })

/** What `closeSimulation` must release besides the network (the PostgreSQL run's tables and pool). */
const cleanups = new WeakMap<Network, () => Promise<void>>()

/** `--store`: memory, sqlite, or a PostgreSQL URL. */
function storeOf(value: string): string {
  if (value === 'memory' || value === 'sqlite' || isPostgresUrl(value)) return value
  throw new UsageError(
    `--store ${value}: expected memory, sqlite or a PostgreSQL URL (postgres://user@host:5432/db)`,
  )
}

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
  const kind = storeOf(options.store ?? 'memory')
  const postgres = isPostgresUrl(kind) ? await postgresStores(kind) : undefined
  const store: StoreFactory | undefined = postgres?.factory ?? (kind === 'sqlite' ? sqliteFactory : undefined)
  let report: ScenarioReport
  try {
    report = await runSpanningScenario({
      accounts,
      seed: options.seed ?? 1,
      adversary: {
        reorder: options.reorder === true,
        duplicate: options.duplicate === true ? 0.5 : 0,
        dropToArchive: options.drop === true ? 0.3 : 0,
      },
      offline: options.offline ?? [],
      ...(store === undefined ? {} : { store }),
    })
  } catch (e) {
    await postgres?.close().catch(() => {})
    throw e
  }
  if (postgres !== undefined) cleanups.set(report.network, () => postgres.close())
  return report
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
  try {
    await net.close()
  } finally {
    await cleanups.get(net)?.()
    cleanups.delete(net)
  }
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
      new Option(
        '--store <kind>',
        'trust store of every endpoint: memory, sqlite, or a PostgreSQL URL (postgres://…; tables of its own per endpoint, dropped afterwards)',
      )
        .argParser(storeOf)
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
