/**
 * RFC 6121 contacts against a real Prosody 0.12, and what they are for: reading the keys of an
 * account that shows them to contacts only (PEP access model `presence`, as Conversations, Dino,
 * Gajim and Profanity publish them), and never dropping a message silently — one whose sender's
 * keys could not be read is reported, held, and read once the keys arrive.
 */
import {
  buildPubkey,
  buildPublicKeysList,
  generateOxKey,
  NODE_PUBLIC_KEYS,
  publicKeyDataNode,
} from '@vouch/backend-ox'
import type { ProsodyServer } from '@vouch/prosody-tooling'
import type { BareJid } from '@vouch/tm-core'
import { encryptedMessageStanza } from '@vouch/tm-core'
import xml from '@xmpp/xml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReceivedChat, VouchXmppEvents } from '../src/binding.ts'
import { readHeld } from '../src/held.ts'
import {
  type Endpoint,
  endpoint,
  eventually,
  PASSWORD,
  SKIP_INTEGRATION,
  startTestServer,
} from './helpers.ts'

describe.skipIf(SKIP_INTEGRATION)(
  'RFC 6121 contacts and contacts-only keys over Prosody',
  { timeout: 40_000 },
  () => {
    let server: ProsodyServer
    const endpoints: Endpoint[] = []
    const start = async (init: Omit<Parameters<typeof endpoint>[0], 'server'>): Promise<Endpoint> => {
      const e = await endpoint({ server, ...init })
      endpoints.push(e)
      return e
    }

    beforeAll(async () => {
      server = await startTestServer()
      for (const u of ['alice', 'carol', 'bob', 'dave', 'erin', 'frank', 'gina', 'hans', 'ida'])
        await server.register(u, PASSWORD)
    }, 30_000)
    afterAll(async () => {
      for (const e of endpoints) await e.stop()
      await server?.stop()
    })

    it('PEP-ACCESS / RFC 6121 §3 / no silent drops: contacts-only keys, the contact request, the held message read once the keys arrive', async () => {
      const carol = await start({ user: 'carol', resource: 'prof', keyAccess: 'presence' })
      const alice = await start({ user: 'alice', resource: 'vouch' })

      // a non-contact may not read carol's keys: a typed error saying why, never StanzaError
      await expect(alice.vouch.refreshKeys(carol.jid)).rejects.toMatchObject({
        name: 'KeysNotVisibleError',
        rule: 'PEP-ACCESS',
        reason: 'not-a-contact',
        owner: carol.jid,
        message: expect.stringContaining('shows its keys to contacts only'),
      })
      await expect(alice.vouch.sendChat(carol.jid, 'hi')).rejects.toMatchObject({
        name: 'KeysNotVisibleError',
      })

      // carol (alice's key node is open) writes first: alice cannot check it yet, and says so
      const rejected: VouchXmppEvents['rejected'][] = []
      const messages: ReceivedChat[] = []
      alice.vouch.on('rejected', (r) => rejected.push(r))
      alice.vouch.on('message', (m) => messages.push(m))
      await carol.vouch.sendChat(alice.jid, 'before we were contacts')
      await eventually(() => rejected.length === 1, 10_000, 'the rejection')
      expect(rejected[0]).toMatchObject({
        from: `${carol.jid}/prof`,
        sender: carol.jid,
        rule: 'OX-SIGNER',
        held: true,
        source: 'live',
        archiveId: expect.stringMatching(/./),
        keysError: { name: 'KeysNotVisibleError', reason: 'not-a-contact' },
      })
      expect(messages).toEqual([])
      expect(await readHeld(alice.store, carol.jid)).toHaveLength(1)

      // alice asks; until carol answers, the reason is the pending approval
      const requests: VouchXmppEvents['subscription-request'][] = []
      carol.vouch.on('subscription-request', (r) => requests.push(r))
      const answers: VouchXmppEvents['subscription-answer'][] = []
      alice.vouch.on('subscription-answer', (a) => answers.push(a))
      await alice.vouch.contacts.add(carol.jid, { name: 'Carol' })
      await eventually(() => requests.length === 1, 5000, "carol's subscription request")
      expect(requests[0]?.from).toBe(alice.jid)
      await eventually(
        async () => (await alice.vouch.contacts.get(carol.jid))?.pending === true,
        5000,
        'ask=subscribe',
      )
      await expect(alice.vouch.refreshKeys(carol.jid)).rejects.toMatchObject({ reason: 'approval-pending' })

      // carol approves: alice's request is answered, carol's keys are fetched, the held message read
      await requests[0]?.approve()
      await eventually(() => answers.some((a) => a.from === carol.jid && a.approved), 5000, 'the approval')
      await eventually(() => messages.length === 1, 10_000, 'the held message')
      expect(messages[0]).toMatchObject({
        body: 'before we were contacts',
        peer: carol.jid,
        direction: 'incoming',
      })
      expect(await readHeld(alice.store, carol.jid)).toEqual([])
      expect(rejected).toHaveLength(1)
      await alice.vouch.idle()
      expect(await alice.ox.keysOf(carol.jid)).toEqual(await carol.ox.ownKeys())
      expect(await alice.vouch.contacts.get(carol.jid)).toMatchObject({
        name: 'Carol',
        subscription: 'to',
        pending: false,
      })
      // alice pre-approved carol when adding her (§3.4): carol's own request is approved at once
      const asked: string[] = []
      alice.vouch.on('subscription-request', (r) => asked.push(r.from))
      await carol.vouch.contacts.add(alice.jid)
      await eventually(
        async () => (await alice.vouch.contacts.get(carol.jid))?.subscription === 'both',
        5000,
        'subscription both',
      )
      expect(asked).toEqual([])
      await alice.vouch.sendChat(carol.jid, 'now we are')
    })

    it('RFC 6121 §3.1: autoApproveSubscriptions approves without asking; a refusal is reported; remove cancels', async () => {
      const dave = await start({
        user: 'dave',
        resource: 'd',
        keyAccess: 'presence',
        binding: { autoApproveSubscriptions: true },
      })
      const erin = await start({ user: 'erin', resource: 'e', keyAccess: 'presence' })
      const bob = await start({ user: 'bob', resource: 'b' })
      const answers: VouchXmppEvents['subscription-answer'][] = []
      bob.vouch.on('subscription-answer', (a) => answers.push(a))
      const asked: string[] = []
      const told: string[] = []
      dave.vouch.on('subscription-request', (r) => (r.autoApproved ? told : asked).push(r.from))
      await bob.vouch.contacts.add(dave.jid)
      await eventually(
        () => answers.some((a) => a.from === dave.jid && a.approved),
        5000,
        "dave's automatic approval",
      )
      expect(asked).toEqual([])
      expect(told).toEqual([bob.jid])
      await eventually(async () => (await bob.ox.keysOf(dave.jid)).length === 1, 5000, "dave's keys")

      erin.vouch.on('subscription-request', (r) => void r.refuse())
      await bob.vouch.contacts.add(erin.jid)
      await eventually(() => answers.some((a) => a.from === erin.jid && !a.approved), 5000, "erin's refusal")
      await expect(bob.vouch.refreshKeys(erin.jid)).rejects.toMatchObject({
        name: 'KeysNotVisibleError',
        reason: 'not-a-contact',
      })

      await bob.vouch.contacts.remove(dave.jid)
      expect((await bob.vouch.contacts.list()).map((c) => c.jid)).toEqual([erin.jid])
    })

    it('a message from a sender whose keys are visible is read at once; one that fails with its keys at hand is reported, not held', async () => {
      const frank = await start({ user: 'frank', resource: 'f' })
      const gina = await start({ user: 'gina', resource: 'g' })
      const messages: ReceivedChat[] = []
      const rejected: VouchXmppEvents['rejected'][] = []
      gina.vouch.on('message', (m) => messages.push(m))
      gina.vouch.on('rejected', (r) => rejected.push(r))
      await frank.vouch.sendChat(gina.jid, 'open keys')
      await eventually(() => messages.length === 1, 10_000, "frank's message")
      expect(rejected).toEqual([])
      // encrypted for frank only, sent to gina: no key can cure it
      const res = await frank.ox.encrypt(
        [xml('body', { xmlns: 'jabber:client' }, 'not for gina')],
        [frank.jid],
      )
      await frank.xmpp.send(
        encryptedMessageStanza({
          to: gina.jid,
          id: 'not-for-gina',
          encrypted: res.element,
          encryptionNamespace: res.element.attrs.xmlns as string,
        }),
      )
      await eventually(() => rejected.length === 1, 10_000, 'the rejection')
      expect(rejected[0]).toMatchObject({
        sender: frank.jid,
        rule: 'OX-DECRYPT',
        held: false,
        source: 'live',
      })
      expect(rejected[0]?.keysError).toBeUndefined()
      expect(await readHeld(gina.store)).toEqual([])
    })

    it('no silent drops: an announced key that cannot be used is reported (key-unusable), naming the owner and the rule', async () => {
      const hans = await start({ user: 'hans', resource: 'h' })
      const ida = await start({ user: 'ida', resource: 'i' })
      // hans announces, besides his own key, one whose only user id is somebody else's
      const impostor = await generateOxKey('mallory@localhost' as BareJid)
      const fpr = impostor.getFingerprint().toUpperCase()
      const own = await hans.ox.ownKeyInfo()
      const open = { 'pubsub#access_model': 'open' }
      await hans.vouch.pep.publish(
        publicKeyDataNode(fpr),
        'x',
        buildPubkey(impostor.toPublic().write()),
        open,
      )
      await hans.vouch.pep.publish(
        NODE_PUBLIC_KEYS,
        'current',
        buildPublicKeysList([
          { fingerprint: own?.fingerprint ?? '', date: own?.created ?? new Date() },
          { fingerprint: fpr, date: new Date() },
        ]),
        open,
      )
      const unusable: VouchXmppEvents['key-unusable'][] = []
      ida.vouch.on('key-unusable', (k) => unusable.push(k))
      const ids = await ida.vouch.refreshKeys(hans.jid)
      expect(ids).toEqual(await hans.ox.ownKeys())
      expect(unusable).toEqual([
        {
          encryption: 'urn:xmpp:openpgp:0',
          owner: hans.jid,
          key: fpr,
          reason: expect.stringMatching(/^OX-UID: .*xmpp:hans@localhost/),
        },
      ])
    })
  },
)
