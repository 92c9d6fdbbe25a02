/**
 * Human-readable rendering of a simulation: the manual steps, each trust message (from → to,
 * which keys, who could read it and what the readers did), and the final trust matrix as an
 * aligned table. Colour (ANSI) only when asked for (the CLI asks when stdout is a TTY).
 */
import type { TrustLevel } from '@vouch/tm-core'
import type { Network, SimMessage, TrustMatrix } from './network.ts'
import type { ScenarioReport } from './scenario.ts'

export interface FormatOptions {
  readonly color?: boolean
}

const CODES: Record<TrustLevel | 'own', string> = {
  own: '·',
  authenticated: 'A',
  'manually-trusted': 'T',
  'automatically-trusted': 'at',
  'automatically-distrusted': 'ad',
  'manually-distrusted': 'D',
  undecided: '?',
}

const LEGEND =
  'A authenticated · T manually trusted · at automatically trusted · ad automatically distrusted · D manually distrusted · ? undecided'

const ANSI = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const

function paint(text: string, colour: keyof typeof ANSI, on: boolean): string {
  return on ? `\u001b[${ANSI[colour]}m${text}\u001b[0m` : text
}

function levelColour(level: TrustLevel | 'own'): keyof typeof ANSI {
  if (level === 'authenticated' || level === 'manually-trusted') return 'green'
  if (level === 'manually-distrusted') return 'red'
  if (level === 'own') return 'dim'
  return 'yellow'
}

/** The keys a message carries, as endpoint labels: `trust alice/3, bob/1; distrust alice/2`. */
export function describeKeys(net: Network, m: SimMessage): string {
  const trust: string[] = []
  const distrust: string[] = []
  for (const o of m.message.keyOwners) {
    for (const k of o.trust) trust.push(net.keyLabel(o.jid, k))
    for (const k of o.distrust) distrust.push(net.keyLabel(o.jid, k))
  }
  const parts: string[] = []
  if (trust.length > 0) parts.push(`trust ${trust.join(', ')}`)
  if (distrust.length > 0) parts.push(`distrust ${distrust.join(', ')}`)
  return parts.join('; ')
}

/** The manual steps with the trust messages each caused and what became of them. */
export function formatSteps(net: Network, options: FormatOptions = {}): string[] {
  const color = options.color === true
  const lines: string[] = []
  const byStep = new Map<number, SimMessage[]>()
  for (const m of net.messages) byStep.set(m.step, [...(byStep.get(m.step) ?? []), m])
  const outcomes = new Map<string, Map<string, string[]>>()
  for (const d of net.deliveries) {
    const per = outcomes.get(d.messageId) ?? new Map<string, string[]>()
    const key = d.readable ? (d.outcome ?? 'read') : 'unreadable'
    per.set(key, [...(per.get(key) ?? []), d.via === 'live' ? d.to : `${d.to} (${d.via})`])
    outcomes.set(d.messageId, per)
  }
  for (const e of net.trace) {
    if (e.kind === 'online' || e.kind === 'offline') {
      lines.push(paint(`        ${e.endpoint} goes ${e.kind}`, 'dim', color))
      continue
    }
    if (e.kind !== 'manual') continue
    const verb = e.action === 'authenticate' ? 'authenticates' : 'distrusts'
    lines.push(
      `${paint(`step ${String(e.step).padStart(3)}`, 'bold', color)}  ${e.by} ${verb} ${e.target}'s key (manual)`,
    )
    const sent = byStep.get(e.step) ?? []
    if (sent.length === 0) lines.push(paint('          no trust message (nothing to tell)', 'dim', color))
    for (const m of sent) {
      const readers = m.allowedKeys.map((k) => net.keyLabel(k.owner, k.keyId))
      lines.push(`          ${m.id} ${m.from} → ${m.to}: ${describeKeys(net, m)}`)
      lines.push(`              encrypted for ${readers.join(', ') || '—'}`)
      const per = outcomes.get(m.id)
      if (per !== undefined)
        for (const [what, who] of per) {
          const colour = what === 'applied' ? 'green' : what === 'unreadable' ? 'dim' : 'yellow'
          lines.push(paint(`              ${what} at ${[...new Set(who)].join(', ')}`, colour, color))
        }
    }
  }
  return lines
}

/** The trust matrix as an aligned table: rows hold, for each column's key, a level code. */
export function formatMatrix(matrix: TrustMatrix, options: FormatOptions = {}): string[] {
  const color = options.color === true
  const rows = Object.keys(matrix)
  const width = Math.max(...rows.map((r) => r.length), 4)
  const colWidth = Math.max(...rows.map((r) => r.length), 2)
  const header = `${' '.repeat(width)}  ${rows.map((c) => c.padStart(colWidth)).join(' ')}`
  const lines = [header]
  for (const r of rows) {
    const row = matrix[r] ?? {}
    const cells = rows.map((c) => {
      const level = row[c] ?? 'undecided'
      return paint(CODES[level].padStart(colWidth), levelColour(level), color)
    })
    lines.push(`${r.padEnd(width)}  ${cells.join(' ')}`)
  }
  lines.push(paint(LEGEND, 'dim', color))
  return lines
}

/** One paragraph: endpoints, manual authentications vs pairwise, messages, convergence. */
export function formatSummary(r: ScenarioReport): string {
  const n = r.endpoints.length
  const saved = r.pairwiseWithoutAtm - r.manualAuthentications
  return (
    `${n} endpoints (${r.endpoints.join(', ')}). ${r.manualAuthentications} manual authentication` +
    `${r.manualAuthentications === 1 ? '' : 's'} (mutual scans, ${r.manualDecisions} manual decisions) ` +
    `instead of the ${r.pairwiseWithoutAtm} pairwise ones n(n−1)/2 needs without ATM` +
    `${saved > 0 ? ` (${saved} saved)` : ''}; ATM sent ${r.trustMessagesSent} trust message` +
    `${r.trustMessagesSent === 1 ? '' : 's'}, ${r.network.stats.reads} readable and ` +
    `${r.network.stats.unreadable} unreadable deliveries. ` +
    (r.converged
      ? 'Converged: every endpoint authenticated every other endpoint’s key.'
      : 'NOT converged: some endpoint does not hold every other endpoint’s key as authenticated.')
  )
}

/** Steps, matrix and summary. */
export function formatScenario(r: ScenarioReport, options: FormatOptions = {}): string {
  return [
    ...formatSteps(r.network, options),
    '',
    'Final trust levels (row endpoint → column endpoint’s key):',
    ...formatMatrix(r.matrix, options),
    '',
    formatSummary(r),
  ].join('\n')
}
