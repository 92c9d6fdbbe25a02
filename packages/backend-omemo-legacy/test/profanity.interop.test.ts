/**
 * A real OMEMO 0.3 client: Profanity 0.13.1 (Debian, libsignal-protocol-c), driven in tmux
 * (`tooling/profanity`), against Vouch (`@vouch/xmpp` with this backend and its PEP directory) over
 * the loopback Prosody. Profanity publishes its OMEMO nodes with the presence access model, so the
 * two accounts become contacts first (plain RFC 6121 presence subscriptions). Then, both
 * directions: Profanity starts the session (a PreKeyWhisperMessage); Vouch reads it, answers the
 * key exchange with an empty message (which Profanity 0.13 ignores: it drops messages without
 * `<payload/>`), Vouch's replies show in Profanity's window, and Profanity's next message is a plain
 * WhisperMessage. Skipped visibly without Profanity/tmux/gpg or
 * Prosody outside CI; in CI (`CI` set) their absence fails the run.
 */
import { type ProsodyServer, prosodyInstalled, startProsody } from '@vouch/prosody-tooling'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import {
  createClient,
  pepPublish,
  type ReceivedChat,
  startClient,
  type VouchXmpp,
  vouchXmpp,
} from '@vouch/xmpp'
import type { Client } from '@xmpp/client'
import xml, { type Element } from '@xmpp/xml'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  PROFANITY_INSTALL_HINT,
  type ProfanityUser,
  profanityInstalled,
  startProfanity,
} from '../../../tooling/profanity/src/index.ts'
import { type LegacyOmemoBackend, legacyOmemoBackend } from '../src/backend.ts'
import { legacyOmemoKeyDirectory } from '../src/pep.ts'
import { buildDeviceList, NODE_DEVICELIST, NS_AXOLOTL } from '../src/wire.ts'
import { curve, webCrypto } from './helpers.ts'

const available = profanityInstalled() && prosodyInstalled()
const SKIP = !available && process.env.CI === undefined
const PASSWORD = 'correct horse battery staple'

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe.skipIf(SKIP)(
  `Profanity 0.13 (OMEMO 0.3) ↔ Vouch over Prosody${SKIP ? ` (skipped: ${PROFANITY_INSTALL_HINT}; Prosody)` : ''}`,
  () => {
    let server: ProsodyServer
    let carol: ProfanityUser
    let xmpp: Client
    let vouch: VouchXmpp
    let omemo: LegacyOmemoBackend
    let jid: BareJid
    let carolJid: BareJid
    const received: ReceivedChat[] = []
    /** every OMEMO 0.3 <encrypted/> Vouch received from Carol, as on the wire */
    const wire: Element[] = []
    /** every OMEMO 0.3 <encrypted/> Vouch sent */
    const sent: Element[] = []
    // a real client over a real server: steps take seconds, not milliseconds
    vi.setConfig({ testTimeout: 60_000 })

    beforeAll(async () => {
      if (!available) throw new Error(`${PROFANITY_INSTALL_HINT}; Prosody (apt-get install prosody)`)
      server = await startProsody()
      await server.register('vouch', PASSWORD)
      await server.register('carol', PASSWORD)
      jid = `vouch@${server.domain}` as BareJid
      carolJid = `carol@${server.domain}` as BareJid
      const store = memoryStore().forAccount(jid)
      omemo = legacyOmemoBackend({ curve, webCrypto })({ store })
      await omemo.createDevice()
      xmpp = createClient({ service: server.service, jid, password: PASSWORD, resource: 'vouch' })
      vouch = vouchXmpp(xmpp, { store, backends: [omemo], keyDirectories: [legacyOmemoKeyDirectory(omemo)] })
      vouch.on('message', (m) => received.push(m))
      xmpp.on('stanza', (s: Element) => {
        if (s.is('presence') && s.attrs.type === 'subscribe' && s.attrs.from?.startsWith(carolJid))
          void xmpp.send(xml('presence', { to: carolJid, type: 'subscribed' }))
        const enc = s.is('message') ? s.getChild('encrypted', NS_AXOLOTL) : undefined
        if (enc !== undefined) wire.push(enc)
      })
      // what Vouch sends (the binding calls xmpp.send)
      const send = xmpp.send.bind(xmpp)
      xmpp.send = (s: Element) => {
        const enc = s.is('message') ? s.getChild('encrypted', NS_AXOLOTL) : undefined
        if (enc !== undefined) sent.push(enc)
        return send(s)
      }
      const synced = vouch.synced()
      await startClient(xmpp)
      await synced
      // Profanity 0.13.1 asks for its own device list, and when the node does not exist yet
      // (item-not-found) it logs "can't get OMEMO device list" and never publishes one: nobody can
      // then encrypt to it. An account that used OMEMO before has the node; we give carol one (an
      // empty list, as another client of hers would have left it), which Profanity then extends.
      const setup = createClient({
        service: server.service,
        jid: carolJid,
        password: PASSWORD,
        resource: 'setup',
      })
      await startClient(setup)
      await pepPublish(setup, NODE_DEVICELIST, 'current', buildDeviceList([]))
      await setup.stop()
      carol = await startProfanity({ jid: carolJid, password: PASSWORD, port: server.port })
    }, 90_000)

    afterAll(async () => {
      vouch?.close()
      await xmpp?.stop().catch(() => undefined)
      await carol?.stop()
      await server?.stop()
    })

    it('RFC 6121 + XEP-0384 v0.3 §4.2: once contacts, Vouch reads the device list and bundle Profanity publishes (presence access model)', async () => {
      await carol.type('/omemo gen')
      await carol.waitFor(
        /OMEMO crytographic materials generated|OMEMO cryptographic materials generated/i,
        30_000,
      )
      await carol.type('/omemo trustmode blind')
      // mutual subscription: Vouch asks, Carol allows and asks back, Vouch allows (stanza handler)
      await xmpp.send(xml('presence', { to: carolJid, type: 'subscribe' }))
      await carol.type(`/sub allow ${jid}`)
      await carol.type(`/sub request ${jid}`)
      let keys: readonly string[] = []
      await eventually(async () => {
        try {
          keys = await vouch.refreshKeys(carolJid, NS_AXOLOTL)
        } catch (e) {
          // until Carol's approval arrives, her nodes refuse us: said so, never read as "no device"
          if ((e as Error).name === 'KeysNotVisibleError') return false
          throw e
        }
        return keys.length === 1
      }, "Carol's OMEMO 0.3 device (device list and bundle)")
      expect((await omemo.devices(carolJid)).filter((d) => d.keyId !== undefined)).toHaveLength(1)
    })

    it('Profanity starts the session (a key exchange); Vouch decrypts it and answers with an empty message', async () => {
      await carol.type(`/omemo start ${jid}`)
      await new Promise((r) => setTimeout(r, 1500)) // Profanity fetches our device list and bundle
      await carol.type('hello vouch, from profanity')
      await eventually(
        () => received.some((m) => m.body === 'hello vouch, from profanity'),
        'the first message',
      )
      const first = received.find((m) => m.body === 'hello vouch, from profanity') as ReceivedChat
      expect(first.encryption).toBe(NS_AXOLOTL)
      expect(first.senderKey).toBe((await omemo.keysOf(carolJid))[0])
      const ownId = String(await omemo.ownDeviceId())
      const firstKey = wire[0]
        ?.getChild('header')
        ?.getChildren('key')
        .find((k) => k.attrs.rid === ownId)
      expect(firstKey?.attrs.prekey === 'true' || firstKey?.attrs.prekey === '1').toBe(true)
      // Vouch answered the key exchange with an empty message (key transport: no <payload/>)
      await eventually(
        () =>
          sent.some(
            (e) =>
              e.getChild('payload') === undefined && e.getChild('header')?.getChildren('key').length === 1,
          ),
        "Vouch's empty message answering the key exchange",
      )
    })

    it('Vouch answers; the text shows in Profanity, and Profanity’s next message is a plain WhisperMessage', async () => {
      const since = await carol.mark()
      await vouch.sendChat(carolJid, 'hello profanity, from vouch', { encryption: NS_AXOLOTL })
      await carol.waitFor(/hello profanity, from vouch/, 20_000, since)
      await vouch.sendChat(carolJid, 'and once more', { encryption: NS_AXOLOTL })
      await carol.waitFor(/and once more/, 20_000, since)
      // Profanity 0.13 drops messages without <payload/> (its omemo_receive_message returns early),
      // so our key transport answer does not confirm its session; our first real message does
      const ownId = String(await omemo.ownDeviceId())
      await carol.type('after your reply')
      await eventually(
        () => received.some((m) => m.body === 'after your reply'),
        'the message after our reply',
      )
      const lastKey = wire
        .at(-1)
        ?.getChild('header')
        ?.getChildren('key')
        .find((k) => k.attrs.rid === ownId)
      expect(lastKey?.attrs.prekey).toBeUndefined()
    })

    it('XEP-0384 §6: Vouch replaces its session with Profanity’s device by hand; Profanity builds the new session from the next message and answers on it', async () => {
      const replaced = await vouch.replaceSessions(NS_AXOLOTL, carolJid)
      expect(replaced.map((k) => k.keyId)).toEqual(await omemo.keysOf(carolJid))
      // the empty key transport message goes first (Profanity 0.13 drops it: no <payload/>); the
      // next message carries the new key exchange as well, and Profanity takes it from there
      const since = await carol.mark()
      await vouch.sendChat(carolJid, 'after the reset', { encryption: NS_AXOLOTL })
      await carol.waitFor(/after the reset/, 20_000, since)
      const ownId = String(await omemo.ownDeviceId())
      const lastSent = sent.at(-1)?.getChild('header')?.getChildren('key')[0]
      expect(lastSent?.attrs.prekey === 'true' || lastSent?.attrs.prekey === '1').toBe(true)
      await carol.type('profanity on the new session')
      await eventually(
        () => received.some((m) => m.body === 'profanity on the new session'),
        'Profanity’s message on the new session',
      )
      const key = wire
        .at(-1)
        ?.getChild('header')
        ?.getChildren('key')
        .find((k) => k.attrs.rid === ownId)
      expect(key?.attrs.prekey).toBeUndefined()
      // Profanity answered on the new session (libsignal confirms it): our next message carries no key exchange
      const since2 = await carol.mark()
      await vouch.sendChat(carolJid, 'the new session holds', { encryption: NS_AXOLOTL })
      await carol.waitFor(/the new session holds/, 20_000, since2)
      const confirmed = sent.at(-1)?.getChild('header')?.getChildren('key')[0]
      expect(confirmed?.attrs.prekey).toBeUndefined()
    })
  },
)
