/**
 * The receive pipeline on its own (no network): one transaction per batch, the processed
 * memory, keys a message made known going to ATM, and the time of a message from a protocol
 * without an envelope. The backend is a stub whose "ciphertext" carries its plaintext, so only
 * the pipeline is under test (the real backends run it in @vouch/xmpp and tooling/interop).
 */
import { createAtm, type OutgoingTrustMessage } from '@vouch/atm'
import { memoryStore } from '@vouch/store-memory'
import type {
  AccountTrustStore,
  BackendCapabilities,
  DecryptedContent,
  EncryptionBackend,
  EncryptionNamespace,
  KeyId,
} from '@vouch/tm-core'
import { DecryptionError, Element, keyIdFromBytes, keyIdToBytes, parseXml, StoreError } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { type ReceivedCopy, receivePipeline } from '../src/index.ts'
import { ALICE, BOB, copyFromBob } from './fixtures.ts'

const NS = 'urn:example:stub' as EncryptionNamespace
const key = (n: number): KeyId => keyIdFromBytes(new Uint8Array(32).fill(n))
const BOB_KEY = key(2)

/** A stub protocol: `<stub xmlns=NS at=… learned=…>PLAINTEXT</stub>`; decrypting writes a counter. */
function stubBackend(store: AccountTrustStore, caps: Partial<BackendCapabilities> = {}): EncryptionBackend {
  return {
    namespace: NS,
    capabilities: { oneKeyPerIdentity: false, keyIdLength: 32, protectsEnvelope: true, ...caps },
    ownKeys: async () => [key(1)],
    keysOf: async () => [BOB_KEY],
    encrypt: () => Promise.reject(new Error('not used')),
    // like every backend: its writes for a message in one (nested) transaction, undone on failure
    decrypt: (el, _stanza, options) =>
      (options?.store ?? store).transaction(async (tx): Promise<DecryptedContent> => {
        const n = Number(
          new TextDecoder().decode((await tx.getState('stub', 'count')) ?? new Uint8Array()) || 0,
        )
        await tx.setState('stub', 'count', new TextEncoder().encode(String(n + 1)))
        if (el.attrs.bad === 'yes') throw new DecryptionError('STUB', 'bad ciphertext')
        const inner = parseXml(`<x>${el.getText()}</x>`)
        const payload = inner.children.filter((c): c is Element => typeof c !== 'string')
        const at = el.attrs.at as string | undefined
        const learned = el.attrs.learned as string | undefined
        return {
          content: inner,
          payload,
          senderJid: BOB,
          carrier: NS,
          encrypted: true,
          mode: 'signcrypt',
          ...(at === undefined ? {} : { time: new Date(at), to: [ALICE], rpadLength: 0 }),
          ...(learned === undefined ? {} : { learnedKeys: [learned as KeyId] }),
          signed: true,
          senderKey: BOB_KEY,
        }
      }),
  }
}

const count = async (s: AccountTrustStore): Promise<number> =>
  Number(new TextDecoder().decode((await s.getState('stub', 'count')) ?? new Uint8Array()) || 0)

function setup(caps: Partial<BackendCapabilities> = {}) {
  const store = memoryStore().forAccount(ALICE)
  const atm = createAtm({
    account: ALICE,
    store,
    backends: [{ namespace: NS, capabilities: { oneKeyPerIdentity: false, keyIdLength: 32 } }],
    now: () => Date.now(),
  })
  const pipeline = receivePipeline({ store, atm, backends: [stubBackend(store, caps)] })
  return { store, atm, pipeline }
}

const trustMessage = (k: KeyId): string =>
  `<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='${NS}'><key-owner jid='${BOB}'><trust>${k}</trust></key-owner></trust-message>`

function copy(id: string, plaintext: string, attrs: Record<string, string> = {}): ReceivedCopy {
  const el = new Element('stub', { xmlns: NS, at: new Date().toISOString(), ...attrs })
  el.t(plaintext)
  return copyFromBob(id, el)
}

describe('receive pipeline', () => {
  it('a batch: chat and trust message outcomes, in order; a copy seen again is a duplicate', async () => {
    const { store, pipeline } = setup()
    await store.addKeys(NS, BOB, [BOB_KEY], { provenance: { kind: 'manual' }, at: 1 }, 'authenticated')
    const out = await pipeline.receive([
      copy('1', `<body xmlns='jabber:client'>hi</body>`),
      copy('2', trustMessage(key(3))),
    ])
    expect(out.map((o) => o.kind)).toEqual(['chat', 'trust'])
    expect(out[0]?.kind === 'chat' && out[0].trustLevel).toBe('authenticated')
    expect(out[1]?.kind === 'trust' && out[1].result.outcome).toBe('applied')
    expect(await store.getTrustLevel(NS, BOB, key(3))).toBe('authenticated')
    const again = await pipeline.receive([copy('1', `<body xmlns='jabber:client'>hi</body>`)])
    expect(again.map((o) => o.kind)).toEqual(['duplicate'])
  })

  it('one transaction: when the batch’s own commit fails, nothing of it is stored (decrypt state, decision, processed ids)', async () => {
    const { store, pipeline } = setup()
    await store.addKeys(NS, BOB, [BOB_KEY], { provenance: { kind: 'manual' }, at: 1 }, 'authenticated')
    const batch = [copy('1', trustMessage(key(3)))]
    await expect(
      pipeline.receive(batch, {
        commit: async () => {
          throw new StoreError('injected: disk full')
        },
      }),
    ).rejects.toMatchObject({ name: 'StoreError' })
    expect(await count(store)).toBe(0)
    expect(await store.getTrustLevel(NS, BOB, key(3))).toBe('undecided')
    const out = await pipeline.receive(batch)
    expect(out.map((o) => o.kind)).toEqual(['trust'])
    expect(await count(store)).toBe(1)
  })

  it('bad input is rejected and recorded as processed; with allowRetry it is left for a retry and nothing is written', async () => {
    const { store, pipeline } = setup()
    const bad = copy('9', 'x', { bad: 'yes' })
    expect((await pipeline.receive([bad], { allowRetry: true })).map((o) => o.kind)).toEqual(['retry'])
    expect(await count(store)).toBe(0)
    const out = await pipeline.receive([bad])
    expect(out[0]).toMatchObject({ kind: 'rejected', error: { name: 'DecryptionError', rule: 'STUB' } })
    expect((await pipeline.receive([bad])).map((o) => o.kind)).toEqual(['duplicate'])
  })

  it('keys a message made known go to ATM keysDiscovered in the same transaction (ATM is the only writer of trust)', async () => {
    const { store, pipeline } = setup()
    const learned = key(7)
    await pipeline.receive([copy('1', `<body xmlns='jabber:client'>hi</body>`, { learned })])
    // TOAKAFA before any authentication of Bob: a new key is trusted automatically
    expect(await store.getTrustLevel(NS, BOB, learned)).toBe('automatically-trusted')
  })

  it('a protocol without an envelope: the message time is the reference time (D-9 then orders by arrival)', async () => {
    const { pipeline } = setup({ protectsEnvelope: false })
    const c = copy('1', `<body xmlns='jabber:client'>no envelope</body>`)
    const el = c.encrypted as Element
    delete el.attrs.at
    const ref = new Date('2026-12-04T10:00:00Z')
    const [o] = await pipeline.receive([{ ...c, referenceTime: ref }])
    expect(o?.kind === 'chat' && o.time.toISOString()).toBe(ref.toISOString())
  })
})

/**
 * D-12 identity linking: Bob's device uses one key pair in two protocols (a stand-in link, every
 * byte XOR 0x5a, with the contract of tm-core `KeyLink`); Alice authenticated its key in the
 * other protocol here, and a message in the stub protocol makes its stub key known.
 */
describe('receive pipeline: a learned key that inherits a decision made here (D-12)', () => {
  const TWIN_NS = 'urn:example:twin' as EncryptionNamespace
  const twin = (id: KeyId): KeyId => keyIdFromBytes(keyIdToBytes(id).map((b) => b ^ 0x5a))
  const caps = { oneKeyPerIdentity: false, keyIdLength: 32 }
  const A2 = key(4)
  const LEARNED = key(7)

  async function linkedSetup(
    queueOutgoing?: (tx: AccountTrustStore, o: readonly OutgoingTrustMessage[]) => Promise<void>,
  ) {
    const store = memoryStore().forAccount(ALICE)
    await store.setOwnKey(NS, key(1))
    // Alice's other device, authenticated in the stub protocol: it is told about Bob's key (ATM-S1)
    await store.addKeys(NS, ALICE, [A2], { provenance: { kind: 'manual' }, at: 1 }, 'authenticated')
    const atm = createAtm({
      account: ALICE,
      store,
      backends: [
        {
          namespace: NS,
          capabilities: caps,
          keyLinks: [{ namespace: TWIN_NS, toLinked: twin, fromLinked: (id) => [twin(id)] }],
        },
        { namespace: TWIN_NS, capabilities: caps },
      ],
      now: () => Date.now(),
    })
    await atm.keysDiscovered(TWIN_NS, BOB, [twin(LEARNED)])
    await atm.authenticate(TWIN_NS, BOB, [twin(LEARNED)])
    const pipeline = receivePipeline({
      store,
      atm,
      backends: [stubBackend(store)],
      ...(queueOutgoing === undefined ? {} : { queueOutgoing }),
    })
    return { store, atm, pipeline }
  }

  const hello = (): ReceivedCopy => copy('1', `<body xmlns='jabber:client'>hi</body>`, { learned: LEARNED })

  it('ATM-S1 + D-12: the trust messages keysDiscovered plans for it go to queueOutgoing in the batch’s transaction', async () => {
    const queued: { tx: AccountTrustStore; outgoing: readonly OutgoingTrustMessage[] }[] = []
    const { store, pipeline } = await linkedSetup(async (tx, outgoing) => {
      queued.push({ tx, outgoing })
      await tx.setState('test', 'outbox', new TextEncoder().encode(String(outgoing.length)))
    })
    expect((await pipeline.receive([hello()])).map((o) => o.kind)).toEqual(['chat'])
    expect(await store.getTrustLevel(NS, BOB, LEARNED)).toBe('authenticated')
    expect(queued).toHaveLength(1)
    expect(queued[0]?.tx).not.toBe(store) // the batch's transaction, not the store
    // ATM-S1: our other device hears of Bob's key, encrypted for that device only
    const s1 = queued[0]?.outgoing.find((o) => o.to === ALICE)
    expect(s1?.message.keyOwners).toEqual([{ jid: BOB, trust: [LEARNED], distrust: [] }])
    expect(s1?.allowedKeys.map((k) => k.keyId)).toEqual([A2])
    expect(await store.getState('test', 'outbox')).toBeDefined()
  })

  it('one transaction: when the batch’s commit fails, neither the key nor what queueOutgoing wrote is stored', async () => {
    let calls = 0
    const { store, pipeline } = await linkedSetup(async (tx) => {
      calls++
      await tx.setState('test', 'outbox', new TextEncoder().encode('queued'))
    })
    await expect(
      pipeline.receive([hello()], {
        commit: async () => {
          throw new StoreError('injected: disk full')
        },
      }),
    ).rejects.toThrow('disk full')
    expect(calls).toBe(1)
    expect(await store.getKey(NS, BOB, LEARNED)).toBeUndefined()
    expect(await store.getState('test', 'outbox')).toBeUndefined()
  })

  it('a learned key without a decided twin plans nothing: queueOutgoing is not called', async () => {
    let calls = 0
    const { store, pipeline } = await linkedSetup(async () => {
      calls++
    })
    await pipeline.receive([copy('1', `<body xmlns='jabber:client'>hi</body>`, { learned: key(8) })])
    expect(await store.getKey(NS, BOB, key(8))).toBeDefined()
    expect(calls).toBe(0)
  })
})
