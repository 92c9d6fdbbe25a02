/**
 * Interop with python-oldmemo 1.0.3 (Debian python3-oldmemo, through python-omemo's
 * SessionManager) at the XML level (XEP-0384 v0.3): sessions started from either side, key
 * exchange answers (the empty message each side sends after a PreKeyWhisperMessage), replies,
 * out-of-order delivery, a long ping-pong, replays and tampering rejected on both sides. In CI
 * (`CI` set) a missing python3-oldmemo fails the run; elsewhere the suite is skipped visibly.
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, Element, FullJid } from '@vouch/tm-core'
import { Element as XmlElement, parseXml } from '@vouch/tm-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type LegacyOmemoBackend, legacyOmemoBackend } from '../src/backend.ts'
import { buildBundle, buildDeviceList, NS_AXOLOTL, parseEncrypted } from '../src/wire.ts'
import { body, bodyText, curve, expectError, webCrypto } from './helpers.ts'
import { OldmemoHarness, oldmemoUnavailable } from '@vouch/python-omemo-harness'

const unavailable = oldmemoUnavailable()

if (unavailable !== undefined && process.env.CI) {
  describe('python-oldmemo interop', () => {
    it('needs python3-oldmemo in CI (tooling/debian-packages.txt)', () => {
      expect(unavailable).toBeUndefined()
    })
  })
}

let seq = 0
const uniq = (base: string): string => `${base}${++seq}@example.org`
const te = new TextEncoder()
const b64text = (s: string): string => Buffer.from(s, 'base64').toString('utf8')

interface Ts {
  jid: BareJid
  backend: LegacyOmemoBackend
  store: AccountTrustStore
  deviceId: number
}
interface Py {
  name: string
  jid: BareJid
  deviceId: number
}

/** A copy of `el` with one bit flipped in the Base64 text of its first `name` element (in the header or not). */
function flip(el: Element, name: 'payload' | 'key', at = 0.5): Element {
  const copy = parseXml(el.toString())
  const target = name === 'payload' ? copy.getChild('payload') : copy.getChild('header')?.getChild('key')
  if (target === undefined) throw new Error(`no <${name}/>`)
  const bytes = Buffer.from(target.getText(), 'base64')
  const i = Math.floor(bytes.length * at)
  bytes[i] = (bytes[i] as number) ^ 0x01
  target.children = [bytes.toString('base64')]
  return copy
}

describe.skipIf(unavailable !== undefined)(
  `python-oldmemo interop${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let h: OldmemoHarness
    beforeAll(() => {
      h = new OldmemoHarness()
    })
    // a second process and hundreds of ratchet steps: seconds on a loaded 2-core machine
    vi.setConfig({ testTimeout: 60_000 })
    afterAll(async () => {
      await h.close()
    })

    async function tsAccount(): Promise<Ts> {
      const jid = uniq('ts') as BareJid
      const store = memoryStore().forAccount(jid)
      const backend = legacyOmemoBackend({ curve, webCrypto, preKeyCount: 20 })({ store })
      const { deviceId } = await backend.createDevice()
      await backend.importDeviceList(jid, [deviceId])
      await h.putBundle(jid, deviceId, buildBundle(await backend.ownBundle()).toString())
      await h.putDevices(jid, buildDeviceList(await backend.ownDeviceList()).toString())
      return { jid, backend, store, deviceId }
    }

    async function pyAccount(): Promise<Py> {
      const jid = uniq('py') as BareJid
      const r = await h.create(jid, jid)
      return { name: jid, jid, deviceId: r.deviceId }
    }

    /** ts fetches py's device list and bundles (as from PEP) and records the keys (standing in for ATM). */
    async function learn(ts: Ts, py: Py): Promise<void> {
      await ts.backend.importDeviceList(py.jid, parseXml((await h.getDevices(py.jid)).xml as string))
      const keys = []
      for (const d of await ts.backend.devices(py.jid)) {
        const bundle = (await h.getBundle(py.jid, d.deviceId)).xml as string
        keys.push(await ts.backend.importBundle(py.jid, d.deviceId, parseXml(bundle)))
      }
      await ts.store.addKeys(
        NS_AXOLOTL,
        py.jid,
        keys,
        { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
        'automatically-trusted',
      )
    }

    async function both(): Promise<[Ts, Py]> {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py)
      return [ts, py]
    }

    const fromPy = (py: Py, ts: Ts) => ({ from: `${py.jid}/py` as FullJid, to: ts.jid })

    async function tsToPy(
      ts: Ts,
      py: Py,
      text: string,
    ): Promise<{ xml: string; outbox: { to: string; xml: string }[] }> {
      const sent = await ts.backend.encrypt(body(text), [py.jid])
      const r = await h.decrypt(py.name, ts.jid, sent.element.toString())
      expect(r.plaintext === null ? null : b64text(r.plaintext)).toBe(text)
      expect(r.deviceId).toBe(ts.deviceId)
      return { xml: sent.element.toString(), outbox: r.outbox }
    }

    async function pyToTs(py: Py, ts: Ts, text: string): Promise<Element> {
      const e = await h.encrypt(py.name, [ts.jid], te.encode(text))
      return parseXml(e.xml)
    }

    it('Vouch starts the session: python reads the key exchange and answers with an empty message, which completes it', async () => {
      const [ts, py] = await both()
      const first = await tsToPy(ts, py, 'hello from vouch')
      expect(parseEncrypted(parseXml(first.xml)).keys[0]?.prekey).toBe(true)
      // python-oldmemo answers a key exchange with an empty (key transport) message
      expect(first.outbox).toHaveLength(1)
      const answer = await ts.backend.decryptMessage(parseXml(first.outbox[0]?.xml as string), fromPy(py, ts))
      expect(answer.kind).toBe('empty')
      // the session is confirmed: no more key exchanges
      const second = await tsToPy(ts, py, 'second')
      expect(parseEncrypted(parseXml(second.xml)).keys[0]?.prekey).toBe(false)
      const reply = await ts.backend.decrypt(await pyToTs(py, ts, 'reply from python'), fromPy(py, ts))
      expect(bodyText(reply.payload)).toBe('reply from python')
      expect(reply.senderKey).toBe((await ts.backend.keysOf(py.jid))[0])
    })

    it('python starts the session: Vouch reads the key exchange, learns the key, answers with an empty message python accepts', async () => {
      const [ts, py] = await both()
      const kex = await pyToTs(py, ts, 'hello from python')
      expect(kex.getChild('header')?.getChild('key')?.attrs.prekey).toBe('true')
      const r = await ts.backend.decryptMessage(kex, fromPy(py, ts))
      expect(r.kind).toBe('content')
      if (r.kind !== 'content') return
      expect(bodyText(r.content.payload)).toBe('hello from python')
      expect(r.keyExchange).toBe(true)
      expect(r.content.learnedKeys).toEqual(await ts.backend.keysOf(py.jid))
      const owed = await ts.backend.takeEmptyMessages()
      expect(owed.map((m) => m.to)).toEqual([py.jid])
      const empty = await h.decrypt(py.name, ts.jid, (owed[0] as { element: Element }).element.toString())
      expect(empty.plaintext).toBeNull()
      // python now sends plain messages, and reads ours
      const next = await pyToTs(py, ts, 'no more key exchange')
      expect(next.getChild('header')?.getChild('key')?.attrs.prekey).toBeUndefined()
      expect(bodyText((await ts.backend.decrypt(next, fromPy(py, ts))).payload)).toBe('no more key exchange')
      await tsToPy(ts, py, 'and back')
    })

    it('XEP-0384 §6: Vouch replaces an established session by hand; python-oldmemo takes the new key exchange from the empty message, answers it, and messages flow both ways on the new session', async () => {
      const [ts, py] = await both()
      const first = await tsToPy(ts, py, 'old session')
      await ts.backend.decryptMessage(parseXml(first.outbox[0]?.xml as string), fromPy(py, ts))
      expect(await ts.backend.replaceSessions(py.jid)).toEqual([py.deviceId])
      const owed = await ts.backend.takeEmptyMessages()
      expect(owed.map((m) => m.to)).toEqual([py.jid])
      const kex = (owed[0] as { element: Element }).element
      expect(parseEncrypted(kex).keys.map((k) => k.prekey)).toEqual([true])
      const r = await h.decrypt(py.name, ts.jid, kex.toString())
      expect(r.plaintext).toBeNull()
      expect(r.outbox).toHaveLength(1) // python answers the key exchange
      const answer = await ts.backend.decryptMessage(parseXml(r.outbox[0]?.xml as string), fromPy(py, ts))
      expect(answer.kind).toBe('empty')
      const next = await tsToPy(ts, py, 'new session')
      expect(parseEncrypted(parseXml(next.xml)).keys[0]?.prekey).toBe(false)
      const reply = await ts.backend.decrypt(
        await pyToTs(py, ts, 'python on the new session'),
        fromPy(py, ts),
      )
      expect(bodyText(reply.payload)).toBe('python on the new session')
    })

    it('out-of-order delivery in both directions', async () => {
      const [ts, py] = await both()
      const first = await tsToPy(ts, py, 'start')
      await ts.backend.decrypt(parseXml(first.outbox[0]?.xml as string), fromPy(py, ts))
      const fromPython = []
      for (let i = 0; i < 6; i++) fromPython.push(await pyToTs(py, ts, `p${i}`))
      for (const i of [4, 1, 5, 0, 3, 2])
        expect(bodyText((await ts.backend.decrypt(fromPython[i] as Element, fromPy(py, ts))).payload)).toBe(
          `p${i}`,
        )
      const fromVouch = []
      for (let i = 0; i < 6; i++)
        fromVouch.push((await ts.backend.encrypt(body(`v${i}`), [py.jid])).element.toString())
      for (const i of [2, 5, 0, 4, 1, 3]) {
        const r = await h.decrypt(py.name, ts.jid, fromVouch[i] as string)
        expect(b64text(r.plaintext as string)).toBe(`v${i}`)
      }
    })

    it('a ping-pong of 200 messages (a ratchet step each) stays readable both ways', async () => {
      const [ts, py] = await both()
      const first = await tsToPy(ts, py, 'start')
      await ts.backend.decrypt(parseXml(first.outbox[0]?.xml as string), fromPy(py, ts))
      for (let i = 0; i < 100; i++) {
        expect(
          bodyText((await ts.backend.decrypt(await pyToTs(py, ts, `p${i}`), fromPy(py, ts))).payload),
        ).toBe(`p${i}`)
        await tsToPy(ts, py, `v${i}`)
      }
    })

    it('REPLAY: a python message delivered twice is rejected the second time; python rejects a replayed Vouch message', async () => {
      const [ts, py] = await both()
      const kex = await pyToTs(py, ts, 'once')
      await ts.backend.decrypt(kex, fromPy(py, ts))
      await expectError(ts.backend.decrypt(kex, fromPy(py, ts)), 'DecryptionError', 'REPLAY')
      const plain = await pyToTs(py, ts, 'once more')
      await ts.backend.decrypt(plain, fromPy(py, ts))
      await expectError(ts.backend.decrypt(plain, fromPy(py, ts)), 'DecryptionError', 'REPLAY')
      const sent = await tsToPy(ts, py, 'to python once')
      await expect(h.decrypt(py.name, ts.jid, sent.xml)).rejects.toThrow()
    })

    it('tampering: a flipped bit in the payload or the key is rejected, and the genuine copy still decrypts', async () => {
      const [ts, py] = await both()
      const m = await pyToTs(py, ts, 'integrity')
      await expectError(
        ts.backend.decrypt(flip(m, 'payload'), fromPy(py, ts)),
        'DecryptionError',
        'OMEMO03-PAYLOAD',
      )
      await expectError(ts.backend.decrypt(flip(m, 'key', 0.97), fromPy(py, ts)), 'DecryptionError')
      expect(bodyText((await ts.backend.decrypt(m, fromPy(py, ts))).payload)).toBe('integrity')
      const sent = (await ts.backend.encrypt(body('to python'), [py.jid])).element
      await expect(h.decrypt(py.name, ts.jid, flip(sent, 'payload').toString())).rejects.toThrow()
      const ok = await h.decrypt(py.name, ts.jid, sent.toString())
      expect(b64text(ok.plaintext as string)).toBe('to python')
    })

    it('a message whose <payload/> a server stripped is rejected, not taken for an empty message', async () => {
      const [ts, py] = await both()
      const m = await pyToTs(py, ts, 'stripped')
      const stripped = new XmlElement('encrypted', { xmlns: NS_AXOLOTL })
      stripped.cnode(parseXml((m.getChild('header') as Element).toString()))
      await expectError(ts.backend.decrypt(stripped, fromPy(py, ts)), 'DecryptionError', 'OMEMO03-PAYLOAD')
      expect(bodyText((await ts.backend.decrypt(m, fromPy(py, ts))).payload)).toBe('stripped')
    })
  },
)
