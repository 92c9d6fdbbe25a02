/**
 * The Node provider before and after the asynchronous curve path, one run: `provider-core.ts`'s
 * rows with `nodeCryptoProvider` on the sources of `BENCH_BASE` (default `c073b24~1`, the last
 * commit whose X3DH and ratchet were synchronous) and on the working tree, rounds alternating (which goes first flips each round).
 * The base's sources are taken with `git archive` into a temporary copy of this package whose
 * `node_modules` is a link to this one's. CPU time (`process.cpuUsage()`), medians in ms and the
 * ratio now / base. Then the core rows again, interleaved per sample (a batch of the base, a batch
 * of the current code, the order flipping each sample), which cancels the load's drift between rows,
 * and the backend's two message rows the same way.
 *
 *   pnpm --filter @vouch/backend-omemo exec tsx bench/async-path.bench.ts
 *     (BENCH_BASE, BENCH_NOW, BENCH_ROUNDS, BENCH_SAMPLES, BENCH_INTERLEAVED)
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { decryptPayload, encryptPayload } from '../src/payload.ts'
import type { CryptoProvider } from '../src/provider.ts'
import { nodeCryptoProvider } from '../src/provider-node.ts'
import { omemoBackend } from '../src/backend.ts'
import { Element, type BareJid } from '@vouch/tm-core'
import type { EncryptedKey, parseKeyExchange, Session } from '../src/session.ts'
import type { IdentityKeyPair, PreKeyBundle, X25519KeyPair } from '../src/x3dh.ts'
import {
  type BenchClock,
  type Account,
  account,
  type BenchResult,
  corePair,
  introduce,
  stanza,
  roundTrip,
  runProviderBench,
  sessionSetup,
} from './provider-core.ts'

const BASE = process.env.BENCH_BASE ?? 'c073b24~1'
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5)
const pkg = fileURLToPath(new URL('..', import.meta.url))
const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: pkg, encoding: 'utf8' }).trim()
const clock: BenchClock = {
  now: () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  },
  batchMs: 20,
  overheadMs: 0,
}

const MSG = new Uint8Array(200).fill(0x61)

/** The base's protocol functions: synchronous. */
interface BaseCore {
  identityFromSeed(p: CryptoProvider, seed: Uint8Array): IdentityKeyPair
  x25519KeyPair(p: CryptoProvider): X25519KeyPair
  signSignedPreKey(p: CryptoProvider, identity: IdentityKeyPair, pub: Uint8Array): Uint8Array
  createActiveSession(p: CryptoProvider, own: IdentityKeyPair, bundle: PreKeyBundle): Session
  acceptKeyExchange(
    p: CryptoProvider,
    own: IdentityKeyPair,
    kex: ReturnType<typeof parseKeyExchange>,
    keys: { spk: X25519KeyPair; pkPriv: Uint8Array },
  ): { session: Session; plaintext: Uint8Array }
  sessionEncrypt(p: CryptoProvider, s: Session, keyMaterial: Uint8Array): EncryptedKey
  sessionDecrypt(p: CryptoProvider, s: Session, bytes: Uint8Array): Uint8Array
  parseKeyExchange: typeof parseKeyExchange
  encryptPayload: typeof encryptPayload
  decryptPayload: typeof decryptPayload
}

/** The core rows on the base, synchronous as they were. */
function baseRows(m: BaseCore, p: CryptoProvider) {
  const dev = () => {
    const identity = m.identityFromSeed(p, p.randomBytes(32))
    const spk = m.x25519KeyPair(p)
    const pk = m.x25519KeyPair(p)
    const spks = m.signSignedPreKey(p, identity, spk.pub)
    return {
      identity,
      spk,
      pk,
      bundle: { ik: identity.edPub, spkId: 1, spk: spk.pub, spks, preKeys: [{ id: 1, pub: pk.pub }] },
    }
  }
  const setup = () => {
    const a = dev()
    const b = dev()
    const sa = m.createActiveSession(p, a.identity, b.bundle)
    const sealed = m.encryptPayload(p, MSG)
    const kex = m.parseKeyExchange(m.sessionEncrypt(p, sa, sealed.keyMaterial).bytes)
    const r = m.acceptKeyExchange(p, b.identity, kex, { spk: b.spk, pkPriv: b.pk.priv })
    m.decryptPayload(p, sealed.ciphertext, r.plaintext)
    return { sa, sb: r.session }
  }
  const trip = (from: Session, to: Session) => {
    const sealed = m.encryptPayload(p, MSG)
    const k = m.sessionEncrypt(p, from, sealed.keyMaterial)
    m.decryptPayload(p, sealed.ciphertext, m.sessionDecrypt(p, to, k.bytes))
  }
  const { sa, sb } = setup()
  m.sessionDecrypt(p, sa, m.sessionEncrypt(p, sb, new Uint8Array(32)).bytes)
  let turn = 0
  return {
    'core: round trip, same direction (200 B)': () => trip(sa, sb),
    'core: round trip, ping-pong (200 B)': () => (turn++ % 2 === 0 ? trip(sa, sb) : trip(sb, sa)),
    'core: session setup (X3DH both sides + first message)': () => void setup(),
  }
}

/** The same rows on the current code (the asynchronous path). */
async function nowRows(p: CryptoProvider) {
  const c = await corePair(p)
  let turn = 0
  return {
    'core: round trip, same direction (200 B)': () => roundTrip(p, c.sa, c.sb),
    'core: round trip, ping-pong (200 B)': () =>
      turn++ % 2 === 0 ? roundTrip(p, c.sa, c.sb) : roundTrip(p, c.sb, c.sa),
    'core: session setup (X3DH both sides + first message)': () => sessionSetup(p),
  }
}

/** Per-operation CPU ms of `fn` over a batch of `n` (synchronous: no await in the loop). */
function batchSync(fn: () => void, n: number): number {
  const t = clock.now() as number
  for (let i = 0; i < n; i++) fn()
  return ((clock.now() as number) - t) / n
}

async function batchAsync(fn: () => unknown, n: number): Promise<number> {
  const t = clock.now() as number
  for (let i = 0; i < n; i++) await fn()
  return ((clock.now() as number) - t) / n
}

/** Ends the run early (BENCH_NOW: no interleaved part). */
class Done extends Error {}

const dir = mkdtempSync(join(tmpdir(), 'omemo-base-'))
try {
  const rel = 'packages/backend-omemo'
  /** The package's sources at `rev`, in `dir/<sub>`, its `node_modules` a link to this one's. */
  const extract = async (rev: string, sub: string) => {
    const paths = ['src', 'bench/provider-core.ts', 'test/helpers.ts', 'package.json'].map(
      (p) => `${rel}/${p}`,
    )
    const tar = execFileSync('git', ['archive', rev, ...paths], { cwd: repo, maxBuffer: 64 << 20 })
    mkdirSync(join(dir, sub), { recursive: true })
    execFileSync('tar', ['-x', '-C', join(dir, sub)], { input: tar })
    symlinkSync(join(pkg, 'node_modules'), join(dir, sub, rel, 'node_modules'))
    const at = (f: string) => import(pathToFileURL(join(dir, sub, rel, f)).href)
    return {
      at,
      core: (await at('bench/provider-core.ts')) as { runProviderBench: typeof runProviderBench },
      provider: (await at('src/provider-node.ts')) as { nodeCryptoProvider: typeof nodeCryptoProvider },
    }
  }
  const baseTree = await extract(BASE, 'base')
  const base = baseTree.core
  const baseProvider = baseTree.provider
  // BENCH_NOW=<rev>: the whole rows of that revision instead of the working tree (e.g. the commit that made the
  // path asynchronous, against its parent, without the later changes of other packages' code); no interleaved part
  const NOW = process.env.BENCH_NOW
  const nowTree = NOW === undefined ? undefined : await extract(NOW, 'now')
  const rounds: { base: BenchResult[]; now: BenchResult[] } = { base: [], now: [] }
  const runBase = async () =>
    rounds.base.push(await base.runProviderBench(baseProvider.nodeCryptoProvider(), SAMPLES, clock))
  const runNow = async () =>
    rounds.now.push(
      nowTree === undefined
        ? await runProviderBench(nodeCryptoProvider(), SAMPLES, clock)
        : await nowTree.core.runProviderBench(nowTree.provider.nodeCryptoProvider(), SAMPLES, clock),
    )
  for (let r = 0; r < ROUNDS; r++) {
    // the order flips each round: the second run of a round finds the heap the first one grew
    if (r % 2 === 0) await runBase().then(runNow)
    else await runNow().then(runBase)
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`)
  }
  const median = (all: BenchResult[], row: string): number => {
    const v = all.map((x) => x[row] as number).sort((a, b) => a - b)
    return v[Math.floor(v.length / 2)] as number
  }
  const f = (v: number): string => (v < 0.1 ? v.toFixed(4) : v.toFixed(3))
  console.log(
    `node:crypto provider, synchronous path (${BASE}) vs asynchronous path (${NOW ?? 'working tree'}), Node ${process.version}; CPU time, medians in ms of ${ROUNDS} alternating rounds × ${SAMPLES} samples of ≥ 20 ms batches`,
  )
  console.log('| work | before (sync) | now (async) | now / before |')
  console.log('| --- | --- | --- | --- |')
  for (const row of Object.keys(rounds.now[0] ?? {})) {
    const b = median(rounds.base, row)
    const n = median(rounds.now, row)
    console.log(`| ${row} | ${f(b)} | ${f(n)} | ${(n / b).toFixed(2)} |`)
  }

  if (nowTree !== undefined) throw new Done()
  // the core rows interleaved per sample
  const load = (f: string) => baseTree.at(`src/${f}`)
  const baseCore = {
    ...(await load('session.ts')),
    ...(await load('x3dh.ts')),
    ...(await load('payload.ts')),
  } as BaseCore
  const bp = baseProvider.nodeCryptoProvider()
  const bRows = baseRows(baseCore, bp)
  const nRows = await nowRows(nodeCryptoProvider())
  const INTERLEAVED = Number(process.env.BENCH_INTERLEAVED ?? 21)
  console.log(
    `\nThe core rows interleaved per sample: ${INTERLEAVED} batches of ≥ 20 ms each, the order flipping each sample; CPU medians in ms`,
  )
  console.log('| work | before (sync) | now (async) | now / before |')
  console.log('| --- | --- | --- | --- |')
  for (const row of Object.keys(bRows) as (keyof typeof bRows)[]) {
    const fb = bRows[row]
    const fn = nRows[row]
    for (let i = 0; i < 5; i++) {
      fb()
      await fn()
    }
    const n = Math.max(1, Math.ceil(20 / Math.max(batchSync(fb, 3), 0.001)))
    const tb: number[] = []
    const tn: number[] = []
    for (let i = 0; i < INTERLEAVED; i++) {
      if (i % 2 === 0) {
        tb.push(batchSync(fb, n))
        tn.push(await batchAsync(fn, n))
      } else {
        tn.push(await batchAsync(fn, n))
        tb.push(batchSync(fb, n))
      }
    }
    const med = (v: number[]) => v.sort((x, y) => x - y)[Math.floor(v.length / 2)] as number
    const b = med(tb)
    const c = med(tn)
    console.log(`| ${row} | ${f(b)} | ${f(c)} | ${(c / b).toFixed(2)} |`)
  }
  // the backend's message rows, interleaved the same way (an account pair on each side)
  const body = new Element('body', { xmlns: 'jabber:client' }).t('a'.repeat(200))
  const pairOn = async (p: CryptoProvider, make: typeof omemoBackend, tag: string) => {
    const A = await account(p, `alice-${tag}@bench.example` as BareJid, make)
    const B = await account(p, `bob-${tag}@bench.example` as BareJid, make)
    await introduce(A, [B])
    await introduce(B, [A])
    const trip = async (s: Account, r: Account) => {
      const m = await s.backend.encrypt(body, [r.jid])
      await r.backend.decrypt(m.element, stanza(s.jid, r.jid))
    }
    await trip(A, B)
    for (const e of await B.backend.takeEmptyMessages())
      await A.backend.decryptMessage(e.element, stanza(B.jid, A.jid))
    let turn = 0
    return {
      'backend: round trip, same direction (200 B)': () => trip(A, B),
      'backend: round trip, ping-pong (200 B)': () => (turn++ % 2 === 0 ? trip(A, B) : trip(B, A)),
    }
  }
  const baseBackend = ((await load('backend.ts')) as { omemoBackend: typeof omemoBackend }).omemoBackend
  const bb = await pairOn(bp, baseBackend, 'base')
  const nb = await pairOn(nodeCryptoProvider(), omemoBackend, 'now')
  for (const row of Object.keys(bb) as (keyof typeof bb)[]) {
    const fb = bb[row]
    const fn = nb[row]
    for (let i = 0; i < 5; i++) {
      await fb()
      await fn()
    }
    const n = Math.max(1, Math.ceil(20 / Math.max(await batchAsync(fb, 3), 0.001)))
    const tb: number[] = []
    const tn: number[] = []
    for (let i = 0; i < INTERLEAVED; i++) {
      if (i % 2 === 0) {
        tb.push(await batchAsync(fb, n))
        tn.push(await batchAsync(fn, n))
      } else {
        tn.push(await batchAsync(fn, n))
        tb.push(await batchAsync(fb, n))
      }
    }
    const med = (v: number[]) => v.sort((x, y) => x - y)[Math.floor(v.length / 2)] as number
    console.log(`| ${row} | ${f(med(tb))} | ${f(med(tn))} | ${(med(tn) / med(tb)).toFixed(2)} |`)
  }
} catch (e) {
  if (!(e instanceof Done)) throw e
} finally {
  rmSync(dir, { recursive: true, force: true })
}
