/**
 * XEP-0384 pre keys, the binding's part: before it encrypts, the key directory of the protocol
 * hears which keys the message may go to (`KeyDirectory.beforeEncrypt`), so OMEMO can fetch the
 * current bundle of a device it has no session with (a stored bundle's pre keys may have been
 * used by other senders since; a key exchange on one of them could not be read). A chat message:
 * every known key of the contact and of our account that is not distrusted. A trust message:
 * exactly the keys the engine allowed (TM-15, TM-21). A directory that fails does not stop the
 * message. And the manual session replacement XEP-0384 v0.9 §6 requires (`replaceSessions`): the
 * directory gets every key of the contact that is not distrusted and sends what it builds. The
 * OMEMO directory's own part (which devices, which bundles) is tested in
 * `@vouch/omemo-common` and, on real crypto, in `@vouch/backend-omemo` (`xep0384-pep.test.ts`).
 *
 * No server (the fake client), a stand-in backend that lists its recipients.
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, EncryptionBackend, KeyDirectory, KeyId, KeyRef } from '@vouch/tm-core'
import { keyIdFromBytes, NS_OMEMO_2 } from '@vouch/tm-core'
import xml from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { vouchXmpp } from '../src/binding.ts'
import { fakeClient } from './fake-client.ts'
import { emptyRoster } from './stand-in.ts'

const ALICE = 'alice@localhost' as BareJid
const BOB = 'bob@localhost' as BareJid
const key = (n: number): KeyId => keyIdFromBytes(new Uint8Array(32).fill(n))
const A1 = key(0xa1) // this device
const A2 = key(0xa2)
const B1 = key(0xb1)
const B2 = key(0xb2)
const B3 = key(0xb3)

async function setup(options: { readonly failingDirectory?: boolean; readonly noReplace?: boolean } = {}) {
  const store = memoryStore().forAccount(ALICE)
  await store.setOwnKey(NS_OMEMO_2, A1)
  const log: string[] = []
  const before: KeyRef[][] = []
  const keys = new Map<BareJid, KeyId[]>([
    [ALICE, [A1, A2]],
    [BOB, [B1, B2, B3]],
  ])
  const backend: EncryptionBackend = {
    namespace: NS_OMEMO_2,
    capabilities: { oneKeyPerIdentity: false, keyIdLength: 32, signsTrustMessages: true },
    ownKeys: async () => [A1],
    keysOf: async (owner) => keys.get(owner) ?? [],
    async encrypt(_payload, to, options) {
      log.push('encrypt')
      const recipients: KeyRef[] = options?.onlyKeys
        ? [...options.onlyKeys]
        : (to as BareJid[]).flatMap((o) =>
            (keys.get(o) ?? []).map((keyId) => ({ encryption: NS_OMEMO_2, owner: o, keyId })),
          )
      return { element: xml('encrypted', { xmlns: NS_OMEMO_2 }), recipients }
    },
    decrypt: () => Promise.reject(new Error('not used')),
  }
  const replaceCalls: KeyRef[][] = []
  const directory: KeyDirectory = {
    namespace: NS_OMEMO_2,
    notifyNodes: ['test:devices'],
    publishOwn: async () => undefined,
    refresh: async (owner) => keys.get(owner) ?? [],
    onNotification: async () => undefined,
    async beforeEncrypt(refs) {
      log.push('beforeEncrypt')
      before.push([...refs])
      if (options.failingDirectory) throw new Error('item-not-found')
    },
    ...(options.noReplace
      ? {}
      : {
          async replaceSessions(refs, _pep, send) {
            replaceCalls.push([...refs])
            for (const r of refs) await send(xml('message', { to: r.owner, id: `kex-${r.keyId}` }))
            return refs
          },
        }),
  }
  const fake = fakeClient(emptyRoster(ALICE), ALICE)
  ;(fake.xmpp as unknown as { status: string }).status = 'online'
  const vouch = vouchXmpp(fake.xmpp, { store, backends: [backend], keyDirectories: [directory] })
  await vouch.atm.keysDiscovered(NS_OMEMO_2, ALICE, [A2])
  await vouch.atm.keysDiscovered(NS_OMEMO_2, BOB, [B1, B2, B3])
  await vouch.distrust(NS_OMEMO_2, BOB, [B2])
  log.length = 0
  before.length = 0
  return { vouch, log, before, fake, replaceCalls }
}

const refs = (list: readonly KeyRef[]) => list.map((k) => `${k.owner} ${k.keyId}`).sort()
const ref = (owner: BareJid, keyId: KeyId) => `${owner} ${keyId}`

describe('what the binding asks of the key directory about sessions (XEP-0384)', () => {
  it('XEP-0384: a chat message: the directory first hears every key of the contact and of our account that is not distrusted', async () => {
    const t = await setup()
    await t.vouch.sendChat(BOB, 'hi')
    expect(t.log).toEqual(['beforeEncrypt', 'encrypt'])
    expect(refs(t.before[0] ?? [])).toEqual(
      [ref(ALICE, A1), ref(ALICE, A2), ref(BOB, B1), ref(BOB, B3)].sort(),
    )
  })

  it('TM-15, TM-21: a trust message: the directory hears exactly the keys the engine allowed, before encryption', async () => {
    const t = await setup()
    // authenticating our A2 and then Bob's B1 sends Bob's B1 to A2 and our A2 to B1 (ATM-S1, ATM-S2)
    await t.vouch.authenticate(NS_OMEMO_2, ALICE, [A2])
    t.log.length = 0
    t.before.length = 0
    const r = await t.vouch.authenticate(NS_OMEMO_2, BOB, [B1])
    await t.vouch.idle()
    expect(r.outgoing.length).toBeGreaterThan(0)
    expect(t.before.map(refs).sort()).toEqual(
      r.outgoing.map((o) => refs(o.allowedKeys as readonly KeyRef[])).sort(),
    )
    expect(t.log).toEqual(r.outgoing.flatMap(() => ['beforeEncrypt', 'encrypt']))
  })

  it('a directory that fails before encryption does not stop the message', async () => {
    const t = await setup({ failingDirectory: true })
    const sent = await t.vouch.sendChat(BOB, 'hi')
    expect(t.log).toEqual(['beforeEncrypt', 'encrypt'])
    expect(sent.recipients.length).toBeGreaterThan(0)
  })

  it('XEP-0384 v0.9 §6: replaceSessions hands the directory every key of the contact that is not distrusted and sends what it builds; rejects where the directory replaces no sessions', async () => {
    const t = await setup()
    const replaced = await t.vouch.replaceSessions(NS_OMEMO_2, BOB)
    expect(refs(t.replaceCalls[0] ?? [])).toEqual([ref(BOB, B1), ref(BOB, B3)].sort())
    expect(refs(replaced)).toEqual([ref(BOB, B1), ref(BOB, B3)].sort())
    const ids = t.fake.sent.filter((s) => s.name === 'message').map((s) => s.attrs.id)
    expect(ids.sort()).toEqual([`kex-${B1}`, `kex-${B3}`].sort())
    const none = await setup({ noReplace: true })
    await expect(none.vouch.replaceSessions(NS_OMEMO_2, BOB)).rejects.toThrow(/does not replace sessions/)
    await expect(t.vouch.replaceSessions('urn:example:none', BOB)).rejects.toThrow(/no backend/)
  })
})
