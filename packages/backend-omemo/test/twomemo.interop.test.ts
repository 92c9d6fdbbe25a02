/**
 * Interop with python-twomemo 1.0.3 (Debian python3-twomemo, through python-omemo's
 * SessionManager) at the XML + SCE level: sessions started from either side, replies, key
 * exchange answers, out-of-order and skipped messages, replays and tampered MACs rejected on
 * both sides. In CI (`CI` set) a missing python3-twomemo fails the run; elsewhere the suite is
 * skipped visibly.
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, Element, FullJid } from '@vouch/tm-core'
import { Element as XmlElement, parseXml } from '@vouch/tm-core'
import { buildEnvelope } from '@vouch/sce'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildBundle,
  buildDeviceList,
  type OmemoBackend,
  omemoBackend,
  parseEncrypted,
} from '../src/index.ts'
import { expectError, standInForAtm } from './helpers.ts'
import { TwomemoHarness, twomemoUnavailable } from '@vouch/python-omemo-harness'

const unavailable = twomemoUnavailable()

if (unavailable !== undefined && process.env.CI) {
  describe('python-twomemo interop', () => {
    it('needs python3-twomemo in CI (tooling/debian-packages.txt)', () => {
      expect(unavailable).toBeUndefined()
    })
  })
}

let seq = 0
const uniq = (base: string): string => `${base}${++seq}@example.org`

describe.skipIf(unavailable !== undefined)(
  `python-twomemo interop${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  // each test ~0.5 s alone; the whole suite runs beside Chromium tests on 2 cores
  { timeout: 60_000 },
  () => {
    let h: TwomemoHarness
    beforeAll(() => {
      h = new TwomemoHarness()
    })
    afterAll(async () => {
      await h.close()
    })

    interface Ts {
      jid: BareJid
      backend: OmemoBackend
      store: AccountTrustStore
    }

    async function tsAccount(): Promise<Ts> {
      const jid = uniq('ts') as BareJid
      const store = memoryStore().forAccount(jid)
      const backend = omemoBackend({ preKeyCount: 25 })({ store })
      const { deviceId } = await backend.createDevice()
      await h.putBundle(jid, deviceId, buildBundle(await backend.ownBundle()).toString())
      await h.putDevices(jid, buildDeviceList(await backend.ownDeviceList()).toString())
      return { jid, backend, store }
    }

    async function pyAccount(): Promise<{
      name: string
      jid: BareJid
      deviceId: number
      identityKey: string
    }> {
      const jid = uniq('py') as BareJid
      const name = jid
      const r = await h.create(name, jid)
      return { name, jid, ...r }
    }

    async function learn(ts: Ts, jid: BareJid): Promise<void> {
      const list = (await h.getDevices(jid)).xml as string
      await ts.backend.importDeviceList(jid, parseXml(list))
      const keys = []
      for (const d of await ts.backend.devices(jid)) {
        const bundle = (await h.getBundle(jid, d.deviceId)).xml as string
        keys.push(await ts.backend.importBundle(jid, d.deviceId, parseXml(bundle)))
      }
      // ATM (stood in for) records the keys the backend learned: the backend writes no level
      await standInForAtm(ts.store, jid, keys)
    }

    const body = (t: string): Element => new XmlElement('body', { xmlns: 'jabber:client' }).t(t)
    const envelopeFor = (from: BareJid, to: BareJid, text: string): Uint8Array =>
      new TextEncoder().encode(buildEnvelope({ content: body(text), from, to, time: new Date() }).toString())
    const stanza = (from: BareJid, to: BareJid) => ({ from: `${from}/res` as FullJid, to })
    const textOf = (payload: readonly Element[]): string | undefined =>
      payload.find((e) => e.name === 'body')?.children.join('')
    const decoded = (b64: string | null): string => Buffer.from(b64 ?? '', 'base64').toString('utf8')

    /** A copy of an `<encrypted/>` XML text with one byte of the first `<key/>` flipped at `at`. */
    function tamperKey(xml: string, at: number): string {
      return xml.replace(/(<key [^>]*>)([^<]+)(<\/key>)/, (_m, open: string, b64: string, close: string) => {
        const bytes = Buffer.from(b64, 'base64')
        const i = at < 0 ? bytes.length + at : at
        bytes[i] = (bytes[i] as number) ^ 0x01
        return `${open}${bytes.toString('base64')}${close}`
      })
    }

    it('TS starts the session; python decrypts, answers the key exchange with an empty message; TS stops sending kex', async () => {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py.jid)
      const sent = await ts.backend.encrypt(body('hello python'), [py.jid])
      const parsed = parseEncrypted(sent.element)
      expect(parsed.keys.get(py.jid)?.[0]?.kex).toBe(true)
      const r = await h.decrypt(py.name, ts.jid, sent.element.toString())
      expect(decoded(r.plaintext)).toContain('hello python')
      expect(decoded(r.plaintext)).toContain(`<from jid="${ts.jid}"/>`)
      expect(r.outbox).toHaveLength(1) // python answers every key exchange
      const answer = await ts.backend.decryptMessage(
        parseXml((r.outbox[0] as { xml: string }).xml),
        stanza(py.jid, ts.jid),
      )
      expect(answer.kind).toBe('empty')
      const next = await ts.backend.encrypt(body('second'), [py.jid])
      expect(parseEncrypted(next.element).keys.get(py.jid)?.[0]?.kex).toBe(false)
      expect(decoded((await h.decrypt(py.name, ts.jid, next.element.toString())).plaintext)).toContain(
        'second',
      )
    })

    it('TS keeps the key exchange on every message until python answers', async () => {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py.jid)
      const m1 = await ts.backend.encrypt(body('one'), [py.jid])
      const m2 = await ts.backend.encrypt(body('two'), [py.jid])
      expect(parseEncrypted(m2.element).keys.get(py.jid)?.[0]?.kex).toBe(true)
      // python reads both (the second rebuilds nothing: same key exchange)
      expect(decoded((await h.decrypt(py.name, ts.jid, m1.element.toString())).plaintext)).toContain('one')
      expect(decoded((await h.decrypt(py.name, ts.jid, m2.element.toString())).plaintext)).toContain('two')
    })

    it('python starts the session; TS decrypts, owes an empty message, python reads it, replies flow both ways', async () => {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py.jid)
      const m = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, 'hello from python'))
      const r = await ts.backend.decryptMessage(parseXml(m.xml), stanza(py.jid, ts.jid))
      expect(r.kind).toBe('content')
      if (r.kind !== 'content') return
      expect(textOf(r.content.payload)).toBe('hello from python')
      expect(r.keyExchange).toBe(true)
      expect(r.bundleChanged).toBe(true)
      expect(r.content.senderKey).toBe(py.identityKey)
      const owed = await ts.backend.takeEmptyMessages()
      expect(owed).toHaveLength(1)
      const e = await h.decrypt(py.name, ts.jid, (owed[0] as { element: Element }).element.toString())
      expect(e.plaintext).toBeNull()
      // replies both ways, several turns (DH ratchet steps)
      for (let i = 0; i < 4; i++) {
        const fromTs = await ts.backend.encrypt(body(`ts ${i}`), [py.jid])
        expect(decoded((await h.decrypt(py.name, ts.jid, fromTs.element.toString())).plaintext)).toContain(
          `ts ${i}`,
        )
        const fromPy = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, `py ${i}`))
        const got = await ts.backend.decrypt(parseXml(fromPy.xml), stanza(py.jid, ts.jid))
        expect(textOf(got.payload)).toBe(`py ${i}`)
      }
    })

    it('XEP-0384 §6: TS replaces an established session by hand; python takes the new key exchange from the empty message, answers it, and messages flow both ways on the new session', async () => {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py.jid)
      const first = await ts.backend.encrypt(body('old session'), [py.jid])
      const r1 = await h.decrypt(py.name, ts.jid, first.element.toString())
      await ts.backend.decryptMessage(parseXml((r1.outbox[0] as { xml: string }).xml), stanza(py.jid, ts.jid))
      expect(await ts.backend.replaceSessions(py.jid)).toEqual([py.deviceId])
      const owed = await ts.backend.takeEmptyMessages()
      expect(owed.map((m) => m.to)).toEqual([py.jid])
      const kex = (owed[0] as { element: Element }).element
      expect(
        parseEncrypted(kex)
          .keys.get(py.jid)
          ?.map((k) => k.kex),
      ).toEqual([true])
      const r = await h.decrypt(py.name, ts.jid, kex.toString())
      expect(r.plaintext).toBeNull()
      expect(r.outbox).toHaveLength(1) // python answers the key exchange
      const answer = await ts.backend.decryptMessage(
        parseXml((r.outbox[0] as { xml: string }).xml),
        stanza(py.jid, ts.jid),
      )
      expect(answer.kind).toBe('empty')
      const next = await ts.backend.encrypt(body('new session'), [py.jid])
      expect(parseEncrypted(next.element).keys.get(py.jid)?.[0]?.kex).toBe(false)
      expect(decoded((await h.decrypt(py.name, ts.jid, next.element.toString())).plaintext)).toContain(
        'new session',
      )
      const fromPy = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, 'python, new session'))
      expect(textOf((await ts.backend.decrypt(parseXml(fromPy.xml), stanza(py.jid, ts.jid))).payload)).toBe(
        'python, new session',
      )
    })

    it('out-of-order and skipped messages from python, across a ratchet step', async () => {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py.jid)
      const first = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, 'start'))
      await ts.backend.decrypt(parseXml(first.xml), stanza(py.jid, ts.jid))
      for (const o of await ts.backend.takeEmptyMessages())
        await h.decrypt(py.name, ts.jid, o.element.toString())
      const batch: string[] = []
      for (let i = 0; i < 6; i++)
        batch.push((await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, `m${i}`))).xml)
      const read = async (xml: string) =>
        textOf((await ts.backend.decrypt(parseXml(xml), stanza(py.jid, ts.jid))).payload)
      expect(await read(batch[5] as string)).toBe('m5')
      expect(await read(batch[2] as string)).toBe('m2')
      // TS replies: python's next messages use a new chain; the skipped ones still decrypt
      const reply = await ts.backend.encrypt(body('reply'), [py.jid])
      await h.decrypt(py.name, ts.jid, reply.element.toString())
      const later = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, 'later'))
      expect(await read(later.xml)).toBe('later')
      for (const i of [0, 4, 1, 3]) expect(await read(batch[i] as string)).toBe(`m${i}`)
    })

    it('out-of-order and skipped messages from TS are read by python', async () => {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py.jid)
      const m0 = await ts.backend.encrypt(body('m0'), [py.jid])
      const r0 = await h.decrypt(py.name, ts.jid, m0.element.toString())
      for (const o of r0.outbox) await ts.backend.decryptMessage(parseXml(o.xml), stanza(py.jid, ts.jid))
      const batch: string[] = []
      for (let i = 1; i <= 5; i++)
        batch.push((await ts.backend.encrypt(body(`m${i}`), [py.jid])).element.toString())
      for (const i of [4, 0, 2, 1, 3])
        expect(decoded((await h.decrypt(py.name, ts.jid, batch[i] as string)).plaintext)).toContain(
          `m${i + 1}`,
        )
    })

    it('replays are rejected on both sides', async () => {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py.jid)
      const fromPy = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, 'once'))
      await ts.backend.decrypt(parseXml(fromPy.xml), stanza(py.jid, ts.jid))
      await expectError(
        () => ts.backend.decrypt(parseXml(fromPy.xml), stanza(py.jid, ts.jid)),
        'DecryptionError',
        'REPLAY',
      )
      for (const o of await ts.backend.takeEmptyMessages())
        await h.decrypt(py.name, ts.jid, o.element.toString())
      const again = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, 'twice'))
      await ts.backend.decrypt(parseXml(again.xml), stanza(py.jid, ts.jid))
      await expectError(
        () => ts.backend.decrypt(parseXml(again.xml), stanza(py.jid, ts.jid)),
        'DecryptionError',
        'REPLAY',
      )

      const fromTs = await ts.backend.encrypt(body('once'), [py.jid])
      await h.decrypt(py.name, ts.jid, fromTs.element.toString())
      await expect(h.decrypt(py.name, ts.jid, fromTs.element.toString())).rejects.toThrow()
    })

    it('tampered MACs are rejected on both sides, and the session survives', async () => {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py.jid)
      const first = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, 'hi'))
      await ts.backend.decrypt(parseXml(first.xml), stanza(py.jid, ts.jid))
      for (const o of await ts.backend.takeEmptyMessages())
        await h.decrypt(py.name, ts.jid, o.element.toString())

      const m = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, 'integrity'))
      // the OMEMOAuthenticatedMessage starts with the 16-byte MAC (tag, length, MAC…)
      await expectError(
        () => ts.backend.decrypt(parseXml(tamperKey(m.xml, 4)), stanza(py.jid, ts.jid)),
        'DecryptionError',
        'OMEMO-MAC',
      )
      // a flipped ciphertext byte (the end of the OMEMOMessage) fails the same MAC
      await expectError(
        () => ts.backend.decrypt(parseXml(tamperKey(m.xml, -3)), stanza(py.jid, ts.jid)),
        'DecryptionError',
        'OMEMO-MAC',
      )
      // the untouched message still decrypts: a failure left the state as it was
      expect(textOf((await ts.backend.decrypt(parseXml(m.xml), stanza(py.jid, ts.jid))).payload)).toBe(
        'integrity',
      )

      const fromTs = await ts.backend.encrypt(body('integrity'), [py.jid])
      const xml = fromTs.element.toString()
      await expect(h.decrypt(py.name, ts.jid, tamperKey(xml, 4))).rejects.toThrow(/Decryption|Authentication/)
      expect(decoded((await h.decrypt(py.name, ts.jid, xml)).plaintext)).toContain('integrity')
    })

    it('python heartbeats: TS owes an empty message after 53 messages without replying', async () => {
      const ts = await tsAccount()
      const py = await pyAccount()
      await learn(ts, py.jid)
      const first = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, 'hi'))
      await ts.backend.decrypt(parseXml(first.xml), stanza(py.jid, ts.jid))
      for (const o of await ts.backend.takeEmptyMessages())
        await h.decrypt(py.name, ts.jid, o.element.toString())
      for (let i = 1; i <= 53; i++) {
        const m = await h.encrypt(py.name, [ts.jid], envelopeFor(py.jid, ts.jid, `n${i}`))
        await ts.backend.decrypt(parseXml(m.xml), stanza(py.jid, ts.jid))
        if (i < 53) expect(await ts.backend.takeEmptyMessages()).toEqual([])
      }
      const owed = await ts.backend.takeEmptyMessages()
      expect(owed).toHaveLength(1)
      expect(
        (await h.decrypt(py.name, ts.jid, (owed[0] as { element: Element }).element.toString())).plaintext,
      ).toBeNull()
    })
  },
)
