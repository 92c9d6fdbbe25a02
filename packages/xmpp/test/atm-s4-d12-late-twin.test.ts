/**
 * ATM-S4 + D-12, a twin announced after the decision, through the binding: Alice's laptop runs
 * OMEMO 2 and OMEMO 0.3 with one key pair and has decided about Carol's OMEMO 0.3 keys (Carol uses
 * Conversations). Alice's phone runs both too; the laptop authenticates its OMEMO 2 key, and only
 * afterwards learns its OMEMO 0.3 key — from the phone's device list (a PEP notification, the key
 * refresh) or from a key exchange the phone sends (the receive pipeline's `learnedKeys`). Identity
 * linking gives that key the decision, and `keysDiscovered` plans the OMEMO 0.3 messages the
 * decision would have sent: the binding queues them with the key (one transaction) and sends them
 * over OMEMO 2, readable by the phone's OMEMO 2 key only. The phone, fed the stanza, ends with the
 * laptop's OMEMO 0.3 levels for Carol.
 *
 * No server (the fake client), stand-in backends: the "ciphertext" lists its recipients and carries
 * the payload in the clear; the link is a stand-in bijection (every byte XOR 0x5a) with the real
 * link's contract (tm-core `KeyLink`). The real Ed25519 ⇄ X25519 map and the real backends are
 * tested in `@vouch/backend-omemo`, `tooling/interop` and the CLI's Prosody test.
 */
import { memoryStore } from '@vouch/store-memory'
import type {
  AccountTrustStore,
  BareJid,
  DecryptedContent,
  EncryptionBackend,
  EncryptionNamespace,
  KeyDirectory,
  KeyId,
  KeyRef,
} from '@vouch/tm-core'
import {
  DecryptionError,
  keyIdFromBytes,
  keyIdToBytes,
  NS_OMEMO_2,
  NS_OMEMO_LEGACY,
  parseTrustMessage,
} from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { type VouchXmpp, type VouchXmppEvents, vouchXmpp } from '../src/binding.ts'
import { readOutbox } from '../src/state.ts'
import { type Fake, fakeClient } from './fake-client.ts'
import { emptyRoster, tick } from './stand-in.ts'

const ALICE = 'alice@localhost' as BareJid
const CAROL = 'carol@localhost' as BareJid
const key = (n: number): KeyId => keyIdFromBytes(new Uint8Array(32).fill(n))
const twin = (id: KeyId): KeyId => keyIdFromBytes(keyIdToBytes(id).map((b) => b ^ 0x5a))
/** the laptop (A1) and the phone (A3), each one key pair in both protocols */
const A1 = key(0xa1)
const A3 = key(0xa3)
/** Carol's OMEMO 0.3 devices */
const CX1 = key(0xc1)
const CX2 = key(0xc2)
const LEGACY_NODE = 'eu.siacs.conversations.axolotl.devicelist'

/**
 * The stand-in OMEMO 2: encrypts for exactly the keys it is allowed (`onlyKeys`, plus its own),
 * the recipients written into the element; decrypts only for a listed key. Declares the link to
 * OMEMO 0.3, as `@vouch/backend-omemo` does.
 */
function omemo2(own: KeyId, gate: () => Promise<void>): EncryptionBackend {
  return {
    namespace: NS_OMEMO_2,
    capabilities: { oneKeyPerIdentity: false, keyIdLength: 32, signsTrustMessages: true },
    keyLinks: [{ namespace: NS_OMEMO_LEGACY, toLinked: twin, fromLinked: (id) => [twin(id)] }],
    ownKeys: async () => [own],
    keysOf: async () => [],
    async encrypt(payload, _to, options) {
      await gate()
      const recipients: KeyRef[] = [
        ...(options?.onlyKeys ?? []),
        { encryption: NS_OMEMO_2, owner: ALICE, keyId: own },
      ]
      const el = xml('encrypted', { xmlns: NS_OMEMO_2, sender: own })
      for (const r of recipients) el.c('key', { owner: r.owner, rid: r.keyId })
      el.c('payload').append(...(Array.isArray(payload) ? payload : [payload]))
      return { element: el, recipients }
    },
    async decrypt(el): Promise<DecryptedContent> {
      const mine = el.getChildren('key').some((k) => k.attrs.owner === ALICE && k.attrs.rid === own)
      if (!mine) throw new DecryptionError('STAND-IN-NOT-FOR-US', 'no key for this device')
      const payload = (el.getChild('payload')?.children ?? []).filter(
        (c): c is Element => typeof c !== 'string',
      )
      return {
        content: xml('content', {}, ...payload),
        payload,
        senderJid: ALICE,
        carrier: NS_OMEMO_2,
        encrypted: true,
        mode: 'signcrypt',
        signed: true,
        senderKey: String(el.attrs.sender) as KeyId,
      }
    },
  }
}

/** The stand-in OMEMO 0.3 (body only): a key exchange from `sender` teaches its key. */
function legacy(own: KeyId): EncryptionBackend {
  return {
    namespace: NS_OMEMO_LEGACY,
    capabilities: { oneKeyPerIdentity: false, keyIdLength: 32, bodyOnly: true },
    ownKeys: async () => [own],
    keysOf: async () => [],
    encrypt: () => Promise.reject(new Error('not used: OMEMO 0.3 carries no trust message')),
    async decrypt(el): Promise<DecryptedContent> {
      const sender = String(el.attrs.sender) as KeyId
      return {
        content: xml('content'),
        payload: [],
        senderJid: ALICE,
        carrier: NS_OMEMO_LEGACY,
        encrypted: true,
        mode: 'crypt',
        signed: true,
        senderKey: sender,
        sessionOnly: true,
        learnedKeys: [sender],
      }
    },
  }
}

/** A key directory whose lists the test sets; a notification of `node` reads the list again. */
function directory(namespace: EncryptionNamespace, node: string, lists: Map<BareJid, KeyId[]>): KeyDirectory {
  return {
    namespace,
    notifyNodes: [node],
    publishOwn: async () => undefined,
    refresh: async (owner) => lists.get(owner) ?? [],
    onNotification: async (event) => ({ owner: event.from, keys: lists.get(event.from) ?? [] }),
  }
}

interface Device {
  readonly fake: Fake
  readonly store: AccountTrustStore
  readonly vouch: VouchXmpp
  readonly sent: VouchXmppEvents['trust-message-sent'][]
  /** hands stanzas to the connection and waits until the binding is idle */
  receive(...stanzas: Element[]): Promise<void>
}

async function device(
  own: KeyId,
  online: boolean,
  gate: () => Promise<void> = async () => undefined,
): Promise<Device & { lists: Map<BareJid, KeyId[]> }> {
  const store = memoryStore().forAccount(ALICE)
  await store.setOwnKey(NS_OMEMO_2, own)
  await store.setOwnKey(NS_OMEMO_LEGACY, twin(own))
  const lists = new Map<BareJid, KeyId[]>()
  const fake = fakeClient(emptyRoster(ALICE), ALICE)
  // the outbox sends only on a connection that is online; the session start is not under test
  if (online) (fake.xmpp as unknown as { status: string }).status = 'online'
  const vouch = vouchXmpp(fake.xmpp, {
    store,
    // OMEMO 2 first: the carrier of OMEMO 0.3's trust messages (D-12)
    backends: [omemo2(own, gate), legacy(twin(own))],
    keyDirectories: [directory(NS_OMEMO_LEGACY, LEGACY_NODE, lists)],
  })
  const sent: VouchXmppEvents['trust-message-sent'][] = []
  vouch.on('trust-message-sent', (m) => sent.push(m))
  const errors: Error[] = []
  vouch.on('error', (e) => errors.push(e))
  return {
    fake,
    store,
    vouch,
    sent,
    lists,
    async receive(...stanzas) {
      fake.receive(...stanzas)
      await tick()
      await vouch.idle()
      expect(errors).toEqual([])
    },
  }
}

/** The laptop: it authenticated Carol's CX1 and distrusted CX2 (Conversations codes), then the phone's OMEMO 2 key. */
async function laptopWithDecisions(gate?: () => Promise<void>) {
  const laptop = await device(A1, true, gate)
  laptop.lists.set(CAROL, [CX1, CX2])
  await laptop.vouch.refreshKeys(CAROL)
  await laptop.vouch.authenticate(NS_OMEMO_LEGACY, CAROL, [CX1])
  await laptop.vouch.distrust(NS_OMEMO_LEGACY, CAROL, [CX2])
  // the phone's OMEMO 2 key (its bundle came with its OMEMO 2 device list); its OMEMO 0.3 key not yet
  await laptop.vouch.atm.keysDiscovered(NS_OMEMO_2, ALICE, [A3])
  await laptop.vouch.authenticate(NS_OMEMO_2, ALICE, [A3])
  expect(await laptop.store.getKey(NS_OMEMO_LEGACY, ALICE, twin(A3))).toBeUndefined()
  // nothing readable to send so far: no other own device, Carol has no OMEMO 2 key
  expect(laptop.sent).toEqual([])
  return laptop
}

/** The phone: it scanned the laptop's code; Carol's OMEMO 0.3 keys are known, not decided. */
async function phone(): Promise<Device> {
  const p = await device(A3, false)
  await p.vouch.atm.keysDiscovered(NS_OMEMO_2, ALICE, [A1])
  await p.vouch.atm.authenticate(NS_OMEMO_2, ALICE, [A1])
  await p.vouch.atm.keysDiscovered(NS_OMEMO_LEGACY, CAROL, [CX1, CX2])
  return p
}

const carolLevels = (store: AccountTrustStore) =>
  Promise.all([CX1, CX2].map((k) => store.getTrustLevel(NS_OMEMO_LEGACY, CAROL, k)))

const ways = [
  {
    how: 'its device list (a PEP notification: the key refresh)',
    announce: (laptop: Device & { lists: Map<BareJid, KeyId[]> }) => {
      laptop.lists.set(ALICE, [twin(A1), twin(A3)])
      return laptop.receive(
        xml(
          'message',
          { from: ALICE, to: `${ALICE}/r`, type: 'headline' },
          xml(
            'event',
            { xmlns: 'http://jabber.org/protocol/pubsub#event' },
            xml('items', { node: LEGACY_NODE }, xml('item', { id: 'current' }, xml('list'))),
          ),
        ),
      )
    },
  },
  {
    how: 'a key exchange the phone sends in OMEMO 0.3 (the receive pipeline’s learnedKeys)',
    announce: (laptop: Device) =>
      laptop.receive(
        xml(
          'message',
          { from: `${ALICE}/phone`, to: `${ALICE}/r`, type: 'chat', id: 'kex-1' },
          xml('encrypted', { xmlns: NS_OMEMO_LEGACY, sender: twin(A3) }),
        ),
      ),
  },
]

describe('ATM-S4 + D-12: a twin announced after the decision is sent the decision’s trust messages', () => {
  for (const { how, announce } of ways) {
    it(`the phone’s OMEMO 0.3 key, learned from ${how}, inherits its authentication; the laptop sends the OMEMO 0.3 keys it decided about, over OMEMO 2, to the phone only; the phone applies them`, async () => {
      const laptop = await laptopWithDecisions()
      await announce(laptop)

      expect((await laptop.store.getKey(NS_OMEMO_LEGACY, ALICE, twin(A3)))?.level).toBe('authenticated')
      // sent once, read by the phone's OMEMO 2 key (and the laptop's own), never in OMEMO 0.3 (TM-15, TM-21)
      expect(laptop.sent.map((s) => [s.to, s.recipients.map((r) => [r.encryption, r.keyId])])).toEqual([
        [
          ALICE,
          [
            [NS_OMEMO_2, A3],
            [NS_OMEMO_2, A1],
          ],
        ],
      ])
      expect(await readOutbox(laptop.store)).toEqual([]) // sent (no XEP-0198 here: removed at once)
      const stanza = laptop.fake.sent.find((s) => s.name === 'message') as Element
      const encrypted = stanza.getChild('encrypted', NS_OMEMO_2) as Element
      const tm = parseTrustMessage(
        encrypted.getChild('payload')?.getChild('trust-message') as Element,
      ).message
      expect(tm.encryption).toBe(NS_OMEMO_LEGACY)
      expect(tm.keyOwners).toEqual([{ jid: CAROL, trust: [CX1], distrust: [CX2] }])

      // the phone receives it (a message to our bare JID) and ends with the laptop's levels
      const p = await phone()
      expect(await carolLevels(p.store)).toEqual(['automatically-trusted', 'automatically-trusted'])
      stanza.attrs.from = `${ALICE}/laptop`
      stanza.attrs.to = `${ALICE}/r`
      await p.receive(stanza)
      expect(await carolLevels(p.store)).toEqual(await carolLevels(laptop.store))
      expect(await carolLevels(p.store)).toEqual(['authenticated', 'manually-distrusted'])

      // announced again: stored already, nothing more is sent (X12)
      await announce(laptop)
      expect(laptop.sent).toHaveLength(1)
    })
  }

  it('offline: the planned messages wait in the outbox with the key (one transaction) and are sent by the next flush', async () => {
    const laptop = await laptopWithDecisions()
    ;(laptop.fake.xmpp as unknown as { status: string }).status = 'offline'
    await ways[0]?.announce(laptop)
    expect((await laptop.store.getKey(NS_OMEMO_LEGACY, ALICE, twin(A3)))?.level).toBe('authenticated')
    const waiting = await readOutbox(laptop.store)
    expect(waiting.map((e) => [e.to, e.encryption, e.allowedKeys.map((k) => k.keyId)])).toEqual([
      [ALICE, NS_OMEMO_2, [A3]],
    ])
    expect(laptop.sent).toEqual([])
    ;(laptop.fake.xmpp as unknown as { status: string }).status = 'online'
    expect(await laptop.vouch.flushOutbox()).toBe(1)
    expect(await readOutbox(laptop.store)).toEqual([])
  })

  it('a flush asked for while one runs reads the outbox again: an entry queued meanwhile is sent before the decision returns', async () => {
    let release: () => void = () => undefined
    let gated = false
    const laptop = await laptopWithDecisions(() =>
      gated ? new Promise<void>((r) => (release = r)) : Promise.resolve(),
    )
    ;(laptop.fake.xmpp as unknown as { status: string }).status = 'offline'
    await ways[0]?.announce(laptop) // queued: the phone's OMEMO 0.3 messages
    ;(laptop.fake.xmpp as unknown as { status: string }).status = 'online'
    gated = true
    const first = laptop.vouch.flushOutbox() // held in the first encryption
    await tick()
    gated = false
    // a decision while that flush runs: ATM-S5 to our other device (the phone), queued now
    const decision = laptop.vouch.distrust(NS_OMEMO_LEGACY, CAROL, [CX1])
    await tick()
    release()
    const r = await decision
    expect(r.outgoing).toHaveLength(1)
    expect(await readOutbox(laptop.store)).toEqual([])
    expect(laptop.sent).toHaveLength(2)
    expect(await first).toBe(2)
  })
})
