/**
 * The receive pipeline on its own (no network): one transaction per batch, the processed
 * memory, keys a message made known going to ATM, and the time of a message from a protocol
 * without an envelope. The backend is a stub whose "ciphertext" carries its plaintext, so only
 * the pipeline is under test (the real backends run it in @vouch/xmpp and tooling/interop).
 */
import { createAtm } from '@vouch/atm'
import { memoryStore } from '@vouch/store-memory'
import type {
  AccountTrustStore,
  BackendCapabilities,
  DecryptedContent,
  EncryptionBackend,
  EncryptionNamespace,
  KeyId,
} from '@vouch/tm-core'
import { DecryptionError, Element, keyIdFromBytes, parseXml, StoreError } from '@vouch/tm-core'
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
