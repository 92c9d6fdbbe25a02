/**
 * Bad input, bounded: a copy's encrypted elements are checked before any backend runs.
 * ENCRYPTED-DUPLICATE: two elements of one protocol in one message (which one is the message
 * would be the reader's choice, and every extra one would cost a decryption attempt).
 * ENCRYPTED-ELEMENTS: more elements inside one encrypted element than `maxEncryptedElements`
 * (default 2,048; an OMEMO message to 100 devices has about 200). Either is `rejected` with a
 * `LimitExceededError` carrying the rule, never a `retry`, no backend is called, and nothing
 * but the processed record is written.
 */
import { createAtm } from '@vouch/atm'
import { memoryStore } from '@vouch/store-memory'
import type { DecryptedContent, EncryptionBackend, EncryptionNamespace, KeyId } from '@vouch/tm-core'
import { Element, keyIdFromBytes } from '@vouch/tm-core'
import xml from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import {
  checkEncrypted,
  chooseEncrypted,
  DEFAULT_RECEIVE_LIMITS,
  isProcessed,
  type ReceivedCopy,
  receivePipeline,
} from '../../src/index.ts'
import { ALICE, BOB, copyFromBob } from '../fixtures.ts'

const NS = 'urn:example:omemo-standin' as EncryptionNamespace
const key = (n: number): KeyId => keyIdFromBytes(new Uint8Array(32).fill(n))

function setup(limits?: { maxEncryptedElements: number }) {
  const store = memoryStore().forAccount(ALICE)
  const calls = { decrypt: 0 }
  const backend: EncryptionBackend = {
    namespace: NS,
    capabilities: { oneKeyPerIdentity: false, keyIdLength: 32 },
    ownKeys: async () => [key(1)],
    keysOf: async () => [key(2)],
    encrypt: () => Promise.reject(new Error('not used')),
    decrypt: async (el): Promise<DecryptedContent> => {
      calls.decrypt++
      const body = xml('body', { xmlns: 'jabber:client' }, String(el.attrs.text ?? ''))
      return {
        content: xml('content', {}, body),
        payload: [body],
        senderJid: BOB,
        carrier: NS,
        encrypted: true,
        mode: 'signcrypt',
        signed: true,
        senderKey: key(2),
      }
    },
  }
  const atm = createAtm({
    account: ALICE,
    store,
    backends: [{ namespace: NS, capabilities: backend.capabilities }],
    now: () => Date.now(),
  })
  const pipeline = receivePipeline({
    store,
    atm,
    backends: [backend],
    ...(limits === undefined ? {} : { limits }),
  })
  return { store, pipeline, calls, backend }
}

/** An OMEMO-2-shaped element: one `<keys/>` per account, one `<key/>` per device. */
function encrypted(devices: number, accounts = 1, text = 'hi'): Element {
  const el = new Element('encrypted', { xmlns: NS, text })
  const header = el.c('header', { sid: '1' })
  for (let a = 0; a < accounts; a++) {
    const keys = header.c('keys', { jid: `user${a}@example.org` })
    for (let d = 0; d < Math.ceil(devices / accounts); d++) keys.c('key', { rid: String(d + 1) }).t('AAAA')
  }
  el.c('payload').t('AAAA')
  return el
}

const copy = (id: string, els: readonly Element[]): ReceivedCopy => copyFromBob(id, els)

describe('ENCRYPTED-ELEMENTS: elements inside one encrypted element are capped', () => {
  it('an OMEMO message to 100 devices of 100 accounts (about 200 elements) is read under the default', async () => {
    const t = setup()
    const [o] = await t.pipeline.receive([copy('1', [encrypted(100, 100)])])
    expect(o?.kind).toBe('chat')
    expect(DEFAULT_RECEIVE_LIMITS.maxEncryptedElements).toBeGreaterThanOrEqual(1024 + 64 + 2)
  })

  it('one element over the cap: rejected (never retry), no backend called, only the processed record written', async () => {
    const t = setup({ maxEncryptedElements: 50 })
    const [o] = await t.pipeline.receive([copy('1', [encrypted(48)])], { allowRetry: true })
    expect(o).toMatchObject({
      kind: 'rejected',
      error: { name: 'LimitExceededError', rule: 'ENCRYPTED-ELEMENTS', max: 50, actual: 51 },
    })
    expect(t.calls.decrypt).toBe(0)
    expect(await isProcessed(t.store, ['sid:1'])).toBe(true)
    expect(await t.store.getTrustLevel(NS, BOB, key(2))).toBe('undecided')
    expect(await t.store.getKeys(NS, { owners: [BOB] })).toEqual([])
    // header, keys, 47 keys, payload: 50 elements, at the cap: read
    const [ok] = await t.pipeline.receive([copy('2', [encrypted(47)])])
    expect(ok?.kind).toBe('chat')
  })
})

describe('ENCRYPTED-DUPLICATE: at most one encrypted element per protocol', () => {
  it('two elements of one protocol: rejected before any decryption', async () => {
    const t = setup()
    const [o] = await t.pipeline.receive([copy('1', [encrypted(1, 1, 'one'), encrypted(1, 1, 'two')])], {
      allowRetry: true,
    })
    expect(o).toMatchObject({
      kind: 'rejected',
      error: { name: 'LimitExceededError', rule: 'ENCRYPTED-DUPLICATE', max: 1, actual: 2 },
    })
    expect(t.calls.decrypt).toBe(0)
  })

  it('chooseEncrypted and checkEncrypted agree with the pipeline (the choice @vouch/xmpp reuses)', () => {
    const t = setup()
    const other = new Element('encrypted', { xmlns: 'urn:example:unknown' })
    const mine = encrypted(1)
    const chosen = chooseEncrypted([other, mine], [t.backend])
    expect(chosen.map((c) => c.el)).toEqual([mine])
    expect(checkEncrypted(chosen)).toBeUndefined()
    expect(checkEncrypted(chooseEncrypted([mine, encrypted(1)], [t.backend]))?.rule).toBe(
      'ENCRYPTED-DUPLICATE',
    )
  })
})
