/**
 * OX benchmark: one signcrypt + open round trip of a 200-byte payload through the backend, raw
 * OpenPGP.js doing the same crypto, and the gpg CLI (one process per step); then encryption to
 * 1, 5 and 20 recipient keys. Targets: backend within 1.1× of raw OpenPGP.js, at least 5× faster
 * than gpg.
 *
 *   pnpm --filter @vouch/backend-ox bench            (ROUNDS=1000 by default)
 *
 * Fairness:
 * - same crypto work: the backend parses a stored key once and keeps the parsed `Key` (a cache per
 *   state key, re-validated against the stored bytes on every use), so the raw case reuses parsed
 *   keys too; a third case ("raw, parsing keys every call") shows what parsing would cost;
 * - the cases run interleaved, their order alternating each iteration, so load and GC hit them
 *   alike; the ratios are from the same run, both of the medians and the median of per-iteration
 *   ratios;
 * - wall time and CPU time (`process.cpuUsage()`: all threads of the process, including the
 *   libuv pool where WebCrypto runs) are both reported: the machine is shared, and CPU time is
 *   what load distorts least;
 * - gpg: one process to sign+encrypt and one to decrypt, as a user would run them, with
 *   gpg-agent started beforehand and `--no-autostart` on every measured call (a cold agent would
 *   make the call fail rather than be timed). Its CPU is the children's (`/proc/self/stat`
 *   cutime+cstime) plus the agent's, a mean over all calls (clock ticks are too coarse per call).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, FullJid } from '@vouch/tm-core'
import { Element, NS_OX } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import type { OxBackend } from '../src/index.ts'
import { buildContent, generateOxKey, oxBackend } from '../src/index.ts'

const ALICE = 'alice@example.org' as BareJid
const BOB = 'bob@example.org' as BareJid
const PAYLOAD = 'x'.repeat(200)
const ROUNDS = Number(process.env.ROUNDS ?? 1000)

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

interface Sample {
  readonly name: string
  readonly wall: number[]
  readonly cpu: number[]
}

type Case = readonly [string, () => Promise<void> | void]

/**
 * Runs the cases interleaved (their order reversed every other iteration) and records wall and
 * CPU milliseconds of each call.
 */
async function interleaved(iterations: number, cases: readonly Case[]): Promise<Sample[]> {
  for (let i = 0; i < Math.min(50, iterations); i++) for (const [, fn] of cases) await fn() // warm-up
  const samples: Sample[] = cases.map(([name]) => ({ name, wall: [], cpu: [] }))
  const order = cases.map((_, j) => j)
  for (let i = 0; i < iterations; i++) {
    for (const j of i % 2 === 0 ? order : [...order].reverse()) {
      const fn = (cases[j] as Case)[1]
      const sample = samples[j] as Sample
      const c = process.cpuUsage()
      const t = performance.now()
      await fn()
      sample.wall.push(performance.now() - t)
      const d = process.cpuUsage(c)
      sample.cpu.push((d.user + d.system) / 1000)
    }
  }
  for (const s of samples)
    console.log(
      `${s.name.padEnd(56)} wall ${median(s.wall).toFixed(3).padStart(7)} ms  cpu ${median(s.cpu).toFixed(3).padStart(7)} ms  (n=${iterations})`,
    )
  return samples
}

/** Ratio of the medians and median of the per-iteration ratios (a / b). */
function ratios(a: readonly number[], b: readonly number[]): { ofMedians: number; paired: number } {
  return { ofMedians: median(a) / median(b), paired: median(a.map((x, i) => x / (b[i] as number))) }
}

const stores = new Map<BareJid, AccountTrustStore>()

async function account(jid: BareJid, key: openpgp.PrivateKey): Promise<OxBackend> {
  const store = memoryStore().forAccount(jid)
  stores.set(jid, store)
  const ox = oxBackend()({ store })
  await ox.importOwnKey(key)
  return ox
}

/** Imports `owner`'s key and registers it as ATM's keysDiscovered would (TOAKAFA). */
async function importKey(ox: OxBackend, owner: BareJid, bytes: Uint8Array): Promise<void> {
  const results = await ox.importPublicKey(owner, bytes)
  const store = stores.get(ox.account) as AccountTrustStore
  for (const r of results)
    if (r.status.usable)
      await store.addKeys(
        NS_OX,
        owner,
        [r.info.keyId],
        { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
        'automatically-trusted',
      )
}

const aliceKey = await generateOxKey(ALICE)
const bobKey = await generateOxKey(BOB)
const alice = await account(ALICE, aliceKey)
const bob = await account(BOB, bobKey)
await importKey(alice, BOB, await bob.exportPublicKey())
await importKey(bob, ALICE, await alice.exportPublicKey())
const body = new Element('body', { xmlns: 'jabber:client' }).t(PAYLOAD)
const stanza = { from: `${ALICE}/bench` as FullJid, to: BOB }
const content = (to: readonly BareJid[]): Uint8Array =>
  new TextEncoder().encode(
    buildContent({
      mode: 'signcrypt',
      to,
      time: new Date(),
      payload: [body],
      rpad: 'r'.repeat(100),
    }).toString(),
  )

console.log(
  `OX round trip, 200-byte payload (Node ${process.version}, ${openpgp.config.versionString}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')})`,
)
const backendCase = async (): Promise<void> => {
  const { element } = await alice.encrypt(body, [BOB])
  await bob.decrypt(element, stanza)
}

// raw OpenPGP.js: the same content element and the same crypto (sign with alice, encrypt to bob and
// alice, decrypt with bob, verify with alice), parsed keys reused as the backend's cache does
const aliceRaw = await openpgp.readPrivateKey({ binaryKey: aliceKey.write() })
const bobRaw = await openpgp.readPrivateKey({ binaryKey: bobKey.write() })
const alicePub = aliceRaw.toPublic()
const recipients = [bobRaw.toPublic(), alicePub]
const rawRoundTrip = async (
  signingKey: openpgp.PrivateKey,
  encryptionKeys: openpgp.PublicKey[],
  decryptionKey: openpgp.PrivateKey,
  verificationKey: openpgp.PublicKey,
): Promise<void> => {
  const message = await openpgp.createMessage({ binary: content([BOB]) })
  const bytes = await openpgp.encrypt({ message, encryptionKeys, signingKeys: signingKey, format: 'binary' })
  const m = await openpgp.readMessage({ binaryMessage: bytes })
  const r = await openpgp.decrypt({
    message: m,
    decryptionKeys: decryptionKey,
    verificationKeys: [verificationKey],
    expectSigned: true,
    format: 'binary',
  })
  new TextDecoder().decode(r.data as Uint8Array)
}
const rawCase = (): Promise<void> => rawRoundTrip(aliceRaw, recipients, bobRaw, alicePub)
// what the backend would cost without its parsed-key cache: every key read from bytes per call
const aliceBytes = aliceKey.write()
const bobBytes = bobKey.write()
const alicePubBytes = aliceKey.toPublic().write()
const bobPubBytes = bobKey.toPublic().write()
const rawParsingCase = async (): Promise<void> =>
  rawRoundTrip(
    await openpgp.readPrivateKey({ binaryKey: aliceBytes }),
    [await openpgp.readKey({ binaryKey: bobPubBytes }), await openpgp.readKey({ binaryKey: alicePubBytes })],
    await openpgp.readPrivateKey({ binaryKey: bobBytes }),
    await openpgp.readKey({ binaryKey: alicePubBytes }),
  )

const [backend, raw] = (await interleaved(ROUNDS, [
  ['backend: encrypt(signcrypt) + decrypt (all checks)', backendCase],
  ['raw openpgp.js: encrypt+sign + decrypt+verify', rawCase],
  ['raw openpgp.js, parsing the 4 keys every call', rawParsingCase],
])) as [Sample, Sample, Sample]

let gpgResult: { backend: Sample; gpg: Sample; cpuMean?: number; backendCpuMean: number } | undefined
const home = mkdtempSync(join(tmpdir(), 'vouch-bench-gpg-'))
try {
  const gpg = (args: string[], input?: Uint8Array | string) => {
    const r = spawnSync(
      'gpg',
      [
        '--homedir',
        home,
        '--batch',
        '--yes',
        '--no-tty',
        '--no-autostart',
        '--pinentry-mode',
        'loopback',
        '--trust-model',
        'always',
        ...args,
      ],
      { input: input === undefined ? undefined : Buffer.from(input) },
    )
    if (r.error !== undefined || r.status !== 0)
      throw new Error(`gpg ${args.join(' ')}: ${r.error ?? r.stderr.toString()}`)
    return r.stdout
  }
  // start the agent now, so no measured call pays for its start-up
  const launch = spawnSync('gpgconf', ['--homedir', home, '--launch', 'gpg-agent'])
  if (launch.error !== undefined || launch.status !== 0)
    throw new Error(`gpgconf --launch gpg-agent: ${launch.error ?? launch.stderr.toString()}`)
  const pidLine = spawnSync('gpg-connect-agent', ['--homedir', home, '--no-autostart', 'getinfo pid', '/bye'])
    .stdout.toString()
    .match(/^D (\d+)/m)
  const agentPid = pidLine?.[1]
  gpg(['--import'], aliceKey.write())
  gpg(['--import'], bobKey.write())
  const text = content([BOB])
  const a = aliceKey.getFingerprint()
  const b = bobKey.getFingerprint()
  const gpgCase = (): void => {
    const enc = gpg(
      ['--local-user', a, '--recipient', b, '--recipient', a, '--sign', '--encrypt', '--output', '-'],
      text,
    )
    gpg(['--decrypt', '--output', '-'], enc)
  }
  // CPU of gpg: children (waited for by spawnSync) + the agent, in clock ticks
  const ticks = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100
  const statTicks = (pid: string): number => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
    // fields 14-17 (utime stime cutime cstime) are 12-15 after the name and state
    return rest.slice(11, 15).reduce((s, x) => s + Number(x), 0)
  }
  const gpgCpu = (): number | undefined => {
    try {
      const self = readFileSync('/proc/self/stat', 'utf8')
      const rest = self.slice(self.lastIndexOf(')') + 2).split(' ')
      const children = Number(rest[13]) + Number(rest[14]) // cutime + cstime
      return children + (agentPid === undefined ? 0 : statTicks(agentPid))
    } catch {
      return undefined
    }
  }
  const n = Math.max(60, Math.round(ROUNDS / 8))
  for (let i = 0; i < 10; i++) gpgCase() // warm-up: trustdb, page cache
  const before = gpgCpu()
  const [bk, g] = (await interleaved(n, [
    ['backend (again, interleaved with gpg)', backendCase],
    ['gpg CLI: sign+encrypt process + decrypt process (cpu: ours)', gpgCase],
  ])) as [Sample, Sample]
  const after = gpgCpu()
  // the warm-up inside interleaved() ran gpgCase 50 more times: count them in the mean
  const calls = n + Math.min(50, n)
  gpgResult = {
    backend: bk,
    gpg: g,
    backendCpuMean: bk.cpu.reduce((s, x) => s + x, 0) / bk.cpu.length,
    ...(before === undefined || after === undefined
      ? {}
      : { cpuMean: (((after - before) / ticks) * 1000) / calls }),
  }
  if (gpgResult.cpuMean !== undefined)
    console.log(
      `gpg CPU (processes + agent), mean per round trip: ${gpgResult.cpuMean.toFixed(2)} ms; backend mean ${gpgResult.backendCpuMean.toFixed(2)} ms`,
    )
} catch (e) {
  console.log(`gpg CLI: not measured (${(e as Error).message.split('\n')[0]})`)
} finally {
  spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'])
  rmSync(home, { recursive: true, force: true })
}

console.log('\nEncryption (signcrypt) to N recipient keys, backend vs raw openpgp.js')
const contacts: BareJid[] = []
const contactKeys: openpgp.PublicKey[] = []
for (let i = 0; i < 20; i++) {
  const jid = `contact${i}@example.org` as BareJid
  const key = await generateOxKey(jid)
  await importKey(alice, jid, key.toPublic().write())
  contacts.push(jid)
  contactKeys.push(key.toPublic())
}
const fanout: Array<[number, Sample, Sample]> = []
for (const n of [1, 5, 20]) {
  const to = contacts.slice(0, n)
  const keys = [...contactKeys.slice(0, n), alicePub]
  const rawEncrypt = async (): Promise<void> => {
    const message = await openpgp.createMessage({ binary: content(to) })
    await openpgp.encrypt({ message, encryptionKeys: keys, signingKeys: aliceRaw, format: 'binary' })
  }
  const [b, r] = (await interleaved(Math.max(100, Math.round(ROUNDS / 3)), [
    [`backend: encrypt to ${n} contact key(s) + own`, async () => void (await alice.encrypt(body, to))],
    [`raw openpgp.js: encrypt to ${n} key(s) + own`, rawEncrypt],
  ])) as [Sample, Sample]
  fanout.push([n, b, r])
}

const fmt = (r: { ofMedians: number; paired: number }): string =>
  `${r.ofMedians.toFixed(3)}x of medians, ${r.paired.toFixed(3)}x paired`
console.log(
  `\nSummary (load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')})`,
)
const wallRatio = ratios(backend.wall, raw.wall)
const cpuRatio = ratios(backend.cpu, raw.cpu)
console.log(`backend / raw round trip, wall: ${fmt(wallRatio)} (target <= 1.10x)`)
console.log(`backend / raw round trip, cpu:  ${fmt(cpuRatio)}`)
console.log(
  `  round-trip target ${wallRatio.ofMedians <= 1.1 && cpuRatio.ofMedians <= 1.1 ? 'met' : 'NOT met'} (wall and cpu)`,
)
if (gpgResult !== undefined) {
  const speedup = median(gpgResult.gpg.wall) / median(gpgResult.backend.wall)
  console.log(
    `gpg / backend round trip, wall: ${speedup.toFixed(2)}x faster (target >= 5x): ${speedup >= 5 ? 'met' : 'NOT met'}`,
  )
  if (gpgResult.cpuMean !== undefined)
    console.log(
      `gpg / backend round trip, cpu (means): ${(gpgResult.cpuMean / gpgResult.backendCpuMean).toFixed(2)}x`,
    )
}
for (const [n, b, r] of fanout)
  console.log(
    `encrypt to ${String(n).padStart(2)} keys: backend ${median(b.wall).toFixed(2)} ms, raw ${median(r.wall).toFixed(2)} ms, wall ${fmt(ratios(b.wall, r.wall))}; cpu ${fmt(ratios(b.cpu, r.cpu))}`,
  )
