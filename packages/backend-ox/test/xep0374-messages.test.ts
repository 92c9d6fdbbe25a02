/**
 * XEP-0374 v0.2.0 (with XEP-0373 §3): the `<openpgp/>` element, the message hints, disco and
 * force-OX, and the three content elements through the backend.
 */
import { Element, NS_OX, parseXml } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_FALLBACK_BODY,
  findOpenpgpElement,
  NS_OX_IM,
  oxMessage,
  readOpenpgpElement,
  shouldUseOx,
} from '../src/index.ts'
import { ALICE, BOB, body, introduce, MALLORY, type Party, party, stanza } from './helpers.ts'

let alice: Party
let bob: Party
let mallory: Party
beforeAll(async () => {
  ;[alice, bob, mallory] = await Promise.all([
    party(ALICE, { rpad: { min: 1, max: 200 } }),
    party(BOB),
    party(MALLORY),
  ])
  await introduce(alice, bob, mallory)
})

describe('XEP-0373 §3 <openpgp/>', () => {
  it('holds the Base64 of a binary (not armored) OpenPGP message', async () => {
    const { element } = await alice.ox.encrypt(body('x'), [BOB])
    expect(element.name).toBe('openpgp')
    expect(element.attrs.xmlns).toBe(NS_OX)
    const bytes = readOpenpgpElement(element)
    expect(Buffer.from(bytes).toString('latin1').includes('-----BEGIN')).toBe(false)
    const m = await openpgp.readMessage({ binaryMessage: bytes })
    expect(m.packets.length).toBeGreaterThan(1)
  })

  it('the plaintext is one content element in a binary literal (no line-ending rewriting by OpenPGP; XML 1.0 §2.11 end-of-line handling only)', async () => {
    // OpenPGP text mode would turn every LF into CR LF; a conforming XML reader then turns a
    // literal CR LF into LF (XML 1.0 §2.11), as every receiving client's reader does
    const text = 'line1\nline2\n\t \n'
    const { element } = await alice.ox.encrypt(new Element('body', { xmlns: 'jabber:client' }).t(text), [BOB])
    const r = await bob.ox.decrypt(element, stanza(ALICE, BOB))
    expect(r.payload[0]?.getText()).toBe(text)
    const crlf = await alice.ox.encrypt(new Element('body', { xmlns: 'jabber:client' }).t('a\r\nb'), [BOB])
    expect((await bob.ox.decrypt(crlf.element, stanza(ALICE, BOB))).payload[0]?.getText()).toBe('a\nb')
  })
})

describe('XEP-0374 §3.2 hints and the outer shape (D-7)', () => {
  it('a message carries <openpgp/>, the fallback body, <store/> and the XEP-0380 marker', async () => {
    const { element } = await alice.ox.encrypt(body('x'), [BOB])
    const m = oxMessage({ to: BOB, id: 'm1', openpgp: element })
    expect(m.attrs).toMatchObject({ to: BOB, type: 'chat', id: 'm1' })
    expect(m.getChild('body')?.getText()).toBe(DEFAULT_FALLBACK_BODY)
    expect(m.getChild('store', 'urn:xmpp:hints')).toBeDefined()
    expect(m.getChild('encryption', 'urn:xmpp:eme:0')?.attrs.namespace).toBe(NS_OX)
    expect(findOpenpgpElement(m)).toBe(element)
  })
  it('the fallback body can be left out, for every message alike', async () => {
    const { element } = await alice.ox.encrypt(body('x'), [BOB])
    expect(oxMessage({ to: BOB, openpgp: element, fallbackBody: false }).getChild('body')).toBeUndefined()
  })
  it('a trust message and a chat message have the same outer shape', async () => {
    const chat = oxMessage({ to: BOB, openpgp: (await alice.ox.encrypt(body('x'), [BOB])).element })
    const tm = oxMessage({
      to: BOB,
      openpgp: (
        await alice.ox.encrypt(
          parseXml(
            "<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:openpgp:0'/>",
          ),
          [BOB],
        )
      ).element,
    })
    const shape = (m: Element) =>
      m.children.map((c) => (typeof c === 'string' ? '#text' : `${c.name} ${c.attrs.xmlns ?? ''}`))
    expect(shape(tm)).toEqual(shape(chat))
  })
})

describe('XEP-0374 §2.1 disco and downgrade protection', () => {
  it('uses OX when the contact announces urn:xmpp:openpgp:im:0', () => {
    expect(shouldUseOx({ features: ['http://jabber.org/protocol/disco#info', NS_OX_IM] })).toBe(true)
  })
  it('does not when it does not, unless the user forces it', () => {
    expect(shouldUseOx({ features: [] })).toBe(false)
    expect(shouldUseOx({ features: [], force: true })).toBe(true)
  })
})

describe('content elements through the backend', () => {
  it('signcrypt: signed, encrypted, to + time + rpad, several payload children', async () => {
    const payload = [body('hello'), parseXml("<active xmlns='http://jabber.org/protocol/chatstates'/>")]
    const before = Date.now()
    const { element } = await alice.ox.encrypt(payload, [BOB])
    const r = await bob.ox.decrypt(element, stanza(ALICE, BOB))
    expect(r).toMatchObject({ mode: 'signcrypt', signed: true, encrypted: true, to: [BOB], carrier: NS_OX })
    expect(r.payload.map((p) => p.name)).toEqual(['body', 'active'])
    expect(r.time?.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
    expect(r.rpadLength).toBeGreaterThan(0)
    expect(r.senderFullJid).toBe(`${ALICE}/phone`)
  })
  it('rpad has a random length', async () => {
    const lengths = new Set<number>()
    for (let i = 0; i < 6; i++) {
      const { element } = await alice.ox.encrypt(body('x'), [BOB])
      lengths.add((await bob.ox.decrypt(element, stanza(ALICE, BOB))).rpadLength ?? -1)
    }
    expect(lengths.size).toBeGreaterThan(1)
  })
  it('a message to two contacts names both in <to/> and each can read it', async () => {
    const { element, recipients } = await alice.ox.encrypt(body('group'), [BOB, MALLORY])
    expect(new Set(recipients.map((r) => r.owner))).toEqual(new Set([ALICE, BOB, MALLORY]))
    expect((await bob.ox.decrypt(element, stanza(ALICE, BOB))).to).toEqual([BOB, MALLORY])
    expect((await mallory.ox.decrypt(element, stanza(ALICE, MALLORY))).signed).toBe(true)
  })
  it('sign: a TM-14 signed trust message is readable by anybody who has the key, and reports the sender key', async () => {
    const { element, recipients } = await alice.ox.encrypt(body('public'), [BOB], { mode: 'sign' })
    expect(recipients).toEqual([])
    const r = await mallory.ox.decrypt(element, stanza(ALICE, BOB), {
      allowSignedOnly: true,
      expectedTo: BOB,
    })
    expect(r).toMatchObject({
      mode: 'sign',
      encrypted: false,
      signed: true,
      senderKey: (await alice.ox.ownKeys())[0],
    })
  })
  it('crypt: encrypted to the recipients and to self', async () => {
    const { element } = await alice.ox.encrypt(body('c'), [BOB], { mode: 'crypt' })
    expect((await alice.ox.decrypt(element, stanza(ALICE, BOB), { allowUnsigned: true })).mode).toBe('crypt')
  })
  it('a body in jabber:server is delivered as is', async () => {
    const { element } = await alice.ox.encrypt(parseXml("<body xmlns='jabber:server'>s2s</body>"), [BOB])
    const r = await bob.ox.decrypt(element, stanza(ALICE, BOB))
    expect(r.payload[0]?.attrs.xmlns).toBe('jabber:server')
  })
})
