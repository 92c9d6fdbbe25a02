/**
 * The OMEMO 2 work of `tooling/browser-tests/bench/omemo-browser-vs-node.bench.ts`,
 * platform-neutral: it runs in Node and, the same module, in Chromium. Every figure is the median
 * of per-operation times, each sample timing a batch of operations long enough that the clock's
 * resolution and the cost of reading it do not matter. The clock is the caller's: wall time
 * (`performance.now()`, 100 µs steps in a page without cross-origin isolation), or CPU time
 * (Node's `process.cpuUsage()`, Chromium's main-thread `ThreadTime` read over CDP), which a
 * machine loaded by other work does not inflate.
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, FullJid } from '@vouch/tm-core'
import { Element } from '@vouch/tm-core'
import { type OmemoBackend, omemoBackend } from '../src/backend.ts'
import { decryptPayload, encryptPayload } from '../src/payload.ts'
import type { CryptoProvider } from '../src/provider.ts'
import {
  acceptKeyExchange,
  createActiveSession,
  parseKeyExchange,
  type Session,
  sessionDecrypt,
  sessionEncrypt,
} from '../src/session.ts'
import { identityFromSeed, signSignedPreKey, x25519KeyPair } from '../src/x3dh.ts'
import { standInForAtm } from '../test/helpers.ts'

/** Median milliseconds per operation, by row name. */
export type BenchResult = Record<string, number>

/** How a sample is timed. */
export interface BenchClock {
  /** milliseconds on this clock */
  now(): number | Promise<number>
  /** the least a sample's batch takes on this clock, ms */
  readonly batchMs: number
  /** what one pair of `now()` calls costs on this clock (subtracted from every sample), ms */
  readonly overheadMs: number
}

/** Wall time, 5 ms batches. */
export const WALL_CLOCK: BenchClock = { now: () => performance.now(), batchMs: 5, overheadMs: 0 }

const MSG = new Uint8Array(200).fill(0x61)

async function medianMs(fn: () => unknown, samples: number, clock: BenchClock): Promise<number> {
  for (let i = 0; i < 3; i++) await fn()
  let t = await clock.now()
  await fn()
  const once = Math.max((await clock.now()) - t - clock.overheadMs, 0.001)
  const batch = Math.max(1, Math.ceil(clock.batchMs / once))
  const times: number[] = []
  for (let s = 0; s < samples; s++) {
    t = await clock.now()
    for (let i = 0; i < batch; i++) await fn()
    times.push(((await clock.now()) - t - clock.overheadMs) / batch)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}

export async function device(p: CryptoProvider) {
  const identity = await identityFromSeed(p, p.randomBytes(32))
  const spk = await x25519KeyPair(p)
  const pk = await x25519KeyPair(p)
  return {
    identity,
    spk,
    pk,
    bundle: {
      ik: identity.edPub,
      spkId: 1,
      spk: spk.pub,
      spks: await signSignedPreKey(p, identity, spk.pub),
      preKeys: [{ id: 1, pub: pk.pub }],
    },
  }
}

export async function corePair(p: CryptoProvider) {
  const a = await device(p)
  const b = await device(p)
  const sa = await createActiveSession(p, a.identity, b.bundle)
  const kex = parseKeyExchange(sessionEncrypt(p, sa, new Uint8Array(48)).bytes)
  const sb = (await acceptKeyExchange(p, b.identity, kex, { spk: b.spk, pkPriv: b.pk.priv })).session
  await sessionDecrypt(p, sa, sessionEncrypt(p, sb, new Uint8Array(32)).bytes)
  return { sa, sb }
}

/** Two new devices, X3DH both sides and the first message (payload included). */
export async function sessionSetup(p: CryptoProvider): Promise<void> {
  const a = await device(p)
  const b = await device(p)
  const sa = await createActiveSession(p, a.identity, b.bundle)
  const sealed = encryptPayload(p, MSG)
  const kex = parseKeyExchange(sessionEncrypt(p, sa, sealed.keyMaterial).bytes)
  const r = await acceptKeyExchange(p, b.identity, kex, { spk: b.spk, pkPriv: b.pk.priv })
  decryptPayload(p, sealed.ciphertext, r.plaintext)
}

export async function roundTrip(p: CryptoProvider, from: Session, to: Session): Promise<void> {
  const sealed = encryptPayload(p, MSG)
  const k = sessionEncrypt(p, from, sealed.keyMaterial)
  decryptPayload(p, sealed.ciphertext, await sessionDecrypt(p, to, k.bytes))
}

export interface Account {
  readonly jid: BareJid
  readonly backend: OmemoBackend
  readonly store: AccountTrustStore
}

export async function account(
  p: CryptoProvider,
  jid: BareJid,
  make: typeof omemoBackend = omemoBackend,
): Promise<Account> {
  const store = memoryStore().forAccount(jid)
  const backend = make({ crypto: p, preKeyCount: 25 })({ store })
  await backend.createDevice()
  return { jid, backend, store }
}

/** `x` imports the devices of `ys` (one owner) as fetched from PEP; ATM (stood in for) records the keys. */
export async function introduce(x: Account, ys: readonly Account[]): Promise<void> {
  const owner = (ys[0] as Account).jid
  await x.backend.importDeviceList(
    owner,
    await Promise.all(ys.map(async (d) => ({ id: (await d.backend.ownDeviceId()) as number }))),
  )
  const keys = []
  for (const d of ys)
    keys.push(
      await x.backend.importBundle(
        owner,
        (await d.backend.ownDeviceId()) as number,
        await d.backend.ownBundle(),
      ),
    )
  await standInForAtm(x.store, owner, keys)
}

export const stanza = (from: BareJid, to: BareJid) => ({ from: `${from}/b` as FullJid, to })

/** Runs every row with provider `p`; `samples` medians per row (fewer for the slow rows). */
export async function runProviderBench(
  p: CryptoProvider,
  samples = 15,
  clock: BenchClock = WALL_CLOCK,
): Promise<BenchResult> {
  const out: BenchResult = {}
  const medianOf = (fn: () => unknown, n: number) => medianMs(fn, n, clock)
  const x = await x25519KeyPair(p)
  const y = await x25519KeyPair(p)
  out['X25519 (one DH)'] = await medianOf(() => p.x25519(x.priv, y.pub), samples)

  // core: sessions in memory
  const c = await corePair(p)
  out['core: round trip, same direction (200 B)'] = await medianOf(() => roundTrip(p, c.sa, c.sb), samples)
  let turn = 0
  out['core: round trip, ping-pong (200 B)'] = await medianOf(
    () => (turn++ % 2 === 0 ? roundTrip(p, c.sa, c.sb) : roundTrip(p, c.sb, c.sa)),
    samples,
  )
  out['core: session setup (X3DH both sides + first message)'] = await medianOf(
    () => sessionSetup(p),
    samples,
  )

  // backend: XML, SCE envelope, a store transaction per message
  const body = new Element('body', { xmlns: 'jabber:client' }).t('a'.repeat(200))
  const A = await account(p, 'alice@bench.example' as BareJid)
  const B = await account(p, 'bob@bench.example' as BareJid)
  await introduce(A, [B])
  await introduce(B, [A])
  const first = await A.backend.encrypt(body, [B.jid])
  await B.backend.decrypt(first.element, stanza(A.jid, B.jid))
  for (const e of await B.backend.takeEmptyMessages())
    await A.backend.decryptMessage(e.element, stanza(B.jid, A.jid))
  out['backend: round trip, same direction (200 B)'] = await medianOf(async () => {
    const m = await A.backend.encrypt(body, [B.jid])
    await B.backend.decrypt(m.element, stanza(A.jid, B.jid))
  }, samples)
  let t2 = 0
  out['backend: round trip, ping-pong (200 B)'] = await medianOf(async () => {
    const [s, r] = t2++ % 2 === 0 ? [A, B] : [B, A]
    const m = await s.backend.encrypt(body, [r.jid])
    await r.backend.decrypt(m.element, stanza(s.jid, r.jid))
  }, samples)
  let k = 0
  out['backend: session setup (first message, enc + dec)'] = await medianOf(
    async () => {
      const xa = await account(p, `x${k}@bench.example` as BareJid)
      const ya = await account(p, `y${k++}@bench.example` as BareJid)
      await introduce(xa, [ya])
      const m = await xa.backend.encrypt(body, [ya.jid])
      await ya.backend.decrypt(m.element, stanza(xa.jid, ya.jid))
    },
    Math.min(samples, 9),
  )
  for (const n of [10, 100]) {
    const jid = `r${n}@bench.example` as BareJid
    const devices: Account[] = []
    for (let i = 0; i < n; i++) devices.push(await account(p, jid))
    const S = await account(p, `s${n}@bench.example` as BareJid)
    await introduce(S, devices)
    await S.backend.encrypt(body, [jid]) // builds the sessions
    out[`backend: encrypt to ${n} devices`] = await medianOf(
      () => S.backend.encrypt(body, [jid]),
      Math.min(samples, 9),
    )
  }
  return out
}
