/**
 * OMEMO 0.3 benchmark, one run, medians in milliseconds, side by side:
 *   - ours (`@vouch/backend-omemo-legacy`: XML, AES-128-GCM payload, store transaction, pruned
 *     records) with the Node providers (node:crypto X25519 and Web Crypto subset);
 *   - raw libsignal-protocol-typescript 0.0.16 (`bench/raw.ts`: the same AES-128-GCM payload and
 *     `key ‖ tag` through SessionCipher, a used pre key replaced, records in a Map — no XML, no
 *     store, no checks) with its defaults (asm.js curve, Web Crypto) and with the same Node providers;
 *   - python-oldmemo 1.0.3 through python-omemo (timed inside Python by the harness).
 * Then the flatness run: 5,000 ping-pong messages, median of the first and the last 500, and the
 * session record size at the end (ours; raw with the Node providers for comparison).
 *
 *   pnpm --filter @vouch/backend-omemo-legacy bench     (BENCH_N=… iterations, BENCH_PINGPONG=…)
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, FullJid } from '@vouch/tm-core'
import { Element } from '@vouch/tm-core'
import { type LegacyOmemoBackend, legacyOmemoBackend } from '../src/backend.ts'
import { installCurve, installWebCrypto, type LegacyCurve, type LibsignalWebCrypto } from '../src/curve.ts'
import { libsignalCurve, nodeCurve, nodeWebCrypto } from '../src/node-curve.ts'
import { countChains } from '../src/prune.ts'
import { NS_AXOLOTL } from '../src/wire.ts'
import { OldmemoHarness, oldmemoUnavailable } from '@vouch/python-omemo-harness'
import { type RawParty, rawEncryptTo, rawMessage, rawParty, rawSession } from './raw.ts'

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

/**
 * Median of `n` timed runs (after `warm` untimed ones). The machine is shared (2 cores, other jobs):
 * wall time is reported, and the CPU time this process spent (`process.cpuUsage`, user + system),
 * which other processes' load hardly changes, in `lastCpu` (collected under `cpu` by the callers).
 */
async function medianAsync(f: () => Promise<void>, n = N, warm = Math.min(20, n)): Promise<number> {
  for (let i = 0; i < warm; i++) await f()
  const t: number[] = []
  const c: number[] = []
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage()
    const s = process.hrtime.bigint()
    await f()
    t.push(Number(process.hrtime.bigint() - s) / 1e6)
    const d = process.cpuUsage(c0)
    c.push((d.user + d.system) / 1000)
  }
  lastCpu = med(c)
  return med(t)
}
/** the CPU-time median of the last {@link medianAsync} */
let lastCpu = 0
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
const stores = new WeakMap<LegacyOmemoBackend, ReturnType<ReturnType<typeof memoryStore>['forAccount']>>()
function storeOf(o: Ours) {
  return stores.get(o.backend) as NonNullable<ReturnType<typeof stores.get>>
}
async function oursWithStore(jid?: string): Promise<Ours> {
  const j = (jid ?? `o${++seq}@bench.example`) as BareJid
  const store = memoryStore().forAccount(j)
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

async function oursFigures(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  const cpu: Record<string, unknown> = {}
  // session setup: a fresh pair (made untimed), the first message encrypted (X3DH, key exchange) and decrypted
  const setup: number[] = []
  const setupCpu: number[] = []
  for (let i = 0; i < Math.max(10, N / 10); i++) {
    const [a, b] = await oursPair()
    const t = await timed(() => oursSend(a, b))
    setup.push(t.wall)
    setupCpu.push(t.cpu)
  }
  out.sessionSetupMs = med(setup)
  cpu.sessionSetupMs = med(setupCpu)
  const [a, b] = await oursEstablished()
  out.sameDirectionMs = await medianAsync(() => oursSend(a, b))
  cpu.sameDirectionMs = lastCpu
  let i = 0
  out.pingPongMs = await medianAsync(() => (i++ % 2 === 0 ? oursSend(a, b) : oursSend(b, a)))
  cpu.pingPongMs = lastCpu
  const fan: Record<string, number> = {}
  const fanCpu: Record<string, number> = {}
  for (const n of FANOUT) {
    const sender = await oursWithStore()
    const jid = `fan${n}-${++seq}@bench.example`
    const devices: Ours[] = []
    for (let d = 0; d < n; d++) devices.push(await oursWithStore(jid))
    await learn(sender, jid as BareJid, devices)
    await sender.backend.encrypt(body(TEXT), [jid as BareJid]) // builds the sessions
    fan[String(n)] = await medianAsync(
      async () => void (await sender.backend.encrypt(body(TEXT), [jid as BareJid])),
      Math.max(5, Math.floor(N / n)),
      2,
    )
    fanCpu[String(n)] = lastCpu
  }
  out.encryptToDevicesMs = fan
  cpu.encryptToDevicesMs = fanCpu
  return { ...out, cpu }
}

// ——— raw libsignal ———

/** Raw libsignal's pairs in a ping-pong are renewed this often (their records grow, ours do not). */
const RAW_RENEW = 20

async function rawFigures(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  const cpu: Record<string, unknown> = {}
  const setup: number[] = []
  const setupCpu: number[] = []
  for (let i = 0; i < Math.max(10, N / 10); i++) {
    const a = await rawParty(`ra${i}@x`, 1)
    const b = await rawParty(`rb${i}@x`, 2)
    const t = await timed(async () => {
      await rawSession(a, b)
      await rawMessage(a, b, TEXT)
    })
    setup.push(t.wall)
    setupCpu.push(t.cpu)
  }
  out.sessionSetupMs = med(setup)
  cpu.sessionSetupMs = med(setupCpu)
  let pairs = 0
  const established = async (): Promise<[RawParty, RawParty]> => {
    const a = await rawParty(`a${++pairs}@x`, 1)
    const b = await rawParty(`b${pairs}@x`, 2)
    await rawSession(a, b)
    await rawMessage(a, b, TEXT)
    await rawMessage(b, a, TEXT)
    return [a, b]
  }
  const [a, b] = await established()
  out.sameDirectionMs = await medianAsync(async () => void (await rawMessage(a, b, TEXT)))
  cpu.sameDirectionMs = lastCpu
  // ping-pong: the raw library keeps a chain per ratchet step, so its pairs are renewed (untimed)
  // every RAW_RENEW messages: their records stay at 1–11 chains, ours at 10–12 (no advantage to ours)
  const pp: number[] = []
  const ppCpu: number[] = []
  let p: [RawParty, RawParty] = [a, b]
  const warm = Math.min(20, N)
  for (let i = 0; i < warm + N; i++) {
    if (i % RAW_RENEW === 0) p = await established()
    const [x, y] = p
    const t = await timed(
      async () => void (await (i % 2 === 0 ? rawMessage(x, y, TEXT) : rawMessage(y, x, TEXT))),
    )
    if (i >= warm) {
      pp.push(t.wall)
      ppCpu.push(t.cpu)
    }
  }
  out.pingPongMs = med(pp)
  cpu.pingPongMs = med(ppCpu)
  const fan: Record<string, number> = {}
  const fanCpu: Record<string, number> = {}
  for (const n of FANOUT) {
    const sender = await rawParty(`fs${n}@x`, 1)
    const rs: RawParty[] = []
    for (let d = 0; d < n; d++) {
      const r = await rawParty(`fr${n}@x`, d + 2)
      await rawSession(sender, r)
      rs.push(r)
    }
    await rawEncryptTo(sender, rs, TEXT) // as ours: the sessions exist and have sent once
    fan[String(n)] = await medianAsync(
      async () => void (await rawEncryptTo(sender, rs, TEXT)),
      Math.max(5, Math.floor(N / n)),
      2,
    )
    fanCpu[String(n)] = lastCpu
  }
  out.encryptToDevicesMs = fan
  cpu.encryptToDevicesMs = fanCpu
  return { ...out, cpu }
}

// ——— flatness ———

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
  const only = (process.env.BENCH_ONLY ?? 'ops,python,flatness').split(',')
  const f = (v: unknown): string => (typeof v === 'number' ? v.toFixed(3) : '–')
  if (only.includes('ops')) {
    // BENCH_SETS=node leaves the library's default providers out (a quicker run)
    const defaults = (process.env.BENCH_SETS ?? 'node,default').split(',').includes('default')
    use(DEFAULT)
    const rawDefault = defaults ? await rawFigures() : {}
    if (defaults) console.log('raw libsignal-ts, library defaults', JSON.stringify(rawDefault))
    use(NODE)
    const rawNode = await rawFigures()
    console.log('raw libsignal-ts, node providers', JSON.stringify(rawNode))
    const oursNode = await oursFigures()
    console.log('ours, node providers', JSON.stringify(oursNode))
    use(DEFAULT)
    const oursDefault = defaults ? await oursFigures() : {}
    if (defaults) console.log('ours, library defaults', JSON.stringify(oursDefault))
    use(NODE)
    console.log(
      '| figure | ours (node providers) | raw libsignal-ts (node providers) | ours / raw | ours (library defaults) | raw libsignal-ts (library defaults) | ours / raw |',
    )
    console.log('|---|---|---|---|---|---|---|')
    const rows: [string, (o: Record<string, unknown>) => unknown][] = [
      ['session setup (first message, X3DH, encrypt + decrypt)', (o) => o.sessionSetupMs],
      ['round trip, same direction', (o) => o.sameDirectionMs],
      ['round trip, ping-pong (a ratchet step each)', (o) => o.pingPongMs],
      ...FANOUT.map((n): [string, (o: Record<string, unknown>) => unknown] => [
        `encrypt to ${n} device${n === 1 ? '' : 's'}`,
        (o) => (o.encryptToDevicesMs as Record<string, number> | undefined)?.[String(n)],
      ]),
    ]
    for (const [name, g] of rows)
      console.log(
        `| ${name} | ${f(g(oursNode))} | ${f(g(rawNode))} | ${ratio(g(oursNode), g(rawNode))}× | ${f(g(oursDefault))} | ${f(g(rawDefault))} | ${ratio(g(oursDefault), g(rawDefault))}× |`,
      )
    console.log('CPU time of this process (user + system), medians in ms:')
    const c = (o: Record<string, unknown>) => (o.cpu ?? {}) as Record<string, unknown>
    for (const [name, g] of rows)
      console.log(
        `| ${name} | ${f(g(c(oursNode)))} | ${f(g(c(rawNode)))} | ${ratio(g(c(oursNode)), g(c(rawNode)))}× | ${f(g(c(oursDefault)))} | ${f(g(c(rawDefault)))} | ${ratio(g(c(oursDefault)), g(c(rawDefault)))}× |`,
      )
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
