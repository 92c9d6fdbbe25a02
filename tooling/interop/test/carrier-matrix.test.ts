/**
 * The carrier × listed-keys × store matrix (issue 12 point 8, D-12): for every store, every
 * backend that can carry a trust message (the carrier, Y) and every backend whose keys the message
 * lists (X), one XEP-0450 round on real crypto proves "a trust message about X keys carried by Y":
 *
 * 1. every endpoint (Alice's A1 and A2, Bob's B1, Mallory's M1) has both backends on ONE store and
 *    one ATM engine that knows both; A1 and A2 authenticated each other in Y (ATM-4: not needed
 *    with one key per identity);
 * 2. A1 authenticates B1's X key(s) by URI; the engine plans ATM-S1 over Y (OutgoingTrustMessage
 *    `carrier`), allowed keys in Y only; the message goes through the codec and Y's backend the
 *    way `@vouch/xmpp` sends it (fail closed on any key outside `allowedKeys`);
 * 3. A2 decrypts it with Y's backend, parses it and hands it to its engine with the decryption's
 *    sender key and carrier Y: applied (ATM-R1 under the cross-protocol rule) — A2 now holds B1's
 *    X key(s) authenticated, without ever having authenticated anything in X;
 * 4. M1 cannot decrypt it (TM-21); and M1's own message in Y vouching for Bob's X keys reaches A2
 *    and is ignored (X9: a contact decides about its own keys only, in any protocol).
 *
 * Off the diagonal, where X could carry its own trust messages (OMEMO 2, OX), A1's engine is told
 * X cannot (`bodyOnly`), so that it plans the message over Y as it does for OMEMO 0.3 by itself:
 * the receiving side — what D-12 is about — runs unchanged. A body-only backend (OMEMO 0.3) is no
 * carrier: its cells are skipped visibly. The diagonal cells repeat matrix.test.ts's round (b) in
 * this uniform form. Narrow with TM_BACKENDS / TM_STORES like the rest of the matrix.
 */
import type { AtmBackend, OutgoingTrustMessage } from '@vouch/atm'
import { createAtm } from '@vouch/atm'
import type { BareJid, BackendCapabilities, EncryptionBackend, KeyId } from '@vouch/tm-core'
import { parseBareJid, serializeTrustMessage } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import type { BackendEntry, BackendKit, Endpoint, OpenedStore, StoreEntry } from '../src/index.ts'
import { BACKENDS, pick, STORES } from '../src/index.ts'
import { deliver, open, type Peer, protect, rejectionOf } from './round.ts'

const backends = pick(BACKENDS, process.env.TM_BACKENDS)
const stores = pick(STORES, process.env.TM_STORES)

const ALICE = parseBareJid('alice@example.org')
const BOB = parseBareJid('bob@example.com')
const MALLORY = parseBareJid('mallory@example.net')
type Name = 'A1' | 'A2' | 'B1' | 'M1'
const ENDPOINTS: readonly { readonly name: Name; readonly jid: BareJid; readonly resource: string }[] = [
  { name: 'A1', jid: ALICE, resource: 'A1' },
  { name: 'A2', jid: ALICE, resource: 'A2' },
  { name: 'B1', jid: BOB, resource: 'B1' },
  { name: 'M1', jid: MALLORY, resource: 'M1' },
]

/** One kit per backend for the whole file: costly key material (OX keys) is made once. */
const kits = new Map<string, BackendKit>()
const kitOf = (b: BackendEntry): BackendKit => {
  let k = kits.get(b.id)
  if (k === undefined) {
    k = b.prepare()
    kits.set(b.id, k)
  }
  return k
}

/** An endpoint with both backends on one store and one engine knowing both. */
interface Dual {
  readonly name: Name
  /** the endpoint seen through the carrier's backend (what round.ts's helpers take) */
  readonly carrier: Peer
  /** its backend of the listed keys */
  readonly listed: EncryptionBackend
}

const atmBackend = (b: BackendEntry, caps: BackendCapabilities = b.capabilities): AtmBackend => ({
  namespace: b.namespace,
  capabilities: caps,
})

async function makeDuals(
  c: BackendEntry,
  l: BackendEntry,
  s: StoreEntry,
): Promise<{ readonly duals: Record<Name, Dual>; dispose(): Promise<void> }> {
  const opened: OpenedStore[] = []
  const first = await kitOf(c).makeEndpoints(async (o) => {
    const x = await s.open(o)
    opened.push(x)
    return x
  }, ENDPOINTS)
  let second: readonly Endpoint[] = first.value
  if (l.id !== c.id) {
    // the listed keys' backend on the very same stores, one per endpoint, in the same order
    let i = 0
    const reuse = async (): Promise<OpenedStore> => {
      const x = opened[i++]
      if (x === undefined) throw new Error('more endpoints than stores')
      return { store: x.store, dispose: async () => {} }
    }
    second = (await kitOf(l).makeEndpoints(reuse, ENDPOINTS)).value
  }
  const duals = {} as Record<Name, Dual>
  for (const [i, spec] of ENDPOINTS.entries()) {
    const ec = first.value[i] as Endpoint
    const el = second[i] as Endpoint
    // the sender is told the listed protocol cannot carry itself (see the header); receivers are not
    const listedCaps =
      spec.name === 'A1' && l.id !== c.id ? { ...l.capabilities, bodyOnly: true } : l.capabilities
    const atm = createAtm({
      account: ec.jid,
      ownFullJid: ec.fullJid,
      store: ec.store,
      backends: l.id === c.id ? [atmBackend(c)] : [atmBackend(c), atmBackend(l, listedCaps)],
      now: () => Date.now(),
    })
    duals[spec.name] = { name: spec.name, carrier: { ...ec, name: spec.name, atm }, listed: el.backend }
  }
  return { duals, dispose: first.dispose }
}

/** The per-device backends' bundle refetch (OMEMO 2, OMEMO 0.3); nothing for OX (no pre keys). */
interface BundleBackend {
  ownDeviceId(): Promise<number | undefined>
  ownBundle(): Promise<unknown>
  importBundle(owner: BareJid, deviceId: number, bundle: unknown): Promise<unknown>
}
const hasBundles = (b: EncryptionBackend): b is EncryptionBackend & BundleBackend =>
  typeof (b as Partial<BundleBackend>).importBundle === 'function'
async function refetchBundle(into: EncryptionBackend, of: EncryptionBackend, owner: BareJid): Promise<void> {
  if (!hasBundles(into) || !hasBundles(of)) return
  const id = await of.ownDeviceId()
  if (id !== undefined) await into.importBundle(owner, id, await of.ownBundle())
}

const cells = stores.flatMap((s) =>
  backends.flatMap((c) => backends.map((l) => ({ name: `${c.id} carries ${l.id} keys × ${s.id}`, c, l, s }))),
)

describe.each(cells)('$name', ({ c, l, s }) => {
  const noCarrier = c.capabilities.bodyOnly === true
  it.skipIf(noCarrier)(
    `D-12, ATM-S1/R1: a trust message about ${l.id} keys carried by ${c.id} is planned for ${c.id} keys only, decrypted and applied by A2; M1 can neither read it nor vouch for Bob (TM-21, X9)${noCarrier ? ' — skipped: a body-only protocol carries no trust message' : ''}`,
    async () => {
      const { duals, dispose } = await makeDuals(c, l, s)
      try {
        const { A1, A2, B1, M1 } = duals
        if (!c.capabilities.oneKeyPerIdentity) {
          await A1.carrier.atm.authenticate(c.namespace, ALICE, await A2.carrier.backend.ownKeys())
          await A2.carrier.atm.authenticate(c.namespace, ALICE, await A1.carrier.backend.ownKeys())
        }
        const bobKeys: readonly KeyId[] = await B1.listed.ownKeys()
        expect(bobKeys.length).toBeGreaterThan(0)
        for (const k of bobKeys)
          expect(await A2.carrier.store.getTrustLevel(l.namespace, BOB, k), 'before').not.toBe(
            'authenticated',
          )

        const r = await A1.carrier.atm.applyUri(
          { jid: BOB, encryption: l.namespace, trust: bobKeys, distrust: [] },
          { uriSource: 'scan', confirm: async () => true },
        )
        const s1 = r.outgoing.find((m) => m.to === ALICE)
        if (s1 === undefined) throw new Error(`no ATM-S1 message: ${JSON.stringify(r.outgoing)}`)
        expect(s1.message.encryption).toBe(l.namespace)
        expect(s1.carrier ?? s1.message.encryption).toBe(c.namespace)
        expect(s1.allowedKeys.length).toBeGreaterThan(0)
        for (const k of s1.allowedKeys) expect(k.encryption).toBe(c.namespace)

        const sent = await protect(A1.carrier, s1)
        const decrypted = await open(A2.carrier, A1.carrier, sent.element, ALICE)
        expect(decrypted.carrier).toBe(c.namespace)
        expect(await A1.carrier.backend.ownKeys()).toContain(decrypted.senderKey)
        const got = await deliver(A2.carrier, decrypted, c.capabilities)
        expect(got.outcome, got.reason ?? '').toBe('applied')
        for (const k of bobKeys)
          expect(await A2.carrier.store.getTrustLevel(l.namespace, BOB, k), 'after').toBe('authenticated')

        // TM-21: Mallory's endpoint is not among the allowed keys
        const e = await rejectionOf(open(M1.carrier, A1.carrier, sent.element, ALICE))
        expect(e.name, e.message).toBe('DecryptionError')

        // X9: Mallory, a contact, vouches (in the carrier) against Bob's keys: ignored
        const forged: OutgoingTrustMessage = {
          to: ALICE,
          message: {
            usage: 'urn:xmpp:atm:1',
            encryption: l.namespace,
            keyOwners: [{ jid: BOB, trust: [], distrust: [...bobKeys] }],
          },
          allowedKeys: [],
        }
        // A2 used one of its one-time pre keys for A1's key exchange: M1 fetches A2's bundle again
        // first, as a client does (else it may pick that used pre key: OMEMO-KEX)
        await refetchBundle(M1.carrier.backend, A2.carrier.backend, ALICE)
        const fromMallory = await M1.carrier.backend.encrypt(serializeTrustMessage(forged.message), [ALICE])
        const atA2 = await open(A2.carrier, M1.carrier, fromMallory.element, ALICE)
        const ignored = await deliver(A2.carrier, atA2, c.capabilities)
        expect(ignored).toMatchObject({ outcome: 'ignored', reason: 'unqualified-sender' })
        for (const k of bobKeys)
          expect(await A2.carrier.store.getTrustLevel(l.namespace, BOB, k)).toBe('authenticated')
      } finally {
        await dispose()
      }
    },
    // four endpoints × two backends on a fresh store of this kind: seconds on PostgreSQL under load
    60_000,
  )
})
