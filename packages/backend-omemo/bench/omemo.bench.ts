/**
 * OMEMO 2 benchmark: medians in milliseconds, ours vs python-twomemo (timed inside Python by the
 * harness) vs the raw `node:crypto` floor of the symmetric work, all in the same run.
 *
 *   pnpm --filter @vouch/backend-omemo bench        (BENCH_N=… to change the iterations)
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { BareJid, FullJid } from '@vouch/tm-core'
import { Element } from '@vouch/tm-core'
import { TwomemoHarness, twomemoUnavailable } from '@vouch/python-omemo-harness'
import { nodeCryptoProvider } from '../src/provider-node.ts'
import { account, corePair, introduce, roundTrip, sessionSetup } from './provider-core.ts'

const N = Number(process.env.BENCH_N ?? 400)
const p = nodeCryptoProvider()
const MSG = new Uint8Array(200).fill(0x61)

function median(f: () => void, n = N): number {
  for (let i = 0; i < Math.min(50, n); i++) f()
  const t: number[] = []
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint()
    f()
    t.push(Number(process.hrtime.bigint() - s) / 1e6)
  }
  t.sort((a, b) => a - b)
  return t[Math.floor(t.length / 2)] as number
}

async function medianAsync(f: () => Promise<void>, n = N): Promise<number> {
  for (let i = 0; i < Math.min(20, n); i++) await f()
  const t: number[] = []
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint()
    await f()
    t.push(Number(process.hrtime.bigint() - s) / 1e6)
  }
  t.sort((a, b) => a - b)
  return t[Math.floor(t.length / 2)] as number
}

// ——— the floor: payload + one ratchet layer, encrypt + decrypt, node:crypto directly ———
function floor(): void {
  const zero = Buffer.alloc(32)
  const ad = randomBytes(64)
  const ck = randomBytes(32)
  // sender: payload
  const key = randomBytes(32)
  const pk = Buffer.from(hkdfSync('sha256', key, zero, 'OMEMO Payload', 80))
  const c1 = createCipheriv('aes-256-cbc', pk.subarray(0, 32), pk.subarray(64, 80))
  const ct = Buffer.concat([c1.update(MSG), c1.final()])
  const tag = createHmac('sha256', pk.subarray(32, 64)).update(ct).digest().subarray(0, 16)
  const km = Buffer.concat([key, tag])
  // sender: ratchet layer
  createHmac('sha256', ck).update(Buffer.of(2)).digest()
  const mk = createHmac('sha256', ck).update(Buffer.of(1)).digest()
  const mkm = Buffer.from(hkdfSync('sha256', mk, zero, 'OMEMO Message Key Material', 80))
  const c2 = createCipheriv('aes-256-cbc', mkm.subarray(0, 32), mkm.subarray(64, 80))
  const kct = Buffer.concat([c2.update(km), c2.final()])
  const mac = createHmac('sha256', mkm.subarray(32, 64)).update(ad).update(kct).digest().subarray(0, 16)
  // receiver: ratchet layer
  createHmac('sha256', ck).update(Buffer.of(2)).digest()
  const mk2 = createHmac('sha256', ck).update(Buffer.of(1)).digest()
  const mkm2 = Buffer.from(hkdfSync('sha256', mk2, zero, 'OMEMO Message Key Material', 80))
  const mac2 = createHmac('sha256', mkm2.subarray(32, 64)).update(ad).update(kct).digest().subarray(0, 16)
  if (!mac2.equals(mac)) throw new Error('floor')
  const d2 = createDecipheriv('aes-256-cbc', mkm2.subarray(0, 32), mkm2.subarray(64, 80))
  const km2 = Buffer.concat([d2.update(kct), d2.final()])
  // receiver: payload
  const pk2 = Buffer.from(hkdfSync('sha256', km2.subarray(0, 32), zero, 'OMEMO Payload', 80))
  createHmac('sha256', pk2.subarray(32, 64)).update(ct).digest()
  const d1 = createDecipheriv('aes-256-cbc', pk2.subarray(0, 32), pk2.subarray(64, 80))
  Buffer.concat([d1.update(ct), d1.final()])
}

const body = new Element('body', { xmlns: 'jabber:client' }).t('a'.repeat(200))
const st = (from: BareJid, to: BareJid) => ({ from: `${from}/b` as FullJid, to })

async function main(): Promise<void> {
  const out: Record<string, number | string | Record<string, number>> = {}
  out.floorSymmetricMs = median(floor, N * 4)

  // core (session objects in memory)
  const c = await corePair(p)
  out.coreSameDirectionMs = await medianAsync(() => roundTrip(p, c.sa, c.sb), N * 4)
  let turn = 0
  out.corePingPongMs = await medianAsync(
    () => (turn++ % 2 === 0 ? roundTrip(p, c.sa, c.sb) : roundTrip(p, c.sb, c.sa)),
    N * 2,
  )
  out.coreSessionSetupMs = await medianAsync(() => sessionSetup(p), Math.max(50, N / 4))

  // backend (XML, SCE envelope, store transaction per message)
  const A = await account(p, 'alice@bench.example' as BareJid)
  const B = await account(p, 'bob@bench.example' as BareJid)
  await introduce(A, [B])
  await introduce(B, [A])
  const first = await A.backend.encrypt(body, [B.jid])
  await B.backend.decrypt(first.element, st(A.jid, B.jid))
  for (const e of await B.backend.takeEmptyMessages())
    await A.backend.decryptMessage(e.element, st(B.jid, A.jid))
  out.backendSameDirectionMs = await medianAsync(async () => {
    const m = await A.backend.encrypt(body, [B.jid])
    await B.backend.decrypt(m.element, st(A.jid, B.jid))
  })
  let t2 = 0
  out.backendPingPongMs = await medianAsync(async () => {
    const [s, r] = t2++ % 2 === 0 ? [A, B] : [B, A]
    const m = await s.backend.encrypt(body, [r.jid])
    await r.backend.decrypt(m.element, st(s.jid, r.jid))
  })
  let k = 0
  out.backendSessionSetupMs = await medianAsync(
    async () => {
      const x = await account(p, `x${k}@bench.example` as BareJid)
      const y = await account(p, `y${k++}@bench.example` as BareJid)
      await introduce(x, [y])
      const m = await x.backend.encrypt(body, [y.jid])
      await y.backend.decrypt(m.element, st(x.jid, y.jid))
    },
    Math.max(20, N / 10),
  )
  const fan: Record<string, number> = {}
  for (const n of [1, 10, 100]) {
    const jid = `r${n}@bench.example` as BareJid
    const devices = []
    for (let i = 0; i < n; i++) {
      const d = await account(p, jid)
      devices.push(d)
    }
    const S = await account(p, `s${n}@bench.example` as BareJid)
    await introduce(S, devices)
    await S.backend.encrypt(body, [jid]) // builds the sessions
    fan[String(n)] = await medianAsync(
      async () => {
        await S.backend.encrypt(body, [jid])
      },
      Math.max(20, Math.floor(N / Math.max(1, n / 4))),
    )
  }
  out.backendEncryptToDevicesMs = fan

  // python-twomemo, timed inside Python
  const why = twomemoUnavailable()
  if (why === undefined) {
    const h = new TwomemoHarness()
    out.python = (await h.request('bench', {
      iterations: Math.min(N, 200),
      recipients: [1, 10, 100],
    })) as Record<string, number>
    await h.close()
  } else out.python = `unavailable: ${why}`

  const py = out.python as unknown as Record<string, number & Record<string, number>>
  const f = (v: unknown): string => (typeof v === 'number' ? v.toFixed(4) : String(v))
  const rows: [string, unknown, unknown][] = [
    ['round trip, same direction (200 B)', out.backendSameDirectionMs, py.sameDirectionMs],
    ['round trip, ping-pong (200 B)', out.backendPingPongMs, py.pingPongMs],
    ['session setup (first message, enc + dec)', out.backendSessionSetupMs, py.sessionSetupMs],
    ['encrypt to 1 device', fan['1'], py.encryptToDevicesMs?.['1']],
    ['encrypt to 10 devices', fan['10'], py.encryptToDevicesMs?.['10']],
    ['encrypt to 100 devices', fan['100'], py.encryptToDevicesMs?.['100']],
  ]
  console.log(`OMEMO 2 benchmark, medians in ms (N=${N}, Node ${process.version})`)
  console.log('| work | ours (backend: XML + SCE + store) | python-twomemo | speed-up |')
  console.log('|---|---|---|---|')
  for (const [name, ours, theirs] of rows)
    console.log(
      `| ${name} | ${f(ours)} | ${f(theirs)} | ${typeof ours === 'number' && typeof theirs === 'number' ? `${(theirs / ours).toFixed(1)}×` : '–'} |`,
    )
  console.log('')
  console.log('| core (sessions in memory) | ms | vs floor |')
  console.log('|---|---|---|')
  console.log(
    `| node:crypto floor: payload + one ratchet layer, enc + dec | ${f(out.floorSymmetricMs)} | 1.0× |`,
  )
  console.log(
    `| ours, same direction | ${f(out.coreSameDirectionMs)} | ${((out.coreSameDirectionMs as number) / (out.floorSymmetricMs as number)).toFixed(2)}× |`,
  )
  console.log(`| ours, ping-pong (a DH ratchet step per message) | ${f(out.corePingPongMs)} | – |`)
  console.log(`| ours, session setup (X3DH both sides + first message) | ${f(out.coreSessionSetupMs)} | – |`)
  console.log('')
  console.log(JSON.stringify(out))
}

await main()
