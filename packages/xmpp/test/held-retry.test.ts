/**
 * No silent drops, bounded: a message whose sender's keys could not be fetched is held and
 * received again only when a key arrives it was not held with, at most MAX_ATTEMPTS times, then
 * given up with a `final` rejection — and read as soon as a retry can open it. Without a server:
 * a stand-in backend (decrypts once `opens` says so) and a key directory whose fetch is refused
 * (`forbidden`) until the test announces keys.
 */
import { memoryStore } from '@vouch/store-memory'
import type {
  BareJid,
  DecryptedContent,
  EncryptionBackend,
  EncryptionNamespace,
  KeyDirectory,
  KeyId,
} from '@vouch/tm-core'
import { DecryptionError } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { type ReceivedChat, type VouchXmppEvents, vouchXmpp } from '../src/binding.ts'
import { MAX_ATTEMPTS, readHeld } from '../src/held.ts'
import { fakeClient } from './fake-client.ts'
import { chatContent, emptyRoster, tick } from './stand-in.ts'

const ALICE = 'alice@localhost' as BareJid
const CAROL = 'carol@localhost' as BareJid
const NS = 'urn:example:stand-in' as EncryptionNamespace
const key = (n: number): KeyId => btoa(String.fromCharCode(...new Array(20).fill(n))) as KeyId

function setup() {
  const state = { keys: [] as KeyId[], opens: false, decrypts: 0, visible: false }
  const backend: EncryptionBackend = {
    namespace: NS,
    capabilities: { oneKeyPerIdentity: true, keyIdLength: 20 },
    ownKeys: async () => [],
    keysOf: async (owner) => (owner === CAROL ? [...state.keys] : []),
    encrypt: async () => {
      throw new Error('not used')
    },
    decrypt: async (el): Promise<DecryptedContent> => {
      state.decrypts++
      if (!state.opens) throw new DecryptionError('STAND-IN-SIGNER', 'not signed by a key of carol@localhost')
      return chatContent(el.text(), { senderJid: CAROL, carrier: NS, senderKey: state.keys[0] as KeyId })
    },
  }
  const forbidden = Object.assign(new Error('forbidden'), { name: 'StanzaError', condition: 'forbidden' })
  const directory: KeyDirectory = {
    namespace: NS,
    notifyNodes: [],
    publishOwn: async () => undefined,
    refresh: async () => {
      if (!state.visible) throw forbidden
      return [...state.keys]
    },
    onNotification: async () => undefined,
  }
  // carol is no contact
  const fake = fakeClient(emptyRoster(ALICE), ALICE)
  const store = memoryStore().forAccount(ALICE)
  const vouch = vouchXmpp(fake.xmpp, { store, backends: [backend], keyDirectories: [directory] })
  const rejected: VouchXmppEvents['rejected'][] = []
  const messages: ReceivedChat[] = []
  vouch.on('rejected', (r) => rejected.push(r))
  vouch.on('message', (m) => messages.push(m))
  let n = 0
  const deliver = async (text: string, extra: readonly Element[] = []): Promise<void> => {
    n++
    fake.receive(
      xml(
        'message',
        { from: `${CAROL}/prof`, to: `${ALICE}/r`, type: 'chat', id: `m${n}` },
        xml('encrypted', { xmlns: NS }, text),
        xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: ALICE, id: `s${n}` }),
        ...extra,
      ),
    )
    await tick()
    await vouch.idle()
  }
  /** carol announces (one more) key, readable now; the app refreshes */
  const keyArrives = async (): Promise<void> => {
    state.visible = true
    state.keys.push(key(state.keys.length + 1))
    await vouch.refreshKeys(CAROL)
    await vouch.idle()
  }
  return { state, store, vouch, rejected, messages, deliver, keyArrives }
}

describe('held messages: retried when a key arrives, bounded', () => {
  it('PEP-ACCESS: held with the reason its keys were missing, read once a key arrives (no second rejection)', async () => {
    const t = setup()
    await t.deliver('hello')
    expect(t.rejected).toHaveLength(1)
    expect(t.rejected[0]).toMatchObject({
      sender: CAROL,
      rule: 'STAND-IN-SIGNER',
      held: true,
      archiveId: 's1',
      keysError: { name: 'KeysNotVisibleError', reason: 'not-a-contact' },
    })
    expect(await readHeld(t.store, CAROL)).toHaveLength(1)
    t.state.opens = true
    await t.keyArrives()
    expect(t.messages.map((m) => m.body)).toEqual(['hello'])
    expect(await readHeld(t.store)).toEqual([])
    expect(t.rejected).toHaveLength(1)
    // the same key again: nothing left to retry
    const before = t.state.decrypts
    await t.vouch.refreshKeys(CAROL)
    expect(t.state.decrypts).toBe(before)
  })

  it('a held message the stream parser let through is read again as it was (21,000 elements: over parseXml’s default 20,000, within the stream’s 25,000)', async () => {
    const t = setup()
    const junk = Array.from({ length: 21_000 }, () => xml('x'))
    await t.deliver('big', [xml('junk', { xmlns: 'urn:example:junk' }, ...junk)])
    expect(await readHeld(t.store, CAROL)).toHaveLength(1)
    t.state.opens = true
    await t.keyArrives()
    expect(t.messages.map((m) => m.body)).toEqual(['big'])
    expect(await readHeld(t.store)).toEqual([])
  })

  it(`retried only on a new key, at most ${MAX_ATTEMPTS} times, then given up with a final rejection`, async () => {
    const t = setup()
    await t.deliver('never readable')
    const afterFirst = t.state.decrypts
    // no new key: no retry
    t.state.visible = true
    await t.vouch.refreshKeys(CAROL)
    expect(t.state.decrypts).toBe(afterFirst)
    for (let i = 1; i <= MAX_ATTEMPTS; i++) {
      await t.keyArrives()
      expect(t.state.decrypts).toBe(afterFirst + i)
      expect(await readHeld(t.store, CAROL)).toHaveLength(i < MAX_ATTEMPTS ? 1 : 0)
    }
    expect(t.rejected.map((r) => [r.held, r.final ?? false])).toEqual([
      [true, false],
      [false, true],
    ])
    await t.keyArrives()
    expect(t.state.decrypts).toBe(afterFirst + MAX_ATTEMPTS)
    expect(t.messages).toEqual([])
  })
})
