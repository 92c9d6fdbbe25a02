/**
 * One worker process of the benchmark: opens the store (PostgreSQL or a SQLite file), waits for
 * "go", then for `seconds` runs batches of {@link Args.batch} in one transaction each, each batch
 * for a random account, and reports how many it did:
 * - `decisions`: read a level, set a level, record the D-9 time (as store-sqlite's bench);
 * - `atm`: ATM trust messages through `handleTrustMessages` (one decision each, flipping one of
 *   bob's keys, from this worker's own authenticated endpoint: applied).
 */
import { type Atm, createAtm, NS_ATM, type ReceivedTrustMessage } from '@vouch/atm'
import { sqliteStore } from '@vouch/store-sqlite'
import type { BareJid, KeyId, TrustStore } from '@vouch/tm-core/contracts'
import { postgresStore } from '../src/index.ts'
import { benchAccount, NS } from './setup.ts'

interface Args {
  readonly kind: 'postgres' | 'sqlite'
  readonly target: string
  readonly prefix: string
  readonly task: 'decisions' | 'atm'
  readonly accounts: number
  readonly seconds: number
  readonly worker: number
  readonly batch: number
}

const args = JSON.parse(process.argv[2] as string) as Args
const OMEMO = { namespace: NS, capabilities: { oneKeyPerIdentity: false, keyIdLength: 32 } }

const store: TrustStore =
  args.kind === 'postgres'
    ? await postgresStore({ database: args.target, tablePrefix: args.prefix, migrate: false, poolSize: 2 })
    : await sqliteStore({ database: args.target, tablePrefix: args.prefix, busyTimeoutMs: 30_000 })

let counter = 0
const engines = new Map<number, Atm>()
const atmOf = (i: number): Atm => {
  let atm = engines.get(i)
  if (atm === undefined) {
    const a = benchAccount(i)
    atm = createAtm({
      account: a.jid,
      store: store.forAccount(a.jid),
      backends: [OMEMO],
      now: () => Date.now(),
    })
    engines.set(i, atm)
  }
  return atm
}

async function decisions(i: number): Promise<number> {
  const a = benchAccount(i)
  const sender = a.senders[args.worker] as KeyId
  await store.forAccount(a.jid).transaction(async (tx) => {
    for (let j = 0; j < args.batch; j++) {
      const n = counter++
      const keyId = a.bobKeys[n % a.bobKeys.length] as KeyId
      const level = await tx.getTrustLevel(NS, a.bob, keyId)
      await tx.setTrustLevels(
        NS,
        [
          {
            owner: a.bob,
            keyIds: [keyId],
            level: level === 'authenticated' ? 'manually-distrusted' : 'authenticated',
          },
        ],
        { provenance: { kind: 'atm', senderJid: a.jid, senderKey: sender }, at: n },
      )
      await tx.setLastApplied(NS, sender, a.bob, keyId, 1_000_000 + n)
    }
  })
  return args.batch
}

async function atmBatch(i: number): Promise<number> {
  const a = benchAccount(i)
  const sender = a.senders[args.worker] as KeyId
  const inputs: ReceivedTrustMessage[] = Array.from({ length: args.batch }, () => {
    const n = counter++
    const keyId = a.bobKeys[n % a.bobKeys.length] as KeyId
    const trust = Math.floor(n / a.bobKeys.length) % 2 === 0
    return {
      message: {
        usage: NS_ATM,
        encryption: NS,
        keyOwners: [{ jid: a.bob, trust: trust ? [keyId] : [], distrust: trust ? [] : [keyId] }],
      },
      senderJid: `${a.jid}/worker${args.worker}` as BareJid,
      senderKey: sender,
      carrier: NS,
      encrypted: true,
      sceTime: Date.UTC(2025, 0, 1) + n,
    }
  })
  const results = await atmOf(i).handleTrustMessages(inputs)
  return results.filter((r) => r.outcome === 'applied').length
}

const run = args.task === 'atm' ? atmBatch : decisions
// warm-up: compile statements, fill caches
for (let w = 0; w < 3; w++) await run(Math.floor(Math.random() * args.accounts))
await new Promise<void>((resolve) => {
  process.once('message', () => resolve())
  process.send?.({ ready: true })
})
const start = performance.now()
const deadline = start + args.seconds * 1000
let done = 0
let applied = 0
while (performance.now() < deadline) {
  applied += await run(Math.floor(Math.random() * args.accounts))
  done += args.batch
}
process.send?.({ done, applied, ms: performance.now() - start })
await store.close()
process.disconnect?.()
