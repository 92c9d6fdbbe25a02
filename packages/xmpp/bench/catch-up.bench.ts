/**
 * `pnpm --filter @vouch/xmpp bench`: a MAM catch-up through the binding's real receive path.
 *
 * 10,000 archived OMEMO 2 messages from Bob's device, 1,000 of them trust messages (Bob, whom
 * Alice authenticated, trusts one new key of his each: ATM applies them), are read by Alice's
 * binding from an in-process archive (the fake connection of the tests: no network) in pages
 * of 100, each page decrypted, deduplicated and applied in one transaction on a SQLite FILE
 * (WAL, synchronous=FULL). Every run starts from a copy of the same database file. Reported:
 * messages/s (median of RUNS runs) and, from one more run with timers around them, where the time went: backend decrypt (crypto and its
 * state reads/writes), other store calls and commits, the ATM engine (without its store calls),
 * and the rest (XML, dedup, the binding). Target: ≥ 2,000 messages/s.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NS_OMEMO2, omemoBackend } from '@vouch/backend-omemo'
import { sqliteStore } from '@vouch/store-sqlite'
import type { AccountTrustStore, EncryptionBackend, EncryptionNamespace, KeyId } from '@vouch/tm-core'
import { keyIdFromBytes, serializeTrustMessage } from '@vouch/tm-core'
import xml from '@xmpp/xml'
import { vouchXmpp } from '../src/binding.ts'
import { type FakeArchived, fakeClient, fakeServer } from '../test/fake-client.ts'
import {
  ALICE,
  BOB,
  body,
  device,
  introduce,
  messageStanza,
  setLevel,
} from '../test/security/omemo-fixture.ts'

const MESSAGES = 10_000
const TRUST_EVERY = 10
const PAGE = 100
const RUNS = 3

const dir = mkdtempSync(join(tmpdir(), 'vouch-catchup-'))
const base = join(dir, 'alice.sqlite')

// ---- setup: Alice's device on a file, Bob's device, and Bob's 10,000 messages to Alice
const setupStore = await sqliteStore({ database: base })
const alice = setupStore.forAccount(ALICE)
const aliceOmemo = omemoBackend()({ store: alice })
await aliceOmemo.createDevice()
const aliceDevice = {
  jid: ALICE,
  store: alice,
  backend: aliceOmemo,
  key: (await aliceOmemo.ownKeys())[0] as KeyId,
}
const bob = await device(BOB)
await introduce(aliceDevice, bob)
await introduce(bob, aliceDevice)
await setLevel(aliceDevice, BOB, bob.key, 'authenticated')
await setupStore.close()

const archive: FakeArchived[] = []
const t0 = Date.now() - 3_600_000
for (let i = 0; i < MESSAGES; i++) {
  let payload = body(`message ${i}`)
  if (i % TRUST_EVERY === 0) {
    const k = new Uint8Array(32)
    new DataView(k.buffer).setUint32(0, i + 1)
    payload = serializeTrustMessage({
      usage: 'urn:xmpp:atm:1',
      encryption: NS_OMEMO2 as EncryptionNamespace,
      keyOwners: [{ jid: BOB, trust: [keyIdFromBytes(k)], distrust: [] }],
    })
  }
  const at = new Date(t0 + i * 100)
  const enc = await bob.backend.encrypt(payload, [ALICE], { now: at })
  const id = `arch-${i}`
  const m = messageStanza(`${BOB}/phone`, ALICE, enc.element, [
    xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: ALICE, id }),
  ])
  archive.push({ id, stamp: at, message: m })
}

// ---- one run
interface Shares {
  total: number
  decrypt: number
  store: number
  atm: number
}

function timedStore(
  inner: AccountTrustStore,
  shares: Shares,
  inDecrypt: { depth: number },
): AccountTrustStore {
  return new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown
      if (typeof value !== 'function') return value
      if (prop === 'transaction')
        return <T>(fn: (tx: AccountTrustStore) => Promise<T>) => {
          let inner = 0
          const start = performance.now()
          return target
            .transaction(async (tx) => {
              const s = performance.now()
              try {
                return await fn(timedStore(tx, shares, inDecrypt))
              } finally {
                inner += performance.now() - s
              }
            })
            .finally(() => {
              // BEGIN, savepoints and COMMIT (the fsync)
              if (inDecrypt.depth === 0) shares.store += performance.now() - start - inner
            })
        }
      return async (...args: unknown[]) => {
        const s = performance.now()
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        } finally {
          if (inDecrypt.depth === 0) shares.store += performance.now() - s
        }
      }
    },
  })
}

/** One catch-up; `instrumented` times decrypt, store calls and ATM (which costs a little itself). */
async function run(instrumented: boolean): Promise<Shares> {
  const file = join(dir, `run-${Math.random().toString(36).slice(2)}.sqlite`)
  copyFileSync(base, file)
  const trustStore = await sqliteStore({ database: file })
  const shares: Shares = { total: 0, decrypt: 0, store: 0, atm: 0 }
  const inDecrypt = { depth: 0 }
  const raw = trustStore.forAccount(ALICE)
  const store = instrumented ? timedStore(raw, shares, inDecrypt) : raw
  const omemo = omemoBackend()({ store: raw })
  const timed: EncryptionBackend = {
    namespace: omemo.namespace,
    capabilities: omemo.capabilities,
    ownKeys: (o) => omemo.ownKeys(o),
    keysOf: (owner, o) => omemo.keysOf(owner, o),
    encrypt: (p, to, o) => omemo.encrypt(p, to, o),
    async decrypt(el, st, o) {
      const s = performance.now()
      inDecrypt.depth++
      try {
        return await omemo.decrypt(el, st, o)
      } finally {
        inDecrypt.depth--
        shares.decrypt += performance.now() - s
      }
    },
  }
  const fake = fakeClient(fakeServer(() => archive))
  const vouch = vouchXmpp(fake.xmpp, {
    store,
    backends: [instrumented ? timed : omemo],
    mamPageSize: PAGE,
    mamMaxPages: 1000,
  })
  const handle = vouch.atm.handleTrustMessages.bind(vouch.atm)
  if (instrumented)
    (vouch.atm as { handleTrustMessages: typeof handle }).handleTrustMessages = async (inputs, options) => {
      const storeBefore = shares.store
      const s = performance.now()
      try {
        return await handle(inputs, options)
      } finally {
        shares.atm += performance.now() - s - (shares.store - storeBefore)
      }
    }
  let messages = 0
  let applied = 0
  vouch.on('message', () => messages++)
  vouch.on('trust-message', (t) => {
    if (t.outcome === 'applied') applied++
  })
  const start = performance.now()
  const r = await vouch.catchUp()
  await vouch.idle()
  shares.total = performance.now() - start
  if (
    r.messages !== MESSAGES ||
    messages !== MESSAGES - MESSAGES / TRUST_EVERY ||
    applied !== MESSAGES / TRUST_EVERY
  )
    throw new Error(`catch-up incomplete: ${JSON.stringify({ ...r, chats: messages, applied })}`)
  vouch.close()
  await trustStore.close()
  rmSync(file, { force: true })
  return shares
}

const runs: Shares[] = []
for (let i = 0; i < RUNS; i++) runs.push(await run(false))
runs.sort((a, b) => a.total - b.total)
const med = runs[Math.floor(RUNS / 2)] as Shares
const shares = await run(true)
const pct = (x: number): string => `${((100 * x) / shares.total).toFixed(1)} %`
console.log(
  `catch-up of ${MESSAGES} archived OMEMO 2 messages (${MESSAGES / TRUST_EVERY} trust messages), pages of ${PAGE}, SQLite file (WAL, FULL), median of ${RUNS}`,
)
console.table([
  {
    'messages/s': Math.round((MESSAGES * 1000) / med.total),
    'total ms': Math.round(med.total),
    decrypt: pct(shares.decrypt),
    'store + commits': pct(shares.store),
    atm: pct(shares.atm),
    'rest (XML, dedup, binding)': pct(shares.total - shares.decrypt - shares.store - shares.atm),
    'runs (messages/s)': runs.map((r) => Math.round((MESSAGES * 1000) / r.total)).join(' / '),
  },
])
rmSync(dir, { recursive: true, force: true })
