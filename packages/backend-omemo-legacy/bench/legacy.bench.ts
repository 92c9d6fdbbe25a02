/**
 * OMEMO 0.3 benchmark, one run, medians in milliseconds, side by side (ours and raw libsignal-ts
 * alternate iteration by iteration, so both meet the same load and JIT state):
 *   - ours (`@vouch/backend-omemo-legacy`: XML, AES-128-GCM payload, store transaction, pruned
 *     records) with the Node providers (node:crypto X25519 and Web Crypto subset);
 *   - raw libsignal-protocol-typescript 0.0.16 (`bench/raw.ts`: the same AES-128-GCM payload and
 *     `key ‖ tag` through SessionCipher, a used pre key replaced, records in a Map — no XML, no
 *     store, no checks) with its defaults (asm.js curve, Web Crypto) and with the same Node providers;
 *   - python-oldmemo 1.0.3 through python-omemo (timed inside Python by the harness).
 * Then the flatness run: 5,000 ping-pong messages, median of the first and the last 500, and the
 * session record size at the end (ours; raw with the Node providers for comparison).
 *
 *   pnpm --filter @vouch/backend-omemo-legacy bench     (BENCH_N=… iterations, BENCH_PINGPONG=…,
 *   BENCH_ONLY=ops,python,flatness, BENCH_SETS=node,default, BENCH_STORE=bare: see bareState)
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, FullJid } from '@vouch/tm-core'
import { Element } from '@vouch/tm-core'
import { type LegacyOmemoBackend, legacyOmemoBackend } from '../src/backend.ts'
import { installCurve, installWebCrypto, type LegacyCurve, type LibsignalWebCrypto } from '../src/curve.ts'
import { libsignalCurve, nodeCurve, nodeWebCrypto } from '../src/node-curve.ts'
import { countChains } from '../src/prune.ts'
import { NS_AXOLOTL } from '../src/wire.ts'
import { OldmemoHarness, oldmemoUnavailable } from '@vouch/python-omemo-harness'
import { anchorPersists, type RawParty, rawEncryptTo, rawMessage, rawParty, rawSession } from './raw.ts'

const N = Number(process.env.BENCH_N ?? 200)
const PINGPONG = Number(process.env.BENCH_PINGPONG ?? 5000)
const FANOUT = [1, 10, 100]
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2000)
const TEXT = 'x'.repeat(200)

interface Providers {
  readonly name: string
  readonly curve: LegacyCurve
  readonly webCrypto: LibsignalWebCrypto
}
const NODE: Providers = { name: 'node', curve: nodeCurve(), webCrypto: nodeWebCrypto() }
const DEFAULT: Providers = {
  name: 'default',
  curve: libsignalCurve(),
  webCrypto: globalThis.crypto as unknown as LibsignalWebCrypto,
}
function use(p: Providers): void {
  installCurve(p.curve)
  installWebCrypto(p.webCrypto)
}

async function timed(f: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage()
  const s = process.hrtime.bigint()
  await f()
  const d = process.cpuUsage(c0)
  return { wall: Number(process.hrtime.bigint() - s) / 1e6, cpu: (d.user + d.system) / 1000 }
}
function med(t: number[]): number {
  const s = [...t].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

// ——— ours ———

let seq = 0
interface Ours {
  readonly jid: BareJid
  readonly backend: LegacyOmemoBackend
  readonly deviceId: number
}
/** `a` learns every device of `owners` (device list and bundles) and records their keys. */
async function learn(a: Ours, owner: BareJid, devices: readonly Ours[]): Promise<void> {
  await a.backend.importDeviceList(
    owner,
    devices.map((d) => d.deviceId),
  )
  const keys = []
  for (const d of devices)
    keys.push(await a.backend.importBundle(owner, d.deviceId, await d.backend.ownBundle()))
  await storeOf(a).addKeys(
    NS_AXOLOTL,
    owner,
    keys,
    { provenance: { kind: 'policy', policy: 'toakafa' }, at: 0 },
    'automatically-trusted',
  )
}
/**
 * Diagnostic (`BENCH_STORE=bare`): the memory store, but the backend state in a plain Map (no
 * copies) and transactions that are plain calls (no isolation, no rollback). Not a store anyone
 * should use: it shows how much of the wrapper's cost is the store's.
 */
function bareState(store: AccountTrustStore): AccountTrustStore {
  const m = new Map<string, Uint8Array>()
  const at = (ns: string, key: string): string => `${ns}\u0000${key}`
  const own: Partial<AccountTrustStore> = {
    transaction: (fn) => fn(self),
    getState: async (ns, key) => m.get(at(ns, key)),
    setState: async (ns, key, v) => void m.set(at(ns, key), v),
    deleteState: async (ns, key) => void m.delete(at(ns, key)),
    listState: async (ns, prefix = '') =>
      [...m.keys()]
        .filter((k) => k.startsWith(at(ns, prefix)))
        .map((k) => k.slice(ns.length + 1))
        .sort(),
  }
  const self: AccountTrustStore = new Proxy(store, {
    get(target, p) {
      if (typeof p === 'string' && p in own) return own[p as keyof AccountTrustStore]
      const v = Reflect.get(target, p, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  return self
}
const BARE = process.env.BENCH_STORE === 'bare'
const ANCHOR_PERSISTS = process.env.BENCH_ANCHOR === 'persist'

const stores = new WeakMap<LegacyOmemoBackend, AccountTrustStore>()
function storeOf(o: Ours) {
  return stores.get(o.backend) as NonNullable<ReturnType<typeof stores.get>>
}
async function oursWithStore(jid?: string): Promise<Ours> {
  const j = (jid ?? `o${++seq}@bench.example`) as BareJid
  const memory = memoryStore().forAccount(j)
  const store = BARE ? bareState(memory) : memory
  const backend = legacyOmemoBackend({ preKeyCount: 20 })({ store })
  stores.set(backend, store)
  const { deviceId } = await backend.createDevice()
  await backend.importDeviceList(j, [deviceId])
  return { jid: j, backend, deviceId }
}
const body = (t: string): Element => new Element('body', { xmlns: 'jabber:client' }).t(t)
const addr = (from: Ours, to: Ours) => ({ from: `${from.jid}/b` as FullJid, to: to.jid })
async function oursSend(s: Ours, r: Ours): Promise<void> {
  const m = await s.backend.encrypt(body(TEXT), [r.jid])
  await r.backend.decrypt(m.element, addr(s, r))
}
async function oursPair(): Promise<[Ours, Ours]> {
  const a = await oursWithStore()
  const b = await oursWithStore()
  await learn(a, b.jid, [b])
  await learn(b, a.jid, [a])
  return [a, b]
}
async function oursEstablished(): Promise<[Ours, Ours]> {
  const [a, b] = await oursPair()
  await oursSend(a, b)
  for (const m of await b.backend.takeEmptyMessages()) await a.backend.decrypt(m.element, addr(b, a))
  return [a, b]
}

// ——— raw libsignal ———

/** Raw libsignal's pairs in a ping-pong are renewed this often (their records grow, ours do not). */
const RAW_RENEW = 20

let rawPairs = 0
async function rawEstablished(): Promise<[RawParty, RawParty]> {
  const a = await rawParty(`a${++rawPairs}@x`, 1)
  const b = await rawParty(`b${rawPairs}@x`, 2)
  await rawSession(a, b)
  await rawMessage(a, b, TEXT)
  await rawMessage(b, a, TEXT)
  return [a, b]
}

// ——— side by side ———

/** One operation of one side: `prepare` (untimed) makes what `run` (timed) works on. */
interface Side<T> {
  readonly prepare: () => Promise<T>
  readonly run: (ctx: T) => Promise<void>
}
interface Timing {
  wall: number[]
  cpu: number[]
}

/**
 * Ours and raw libsignal alternately, iteration by iteration (which side goes first alternates
 * too), so that both meet the same load and the same JIT state: `warm` untimed rounds, then `n`
 * timed ones. Medians of wall and CPU time of each side.
 */
async function sideBySide<A, B>(
  ours: Side<A>,
  raw: Side<B>,
  n: number,
  warm: number,
): Promise<{ ours: { wall: number; cpu: number }; raw: { wall: number; cpu: number } }> {
  const to: Timing = { wall: [], cpu: [] }
  const tr: Timing = { wall: [], cpu: [] }
  const one = async <T>(side: Side<T>, into: Timing | undefined): Promise<void> => {
    const ctx = await side.prepare()
    const t = await timed(() => side.run(ctx))
    if (into !== undefined) {
      into.wall.push(t.wall)
      into.cpu.push(t.cpu)
    }
  }
  for (let i = 0; i < warm + n; i++) {
    const timedRound = i >= warm
    if (i % 2 === 0) {
      await one(ours, timedRound ? to : undefined)
      await one(raw, timedRound ? tr : undefined)
    } else {
      await one(raw, timedRound ? tr : undefined)
      await one(ours, timedRound ? to : undefined)
    }
  }
  return {
    ours: { wall: med(to.wall), cpu: med(to.cpu) },
    raw: { wall: med(tr.wall), cpu: med(tr.cpu) },
  }
}

type Figures = Record<string, { ours: { wall: number; cpu: number }; raw: { wall: number; cpu: number } }>

/** Every operation, ours and raw libsignal side by side (with the providers installed now). */
async function figures(): Promise<Figures> {
  const out: Figures = {}
  const none = async (): Promise<void> => undefined
  // session setup: a fresh pair (made untimed), the first message encrypted (X3DH, key exchange) and decrypted
  let r = 0
  out.sessionSetupMs = await sideBySide(
    { prepare: oursPair, run: ([a, b]) => oursSend(a, b) },
    {
      prepare: async () => [await rawParty(`ra${++r}@x`, 1), await rawParty(`rb${r}@x`, 2)] as const,
      run: async ([a, b]) => {
        await rawSession(a, b)
        await rawMessage(a, b, TEXT)
      },
    },
    Math.max(10, N / 10),
    3,
  )
  // same direction, on established sessions
  const [oa, ob] = await oursEstablished()
  const [ra, rb] = await rawEstablished()
  out.sameDirectionMs = await sideBySide(
    { prepare: none, run: () => oursSend(oa, ob) },
    { prepare: none, run: async () => void (await rawMessage(ra, rb, TEXT)) },
    N,
    20,
  )
  // ping-pong (a fresh pair): a ratchet step each; raw libsignal keeps a chain per step, so its pairs are renewed
  // (untimed) every RAW_RENEW messages: their records stay at 1–11 chains, ours at 10–12
  const [pa, pb] = await oursEstablished()
  let oi = 0
  let ri = 0
  let rp: [RawParty, RawParty] = [ra, rb]
  out.pingPongMs = await sideBySide(
    { prepare: none, run: () => (oi++ % 2 === 0 ? oursSend(pa, pb) : oursSend(pb, pa)) },
    {
      prepare: async () => {
        if (ri % RAW_RENEW === 0) rp = await rawEstablished()
      },
      run: async () => {
        const [x, y] = rp
        await (ri++ % 2 === 0 ? rawMessage(x, y, TEXT) : rawMessage(y, x, TEXT))
      },
    },
    N,
    20,
  )
  for (const n of FANOUT) {
    const sender = await oursWithStore()
    const jid = `fan${n}-${++seq}@bench.example` as BareJid
    const devices: Ours[] = []
    for (let d = 0; d < n; d++) devices.push(await oursWithStore(jid))
    await learn(sender, jid, devices)
    await sender.backend.encrypt(body(TEXT), [jid]) // builds the sessions
    const rs = await rawParty(`fs${n}-${seq}@x`, 1)
    const rr: RawParty[] = []
    for (let d = 0; d < n; d++) {
      const x = await rawParty(`fr${n}-${seq}@x`, d + 2)
      await rawSession(rs, x)
      rr.push(x)
    }
    await rawEncryptTo(rs, rr, TEXT) // as ours: the sessions exist and have sent once
    out[`encryptTo${n}Ms`] = await sideBySide(
      { prepare: none, run: async () => void (await sender.backend.encrypt(body(TEXT), [jid])) },
      { prepare: none, run: async () => void (await rawEncryptTo(rs, rr, TEXT)) },
      Math.max(15, Math.floor(N / n)),
      2,
    )
  }
  return out
}

// ——— flatness ———

/** Medians of each run of 500 messages (rounded to µs): where a change of cost shows. */
const blocks = (t: readonly number[]): number[] => {
  const out: number[] = []
  for (let i = 0; i + 500 <= t.length; i += 500) out.push(Math.round(med(t.slice(i, i + 500)) * 1000) / 1000)
  return out
}

async function flatness(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  // warm-up on another pair (JIT), so the first 500 measured are not the process's first messages
  const [wa, wb] = await oursEstablished()
  for (let i = 0; i < WARMUP; i++) await (i % 2 === 0 ? oursSend(wa, wb) : oursSend(wb, wa))
  const [a, b] = await oursEstablished()
  const t: number[] = []
  const tc: number[] = []
  for (let i = 0; i < PINGPONG; i++) {
    const x = await timed(() => (i % 2 === 0 ? oursSend(a, b) : oursSend(b, a)))
    t.push(x.wall)
    tc.push(x.cpu)
  }
  const first = med(t.slice(0, 500))
  const last = med(t.slice(-500))
  const record = (await a.backend.sessionRecord(b.jid, b.deviceId)) as string
  out.ours = {
    messages: PINGPONG,
    first500Ms: first,
    last500Ms: last,
    lastOverFirst: last / first,
    cpuFirst500Ms: med(tc.slice(0, 500)),
    cpuLast500Ms: med(tc.slice(-500)),
    cpuLastOverFirst: med(tc.slice(-500)) / med(tc.slice(0, 500)),
    recordBytes: new TextEncoder().encode(record).length,
    chains: countChains(record),
    cpuBlocksOf500Ms: blocks(tc),
  }
  const wra = await rawParty('wa@x', 1)
  const wrb = await rawParty('wb@x', 2)
  await rawSession(wra, wrb)
  for (let i = 0; i < WARMUP; i++)
    await (i % 2 === 0 ? rawMessage(wra, wrb, TEXT) : rawMessage(wrb, wra, TEXT))
  const ra = await rawParty('fa@x', 1)
  const rb = await rawParty('fb@x', 2)
  await rawSession(ra, rb)
  await rawMessage(ra, rb, TEXT)
  const r: number[] = []
  const rc: number[] = []
  for (let i = 0; i < PINGPONG; i++) {
    const x = await timed(
      async () => void (await (i % 2 === 0 ? rawMessage(ra, rb, TEXT) : rawMessage(rb, ra, TEXT))),
    )
    r.push(x.wall)
    rc.push(x.cpu)
  }
  const rawRecord = ra.store.sessions.get('fb@x.2') as string
  out.rawNodeProviders = {
    messages: PINGPONG,
    first500Ms: med(r.slice(0, 500)),
    last500Ms: med(r.slice(-500)),
    lastOverFirst: med(r.slice(-500)) / med(r.slice(0, 500)),
    cpuFirst500Ms: med(rc.slice(0, 500)),
    cpuLast500Ms: med(rc.slice(-500)),
    cpuLastOverFirst: med(rc.slice(-500)) / med(rc.slice(0, 500)),
    recordBytes: new TextEncoder().encode(rawRecord).length,
    chains: countChains(rawRecord),
    cpuBlocksOf500Ms: blocks(rc),
  }
  return out
}

async function python(): Promise<Record<string, unknown> | string> {
  const why = oldmemoUnavailable()
  if (why !== undefined) return `skipped: ${why}`
  const h = new OldmemoHarness()
  try {
    const version = await h.request('version')
    const figures = await h.request<Record<string, unknown>>('bench', { iterations: N, recipients: FANOUT })
    return { version, ...figures }
  } finally {
    await h.close()
  }
}

const ratio = (x: unknown, y: unknown): string => ((x as number) / (y as number)).toFixed(2)

async function main(): Promise<void> {
  console.log(
    `OMEMO 0.3 benchmark, medians in ms (N=${N}, Node ${process.version}), ${new Date().toISOString()}`,
  )
  if (BARE) console.log('diagnostic: ours over bareState (no copies, no transactions), not the memory store')
  if (ANCHOR_PERSISTS)
    console.log(
      'anchor variant (BENCH_ANCHOR=persist): raw libsignal-ts with its records in a memory trust store and the <encrypted/> element written and read',
    )
  anchorPersists(ANCHOR_PERSISTS)
  const only = (process.env.BENCH_ONLY ?? 'ops,python,flatness').split(',')
  const f = (v: unknown): string => (typeof v === 'number' ? v.toFixed(3) : '–')
  if (only.includes('ops')) {
    // BENCH_SETS=node leaves the library's default providers out (a quicker run)
    const sets = [
      NODE,
      ...((process.env.BENCH_SETS ?? 'node,default').split(',').includes('default') ? [DEFAULT] : []),
    ]
    const results: Array<[Providers, Figures]> = []
    for (const p of sets) {
      use(p)
      const r = await figures()
      console.log(`ours and raw libsignal-ts side by side, ${p.name} providers`, JSON.stringify(r))
      results.push([p, r])
    }
    use(NODE)
    const rows: [string, string][] = [
      ['session setup (first message, X3DH, encrypt + decrypt)', 'sessionSetupMs'],
      ['round trip, same direction', 'sameDirectionMs'],
      ['round trip, ping-pong (a ratchet step each)', 'pingPongMs'],
      ...FANOUT.map((n): [string, string] => [
        `encrypt to ${n} device${n === 1 ? '' : 's'}`,
        `encryptTo${n}Ms`,
      ]),
    ]
    for (const kind of ['wall', 'cpu'] as const) {
      console.log(
        kind === 'wall'
          ? 'wall time, medians in ms:'
          : 'CPU time of this process (user + system), medians in ms:',
      )
      console.log(
        `| figure | ${results.map(([p]) => `ours (${p.name}) | raw (${p.name}) | ours / raw`).join(' | ')} |`,
      )
      console.log(`|---|${results.map(() => '---|---|---|').join('')}`)
      for (const [name, key] of rows)
        console.log(
          `| ${name} | ${results
            .map(([, r]) => {
              const x = r[key] as Figures[string]
              return `${f(x.ours[kind])} | ${f(x.raw[kind])} | ${ratio(x.ours[kind], x.raw[kind])}×`
            })
            .join(' | ')} |`,
        )
    }
  }
  if (only.includes('python')) console.log('python-oldmemo', JSON.stringify(await python()))
  if (only.includes('flatness')) {
    use(process.env.BENCH_PROVIDERS === 'default' ? DEFAULT : NODE)
    console.log(
      `flatness (${process.env.BENCH_PROVIDERS === 'default' ? 'library defaults' : 'node providers'})`,
    )
    console.log(JSON.stringify(await flatness(), null, 2))
  }
}

await main()
