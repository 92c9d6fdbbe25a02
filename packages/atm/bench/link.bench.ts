/**
 * `pnpm --filter @vouch/atm exec tsx bench/link.bench.ts`: what identity linking (D-12) costs on
 * the applied path, side by side in one run: one trust message per call authenticates or distrusts
 * one of Bob's 8 OMEMO 2 keys (newer SCE time each call), store-memory, with
 *   anchor: the engine with OMEMO 2 only (as `atm.bench.ts`);
 *   off:    OMEMO 2 (with a key link) + OMEMO 0.3, `linkIdentities: false`;
 *   on:     the same with `linkIdentities: true`, each key's OMEMO 0.3 twin stored, so every
 *           decision is also written to the twin.
 * The link is a table (engine cost only); the real map's cost is in `@vouch/backend-omemo`'s
 * key-link (about 0.2 ms per new key, then remembered).
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, KeyId, KeyLink } from '@vouch/tm-core'
import { keyIdFromBytes, NS_OMEMO_2, NS_OMEMO_LEGACY, parseBareJid, parseFullJid } from '@vouch/tm-core'
import { Bench } from 'tinybench'
import type { AtmBackend } from '../src/index.ts'
import { createAtm, NS_ATM } from '../src/index.ts'

const ALICE: BareJid = parseBareJid('alice@example.org')
const BOB: BareJid = parseBareJid('bob@example.com')
const SENDER_JID = parseFullJid('alice@example.org/phone')
let counter = 0
const key = (tag: number): KeyId => {
  const b = new Uint8Array(32)
  new DataView(b.buffer).setUint32(0, ++counter)
  b[31] = tag
  return keyIdFromBytes(b)
}
const OWN = key(1)
const SENDER = key(1)
const POOL = Array.from({ length: 8 }, () => key(1))
const TWIN = new Map(POOL.map((k) => [k, key(2)]))
const link: KeyLink = {
  namespace: NS_OMEMO_LEGACY,
  toLinked: (id) => TWIN.get(id),
  fromLinked: (x) => [...TWIN].filter(([, v]) => v === x).map(([e]) => e),
}
const OMEMO: AtmBackend = {
  namespace: NS_OMEMO_2,
  capabilities: { oneKeyPerIdentity: false, keyIdLength: 32 },
}
const LINKED: AtmBackend = { ...OMEMO, keyLinks: [link] }
const LEGACY: AtmBackend = {
  namespace: NS_OMEMO_LEGACY,
  capabilities: { oneKeyPerIdentity: false, keyIdLength: 32, bodyOnly: true },
}

async function harness(
  backends: readonly AtmBackend[],
  linkIdentities: boolean,
): Promise<() => Promise<unknown>> {
  const store = memoryStore().forAccount(ALICE)
  await store.setOwnKey(NS_OMEMO_2, OWN)
  let t = Date.UTC(2024, 0, 1)
  const atm = createAtm({ account: ALICE, store, backends, now: () => t, policy: { linkIdentities } })
  await atm.keysDiscovered(NS_OMEMO_2, ALICE, [SENDER])
  await atm.authenticate(NS_OMEMO_2, ALICE, [SENDER])
  await atm.keysDiscovered(NS_OMEMO_2, BOB, POOL)
  if (backends.length > 1) await atm.keysDiscovered(NS_OMEMO_LEGACY, BOB, [...TWIN.values()])
  let i = 0
  return () => {
    const n = i++
    t += 1
    const id = POOL[n % POOL.length] as KeyId
    const trust = Math.floor(n / POOL.length) % 2 === 0
    return atm.handleTrustMessage({
      message: {
        usage: NS_ATM,
        encryption: NS_OMEMO_2,
        keyOwners: [{ jid: BOB, trust: trust ? [id] : [], distrust: trust ? [] : [id] }],
      },
      senderJid: SENDER_JID,
      senderKey: SENDER,
      carrier: NS_OMEMO_2,
      encrypted: true,
      sceTime: t,
    })
  }
}

const tasks: [string, () => Promise<unknown>][] = [
  ['anchor: OMEMO 2 only', await harness([OMEMO], true)],
  ['off: OMEMO 2 + 0.3, linkIdentities false', await harness([LINKED, LEGACY], false)],
  ['on: OMEMO 2 + 0.3, linkIdentities true (twin written too)', await harness([LINKED, LEGACY], true)],
]
// BENCH_REVERSE=1 runs the tasks in the opposite order (the first task ran slower in our runs)
if (process.env.BENCH_REVERSE === '1') tasks.reverse()
const bench = new Bench({ time: 1500, warmupTime: 500 })
for (const [name, fn] of tasks) bench.add(name, fn)
await bench.run()
for (const t of bench.tasks) {
  const r = t.result as { latency?: { p50?: number }; throughput?: { mean?: number } } | undefined
  console.log(
    `${t.name}: ${Math.round(r?.throughput?.mean ?? 0)} messages/s, median ${((r?.latency?.p50 ?? 0) * 1000).toFixed(1)} µs`,
  )
}
