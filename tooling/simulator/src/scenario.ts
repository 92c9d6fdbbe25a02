/**
 * The default ATM scenario: the minimal spanning set of manual authentications.
 *
 * A "manual authentication" here is one person-driven authentication between two endpoints in
 * both directions (a mutual QR-code scan: two manual decisions), the unit that full pairwise
 * authentication needs n(n−1)/2 of. XEP-0450 authentication is directional and decisions applied
 * from received trust messages are never re-broadcast (D-5), so a one-way scan cannot tell the
 * scanned endpoint anything: both sides must decide.
 *
 * Pairs, in this order (the order matters, see below):
 * 1. the first endpoint of the first account with each other endpoint of that account;
 * 2. the first endpoints of every two accounts (with two accounts: one pair);
 * 3. the first endpoint of every other account with each other endpoint of its account.
 * With one or two accounts that is n − 1 pairs (a spanning tree). With k ≥ 3 accounts it is
 * n − k + k(k−1)/2: XEP-0450 lets a contact vouch only for its own keys (sender qualification), so
 * two contacts who never authenticated each other cannot learn each other's keys through a third.
 * Step 3 comes after step 2 because the "all keys" message (ATM-S4) sent to a newly authenticated
 * own endpoint carries only what its sender has authenticated by then.
 */
import type { BareJid } from '@vouch/tm-core'
import type { AdversaryOptions, Network, NetworkInit, StoreFactory, TrustMatrix } from './network.ts'
import { createNetwork } from './network.ts'

export interface AccountSpec {
  /** `alice` (domain added by the network) or a bare JID */
  readonly name: string
  readonly endpoints: number
}

/**
 * Parses `alice:3,bob:1`.
 *
 * @throws RangeError for a malformed list, a count < 1 or a repeated account
 */
export function parseAccounts(text: string): AccountSpec[] {
  const out: AccountSpec[] = []
  for (const part of text.split(',')) {
    const m = /^([^:\s,/]+):(\d+)$/.exec(part.trim())
    if (m === null) throw new RangeError(`"${part}" is not NAME:COUNT (e.g. alice:3)`)
    const name = m[1] as string
    const endpoints = Number(m[2])
    if (endpoints < 1 || endpoints > 1000) throw new RangeError(`${name}: endpoint count must be 1 … 1000`)
    if (out.some((a) => a.name === name)) throw new RangeError(`account ${name} listed twice`)
    out.push({ name, endpoints })
  }
  return out
}

/** Endpoint labels of the accounts, `alice/1`, `alice/2`, … (account name before any `@`). */
export function endpointLabels(accounts: readonly AccountSpec[]): string[] {
  return accounts.flatMap((a) =>
    Array.from({ length: a.endpoints }, (_, i) => `${a.name.split('@')[0]}/${i + 1}`),
  )
}

/** The pairs of the default scenario, in order (see the module comment). */
export function spanningPairs(accounts: readonly AccountSpec[]): [string, string][] {
  const first = (a: AccountSpec): string => `${a.name.split('@')[0]}/1`
  const internal = (a: AccountSpec): [string, string][] =>
    Array.from({ length: a.endpoints - 1 }, (_, i): [string, string] => [
      first(a),
      `${a.name.split('@')[0]}/${i + 2}`,
    ])
  const [head, ...rest] = accounts
  if (head === undefined) return []
  const cross: [string, string][] = []
  for (let i = 0; i < accounts.length; i++)
    for (let j = i + 1; j < accounts.length; j++)
      cross.push([first(accounts[i] as AccountSpec), first(accounts[j] as AccountSpec)])
  return [...internal(head), ...cross, ...rest.flatMap(internal)]
}

export interface ScenarioOptions {
  readonly accounts: readonly AccountSpec[]
  readonly seed?: number
  readonly adversary?: Partial<AdversaryOptions>
  /**
   * Endpoints offline from the start: a manual decision on one is made locally and its trust
   * messages wait in its outbox; at the end each comes online, sends them, fetches the device
   * lists and catches up from the archive (MAM).
   */
  readonly offline?: readonly string[]
  readonly store?: StoreFactory
  readonly wire?: boolean
  /** deliver everything after each pair (default true; false leaves it all to the end) */
  readonly settleEachPair?: boolean
}

export interface ScenarioReport {
  readonly endpoints: readonly string[]
  readonly pairs: readonly (readonly [string, string])[]
  /** mutual manual authentications (pairs) */
  readonly manualAuthentications: number
  /** manual decisions (two per pair) */
  readonly manualDecisions: number
  /** n(n−1)/2: pairs needed without ATM */
  readonly pairwiseWithoutAtm: number
  readonly trustMessagesSent: number
  readonly converged: boolean
  readonly matrix: TrustMatrix
  /** virtual ms from the first decision to quiescence */
  readonly virtualDurationMs: number
  readonly network: Network
}

/** Runs the default scenario. The caller closes `report.network`. */
export async function runSpanningScenario(options: ScenarioOptions): Promise<ScenarioReport> {
  const labels = endpointLabels(options.accounts)
  const offline = new Set(options.offline ?? [])
  for (const o of offline) if (!labels.includes(o)) throw new RangeError(`--offline ${o}: no such endpoint`)
  const init: NetworkInit = {
    seed: options.seed ?? 1,
    ...(options.adversary === undefined ? {} : { adversary: options.adversary }),
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.wire === undefined ? {} : { wire: options.wire }),
  }
  const net = await createNetwork(init)
  for (const a of options.accounts)
    for (let i = 1; i <= a.endpoints; i++) {
      const label = `${a.name.split('@')[0]}/${i}`
      await net.addEndpoint(a.name, { resource: String(i), online: !offline.has(label) })
    }
  const start = net.now
  const pairs = spanningPairs(options.accounts)
  for (const [a, b] of pairs) {
    await net.authenticateMutually(a, b)
    if (options.settleEachPair ?? true) await net.run()
  }
  await net.run()
  for (const o of offline) await net.setOnline(o, true)
  await net.run()
  const n = labels.length
  return {
    endpoints: labels,
    pairs,
    manualAuthentications: pairs.length,
    manualDecisions: net.stats.manualDecisions,
    pairwiseWithoutAtm: (n * (n - 1)) / 2,
    trustMessagesSent: net.stats.messagesSent,
    converged: await net.converged(labels),
    matrix: await net.matrix(labels),
    virtualDurationMs: net.now - start,
    network: net,
  }
}

/** `{"manualAuthentications","trustMessagesSent","converged","matrix"}`: the CLI's `--json` form. */
export function scenarioJson(r: ScenarioReport): {
  manualAuthentications: number
  trustMessagesSent: number
  converged: boolean
  matrix: TrustMatrix
} {
  return {
    manualAuthentications: r.manualAuthentications,
    trustMessagesSent: r.trustMessagesSent,
    converged: r.converged,
    matrix: r.matrix,
  }
}

/** Bare JID → account label, for display. */
export function accountLabel(jid: BareJid): string {
  return jid.split('@')[0] ?? jid
}
