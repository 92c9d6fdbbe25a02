/**
 * Two protocols in one stanza (Converse.js: OMEMO 2 and OMEMO 0.3 `<encrypted/>` side by side)
 * and the held-message rule: the binding fetches keys, retries and holds a message by the same
 * choice the pipeline makes (`chooseEncrypted` from `@vouch/pipeline`: the most preferred
 * backend's element, whose failure the outcome reports), not by the first element in the
 * stanza. Here the less preferred protocol's element comes first, its sender keys are known
 * (it cannot be read: no key for our device), and the preferred protocol's keys are
 * contacts-only until the sender approves us. The message is held for the preferred protocol's
 * keys and read when they arrive. Choosing by document order instead, the binding refreshed
 * the other protocol's (known) keys, found nothing missing and dropped the message.
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
import xml from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { type ReceivedChat, type VouchXmppEvents, vouchXmpp } from '../src/binding.ts'
import { readHeld } from '../src/held.ts'
import { fakeClient } from './fake-client.ts'
import { chatContent, emptyRoster, tick } from './stand-in.ts'

const ALICE = 'alice@localhost' as BareJid
const CAROL = 'carol@localhost' as BareJid
const NEW = 'urn:example:omemo2-standin' as EncryptionNamespace
const OLD = 'urn:example:omemo03-standin' as EncryptionNamespace
const key = (n: number): KeyId => btoa(String.fromCharCode(...new Array(20).fill(n))) as KeyId

function setup() {
  const state = {
    newKeys: [] as KeyId[],
    newVisible: false,
    decrypts: { [NEW]: 0, [OLD]: 0 } as Record<string, number>,
  }
  /** NEW reads a message once it has a key of carol; OLD never (no key for our device) */
  const backend = (ns: EncryptionNamespace, keys: () => KeyId[]): EncryptionBackend => ({
    namespace: ns,
    capabilities: { oneKeyPerIdentity: true, keyIdLength: 20 },
    ownKeys: async () => [],
    keysOf: async (owner) => (owner === CAROL ? [...keys()] : []),
    encrypt: async () => {
      throw new Error('not used')
    },
    decrypt: async (el): Promise<DecryptedContent> => {
      state.decrypts[ns] = (state.decrypts[ns] ?? 0) + 1
      if (ns === OLD || keys().length === 0)
        throw new DecryptionError(`${ns === NEW ? 'NEW' : 'OLD'}-NO-KEY`, `${ns}: cannot read it`)
      return chatContent(el.text(), { senderJid: CAROL, carrier: ns, senderKey: keys()[0] as KeyId })
    },
  })
  const oldKeys = [key(9)]
  const forbidden = Object.assign(new Error('forbidden'), { name: 'StanzaError', condition: 'forbidden' })
  const directory = (ns: EncryptionNamespace, refresh: () => readonly KeyId[]): KeyDirectory => ({
    namespace: ns,
    notifyNodes: [],
    publishOwn: async () => undefined,
    refresh: async () => refresh(),
    onNotification: async () => undefined,
  })
  const fake = fakeClient(emptyRoster(ALICE), ALICE)
  const store = memoryStore().forAccount(ALICE)
  const vouch = vouchXmpp(fake.xmpp, {
    store,
    // the app's preference: NEW (OMEMO 2) before OLD (OMEMO 0.3)
    backends: [backend(NEW, () => state.newKeys), backend(OLD, () => oldKeys)],
    keyDirectories: [
      directory(NEW, () => {
        if (!state.newVisible) throw forbidden
        return [...state.newKeys]
      }),
      directory(OLD, () => oldKeys),
    ],
  })
  const rejected: VouchXmppEvents['rejected'][] = []
  const messages: ReceivedChat[] = []
  vouch.on('rejected', (r) => rejected.push(r))
  vouch.on('message', (m) => messages.push(m))
  return { state, store, vouch, fake, rejected, messages }
}

describe('two <encrypted/> elements: held and retried by the pipeline’s choice', () => {
  it('the preferred protocol’s sender keys arrive later: the message is held for them, retried and read', async () => {
    const t = setup()
    t.fake.receive(
      xml(
        'message',
        { from: `${CAROL}/converse`, to: `${ALICE}/r`, type: 'chat', id: 'm1' },
        // the less preferred protocol's element first, as a client may order them
        xml('encrypted', { xmlns: OLD }, 'hello'),
        xml('encrypted', { xmlns: NEW }, 'hello'),
        xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: ALICE, id: 's1' }),
      ),
    )
    await tick()
    await t.vouch.idle()
    expect(t.rejected).toHaveLength(1)
    expect(t.rejected[0]).toMatchObject({
      sender: CAROL,
      rule: 'NEW-NO-KEY',
      held: true,
      keysError: { name: 'KeysNotVisibleError' },
    })
    expect((await readHeld(t.store, CAROL)).map((h) => h.encryption)).toEqual([NEW])
    expect(t.messages).toEqual([])

    // carol approves us: her OMEMO 2 key becomes readable
    t.state.newVisible = true
    t.state.newKeys.push(key(1))
    await t.vouch.refreshKeys(CAROL, NEW)
    await t.vouch.idle()
    expect(t.messages.map((m) => [m.body, m.encryption])).toEqual([['hello', NEW]])
    expect(await readHeld(t.store)).toEqual([])
    expect(t.rejected).toHaveLength(1)
  })
})
