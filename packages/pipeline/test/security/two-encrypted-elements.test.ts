/**
 * Two protocols in one stanza (issue 17 point 4): Converse.js publishes both OMEMO device lists
 * and may put an OMEMO 2 and an OMEMO 0.3 `<encrypted/>` into one message. The pipeline decrypts
 * exactly one of them: the most preferred backend's (the order of `backends`), the next only
 * when that one fails; never both, never none when one is readable; a failed attempt writes
 * nothing. Stand-in backends (their "ciphertext" is the plaintext, `for='me'` marks an element
 * with a key for our device), so only the pipeline's choice is under test.
 *
 * Also `DecryptionError.nothingToRead` (an empty message for another device): `skipped` when every
 * element says so, never hiding an element that may carry content. And D-9 / TM-18: a trust message from a protocol that protects a sending time but reports
 * none cannot be ordered and is rejected.
 */
import { createAtm } from '@vouch/atm'
import { memoryStore } from '@vouch/store-memory'
import type {
  AccountTrustStore,
  DecryptedContent,
  EncryptionBackend,
  EncryptionNamespace,
  KeyId,
} from '@vouch/tm-core'
import { DecryptionError, Element, keyIdFromBytes, parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { type ReceivedCopy, receivePipeline } from '../../src/index.ts'
import { ALICE, BOB, copyFromBob } from '../fixtures.ts'

const NEW = 'urn:example:omemo2-standin' as EncryptionNamespace
const OLD = 'urn:example:omemo03-standin' as EncryptionNamespace
const key = (n: number): KeyId => keyIdFromBytes(new Uint8Array(32).fill(n))

function standIn(
  ns: EncryptionNamespace,
  store: AccountTrustStore,
  protectsEnvelope: boolean,
): EncryptionBackend {
  return {
    namespace: ns,
    capabilities: { oneKeyPerIdentity: false, keyIdLength: 32, protectsEnvelope },
    ownKeys: async () => [key(1)],
    keysOf: async () => [key(2)],
    encrypt: () => Promise.reject(new Error('not used')),
    decrypt: (el, _stanza, options) =>
      (options?.store ?? store).transaction(async (tx): Promise<DecryptedContent> => {
        // a ratchet step: written before the check that fails, undone with the nested transaction
        await tx.setState('attempts', ns, new TextEncoder().encode(String((await attempts(tx, ns)) + 1)))
        if (el.attrs.for !== 'me')
          // empty='yes': an empty message (no payload) for another device, as the OMEMO backends flag it
          throw new DecryptionError('STUB-NOT-FOR-US', `no key for our device in ${ns}`, {
            nothingToRead: el.attrs.empty === 'yes',
          })
        const inner = parseXml(`<x>${el.getText()}</x>`)
        return {
          content: inner,
          payload: inner.children.filter((c): c is Element => typeof c !== 'string'),
          senderJid: BOB,
          carrier: ns,
          encrypted: true,
          mode: 'signcrypt',
          ...(protectsEnvelope && el.attrs.notime === undefined ? { time: new Date(), to: [ALICE] } : {}),
          signed: true,
          senderKey: key(2),
        }
      }),
  }
}

async function attempts(s: AccountTrustStore, ns: string): Promise<number> {
  return Number(new TextDecoder().decode((await s.getState('attempts', ns)) ?? new Uint8Array()) || 0)
}

function setup(order: readonly EncryptionNamespace[] = [NEW, OLD]) {
  const store = memoryStore().forAccount(ALICE)
  const caps = (ns: EncryptionNamespace) => ({
    oneKeyPerIdentity: false,
    keyIdLength: 32,
    protectsEnvelope: ns === NEW,
  })
  const atm = createAtm({
    account: ALICE,
    store,
    backends: order.map((ns) => ({ namespace: ns, capabilities: caps(ns) })),
    now: () => Date.now(),
  })
  const backends = order.map((ns) => standIn(ns, store, ns === NEW))
  return { store, pipeline: receivePipeline({ store, atm, backends }) }
}

const enc = (ns: string, text: string, attrs: Record<string, string> = {}): Element => {
  const el = new Element('encrypted', { xmlns: ns, ...attrs })
  el.t(text)
  return el
}
const body = (t: string): string => `<body xmlns='jabber:client'>${t}</body>`
const copy = (id: string, encrypted: readonly Element[]): ReceivedCopy =>
  copyFromBob(id, encrypted, 'converse')

describe('two <encrypted/> elements in one stanza: exactly one is decrypted', () => {
  it('both readable: the preferred protocol’s element is the message, the other is never tried', async () => {
    const { store, pipeline } = setup()
    const out = await pipeline.receive([
      copy('1', [enc(OLD, body('old'), { for: 'me' }), enc(NEW, body('new'), { for: 'me' })]),
    ])
    expect(out).toHaveLength(1)
    expect(out[0]?.kind === 'chat' && [out[0].body.text(), out[0].content.carrier]).toEqual(['new', NEW])
    expect([await attempts(store, NEW), await attempts(store, OLD)]).toEqual([1, 0])
  })

  it('the preference is the backends’ order, not the stanza’s', async () => {
    const { store, pipeline } = setup([OLD, NEW])
    const out = await pipeline.receive([
      copy('1', [enc(NEW, body('new'), { for: 'me' }), enc(OLD, body('old'), { for: 'me' })]),
    ])
    expect(out[0]?.kind === 'chat' && out[0].content.carrier).toBe(OLD)
    expect([await attempts(store, NEW), await attempts(store, OLD)]).toEqual([0, 1])
  })

  it('never neither: the preferred element has no key for us, the other is decrypted, and the failed attempt wrote nothing', async () => {
    const { store, pipeline } = setup()
    const out = await pipeline.receive([
      copy('1', [enc(NEW, body('new')), enc(OLD, body('old'), { for: 'me' })]),
    ])
    expect(out[0]?.kind === 'chat' && [out[0].body.text(), out[0].content.carrier]).toEqual(['old', OLD])
    expect([await attempts(store, NEW), await attempts(store, OLD)]).toEqual([0, 1])
  })

  it('neither readable: rejected with the preferred protocol’s error (or left for a retry), nothing written', async () => {
    const { store, pipeline } = setup()
    const both = copy('1', [enc(OLD, body('old')), enc(NEW, body('new'))])
    expect((await pipeline.receive([both], { allowRetry: true })).map((o) => o.kind)).toEqual(['retry'])
    const [o] = await pipeline.receive([both])
    expect(o).toMatchObject({ kind: 'rejected', error: { name: 'DecryptionError', rule: 'STUB-NOT-FOR-US' } })
    expect(o?.kind === 'rejected' && o.error.message).toContain(NEW)
    expect([await attempts(store, NEW), await attempts(store, OLD)]).toEqual([0, 0])
  })

  it('an element of a protocol we do not run is ignored beside one we do', async () => {
    const { pipeline } = setup([NEW])
    const out = await pipeline.receive([
      copy('1', [enc('urn:example:unknown', body('?'), { for: 'me' }), enc(NEW, body('new'), { for: 'me' })]),
    ])
    expect(out[0]?.kind === 'chat' && out[0].body.text()).toBe('new')
  })

  it('a single element (not an array) is still accepted', async () => {
    const { pipeline } = setup()
    const [o] = await pipeline.receive([
      { ...copy('1', []), encrypted: enc(OLD, body('old'), { for: 'me' }) },
    ])
    expect(o?.kind === 'chat' && o.body.text()).toBe('old')
  })
})

describe('nothing to read (DecryptionError.nothingToRead): skipped, never rejected, never retried', () => {
  it('an empty message for another device is skipped (even when a retry is allowed), recorded as processed, nothing written', async () => {
    const { store, pipeline } = setup()
    const empty = copy('1', [enc(NEW, '', { empty: 'yes' })])
    const [o] = await pipeline.receive([empty], { allowRetry: true })
    expect(o).toMatchObject({
      kind: 'skipped',
      error: { name: 'DecryptionError', rule: 'STUB-NOT-FOR-US', nothingToRead: true },
    })
    expect(await attempts(store, NEW)).toBe(0)
    // processed like any received copy: a second copy (Carbons and MAM) is a duplicate
    expect((await pipeline.receive([empty])).map((x) => x.kind)).toEqual(['duplicate'])
  })

  it('a message with content for another device is still rejected (no silent drops)', async () => {
    const { pipeline } = setup()
    const [o] = await pipeline.receive([copy('1', [enc(NEW, body('for another device'))])])
    expect(o).toMatchObject({ kind: 'rejected', error: { rule: 'STUB-NOT-FOR-US', nothingToRead: false } })
  })

  it('beside an element that may carry content, the empty one hides nothing: that element’s failure is reported', async () => {
    const { pipeline } = setup()
    const both = copy('1', [enc(NEW, '', { empty: 'yes' }), enc(OLD, body('old'))])
    expect((await pipeline.receive([both], { allowRetry: true })).map((o) => o.kind)).toEqual(['retry'])
    const [o] = await pipeline.receive([both])
    expect(o).toMatchObject({ kind: 'rejected', error: { nothingToRead: false } })
    expect(o?.kind === 'rejected' && o.error.message).toContain(OLD)
    // both elements empty for other devices: skipped
    const [s] = await pipeline.receive([
      copy('2', [enc(NEW, '', { empty: 'yes' }), enc(OLD, '', { empty: 'yes' })]),
    ])
    expect(s?.kind).toBe('skipped')
  })
})

describe('D-9 / TM-18 in the pipeline', () => {
  const tm = `<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='${NEW}'><key-owner jid='${BOB}'><trust>${key(3)}</trust></key-owner></trust-message>`

  it('TM-18: a trust message from a protocol with an envelope but no protected time is rejected', async () => {
    const { store, pipeline } = setup()
    await store.addKeys(NEW, BOB, [key(2)], { provenance: { kind: 'manual' }, at: 1 }, 'authenticated')
    const [o] = await pipeline.receive([copy('1', [enc(NEW, tm, { for: 'me', notime: 'yes' })])])
    expect(o).toMatchObject({ kind: 'rejected', error: { name: 'DecryptionError', rule: 'TM-18' } })
    expect(await store.getTrustLevel(NEW, BOB, key(3))).toBe('undecided')
    // the same trust message with its time is applied
    const [ok] = await pipeline.receive([copy('2', [enc(NEW, tm, { for: 'me' })])])
    expect(ok?.kind).toBe('trust')
    expect(await store.getTrustLevel(NEW, BOB, key(3))).toBe('authenticated')
  })
})
