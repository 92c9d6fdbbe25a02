/**
 * OX benchmark: one signcrypt + open round trip of a 200-byte payload through the backend, raw
 * OpenPGP.js doing the same crypto, and the gpg CLI (one process per step); then encryption to
 * 1, 5 and 20 recipient keys. Medians of one run. Targets: backend within 1.1× of raw
 * OpenPGP.js, at least 5× faster than gpg.
 *
 *   pnpm --filter @vouch/backend-ox bench
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, FullJid } from '@vouch/tm-core'
import { Element } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import type { OxBackend } from '../src/index.ts'
import { buildContent, generateOxKey, oxBackend } from '../src/index.ts'

const ALICE = 'alice@example.org' as BareJid
const BOB = 'bob@example.org' as BareJid
const PAYLOAD = 'x'.repeat(200)

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

async function measure(name: string, iterations: number, fn: () => Promise<void> | void): Promise<number> {
  return (await interleaved(iterations, [[name, fn]]))[0] as number
}

/**
 * Runs the cases alternately (case 1, case 2, case 1, …) so a busy machine slows them alike,
 * and prints each median.
 */
async function interleaved(
  iterations: number,
  cases: ReadonlyArray<readonly [string, () => Promise<void> | void]>,
): Promise<number[]> {
  for (let i = 0; i < Math.min(20, iterations); i++) for (const [, fn] of cases) await fn() // warm-up
  const times = cases.map(() => [] as number[])
  for (let i = 0; i < iterations; i++)
    for (const [j, [, fn]] of cases.entries()) {
      const t = performance.now()
      await fn()
      times[j]?.push(performance.now() - t)
    }
  return cases.map(([name], j) => {
    const m = median(times[j] ?? [])
    console.log(`${name.padEnd(58)} median ${m.toFixed(3).padStart(8)} ms  (n=${iterations})`)
    return m
  })
}

async function account(jid: BareJid, key: openpgp.PrivateKey): Promise<OxBackend> {
  const ox = oxBackend()({ store: memoryStore().forAccount(jid) })
  await ox.importOwnKey(key)
  return ox
}

const aliceKey = await generateOxKey(ALICE)
const bobKey = await generateOxKey(BOB)
const alice = await account(ALICE, aliceKey)
const bob = await account(BOB, bobKey)
await alice.importPublicKey(BOB, await bob.exportPublicKey())
await bob.importPublicKey(ALICE, await alice.exportPublicKey())
const body = new Element('body', { xmlns: 'jabber:client' }).t(PAYLOAD)
const stanza = { from: `${ALICE}/bench` as FullJid, to: BOB }

console.log(
  `OX round trip, 200-byte payload (Node ${process.version}, openpgp ${openpgp.config.versionString})`,
)
const backendCase = async (): Promise<void> => {
  const { element } = await alice.encrypt(body, [BOB])
  await bob.decrypt(element, stanza)
}

// raw OpenPGP.js: the same content element, keys parsed once, no checks beyond OpenPGP.js's own
const aliceRaw = await openpgp.readPrivateKey({ binaryKey: aliceKey.write() })
const bobRaw = await openpgp.readPrivateKey({ binaryKey: bobKey.write() })
const recipients = [bobRaw.toPublic(), aliceRaw.toPublic()]
const rawCase = async (): Promise<void> => {
  const text = buildContent({
    mode: 'signcrypt',
    to: [BOB],
    time: new Date(),
    payload: [body],
    rpad: 'r'.repeat(100),
  }).toString()
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode(text) })
  const bytes = await openpgp.encrypt({
    message,
    encryptionKeys: recipients,
    signingKeys: aliceRaw,
    format: 'binary',
  })
  const m = await openpgp.readMessage({ binaryMessage: bytes })
  const r = await openpgp.decrypt({
    message: m,
    decryptionKeys: bobRaw,
    verificationKeys: [aliceRaw.toPublic()],
    expectSigned: true,
    format: 'binary',
  })
  new TextDecoder().decode(r.data as Uint8Array)
}
const [backend, raw] = (await interleaved(400, [
  ['backend: encrypt(signcrypt) + decrypt (all checks)', backendCase],
  ['raw openpgp.js: encrypt+sign + decrypt+verify', rawCase],
])) as [number, number]

let gpgMedian: number | undefined
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
        '--pinentry-mode',
        'loopback',
        '--trust-model',
        'always',
        ...args,
      ],
      {
        input: input === undefined ? undefined : Buffer.from(input),
      },
    )
    if (r.error !== undefined || r.status !== 0)
      throw new Error(`gpg ${args.join(' ')}: ${r.error ?? r.stderr.toString()}`)
    return r.stdout
  }
  gpg(['--import'], aliceKey.write())
  gpg(['--import'], bobKey.write())
  const text = buildContent({
    mode: 'signcrypt',
    to: [BOB],
    time: new Date(),
    payload: [body],
    rpad: 'r'.repeat(100),
  }).toString()
  const a = aliceKey.getFingerprint()
  const b = bobKey.getFingerprint()
  gpgMedian = await measure('gpg CLI: --sign --encrypt process + --decrypt process', 40, () => {
    const enc = gpg(
      ['--local-user', a, '--recipient', b, '--recipient', a, '--sign', '--encrypt', '--output', '-'],
      text,
    )
    gpg(['--decrypt', '--output', '-'], enc)
  })
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
  await alice.importPublicKey(jid, key.toPublic().write())
  contacts.push(jid)
  contactKeys.push(key.toPublic())
}
const fanout: Array<[number, number, number]> = []
for (const n of [1, 5, 20]) {
  const to = contacts.slice(0, n)
  const keys = [...contactKeys.slice(0, n), aliceRaw.toPublic()]
  const rawEncrypt = async (): Promise<void> => {
    const text = buildContent({
      mode: 'signcrypt',
      to,
      time: new Date(),
      payload: [body],
      rpad: 'r'.repeat(100),
    }).toString()
    const message = await openpgp.createMessage({ binary: new TextEncoder().encode(text) })
    await openpgp.encrypt({ message, encryptionKeys: keys, signingKeys: aliceRaw, format: 'binary' })
  }
  const [b, r] = (await interleaved(150, [
    [`backend: encrypt to ${n} contact key(s) + own`, async () => void (await alice.encrypt(body, to))],
    [`raw openpgp.js: encrypt to ${n} key(s) + own`, rawEncrypt],
  ])) as [number, number]
  fanout.push([n, b, r])
}

console.log('\nSummary')
const ratio = backend / raw
console.log(
  `backend / raw openpgp.js round trip: ${ratio.toFixed(2)}x (target <= 1.10x): ${ratio <= 1.1 ? 'met' : 'NOT met'}`,
)
if (gpgMedian !== undefined) {
  const speedup = gpgMedian / backend
  console.log(
    `gpg / backend round trip: ${speedup.toFixed(1)}x faster (target >= 5x): ${speedup >= 5 ? 'met' : 'NOT met'}`,
  )
}
for (const [n, b, r] of fanout)
  console.log(
    `encrypt to ${String(n).padStart(2)} keys: backend ${b.toFixed(2)} ms, raw ${r.toFixed(2)} ms, ratio ${(b / r).toFixed(2)}x`,
  )
