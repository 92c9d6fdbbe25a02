/**
 * Attack: a stanza built to exhaust memory or stack (megabytes of text, thousands of nested or
 * sibling elements, thousands of attributes). The strict parser caps each stanza
 * (`StanzaLimits`): STANZA-SIZE (UTF-8 bytes, default 1 MiB), STANZA-DEPTH (default 32),
 * STANZA-ELEMENTS (default 25,000), STANZA-ATTRIBUTES (per element, default 64). A stanza over a
 * cap is never built: it arrives as a `type='error'` placeholder (`<policy-violation/>`, same
 * name, id, from, to) that nothing acts on, its `LimitExceededError` (literal name, the rule)
 * is reported as `rejected`, nothing is stored, and the stream goes on with the next stanza. The
 * stream fails only when it is itself broken: a non-stanza over a cap, or a stanza that goes on
 * past 8 times the size cap. The defaults let through what deployed servers and clients send:
 * a message at Prosody's client cap (256 KiB) in our archive's wrapper, with an OMEMO header
 * for 100 devices.
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, DecryptedContent, EncryptionBackend, EncryptionNamespace, KeyId } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { type VouchXmppEvents, vouchXmpp } from '../../src/binding.ts'
import { createClient } from '../../src/connect.ts'
import {
  DEFAULT_STANZA_LIMITS,
  type StanzaLimits,
  StrictFramedParser,
  StrictStreamParser,
  stanzaLimitError,
} from '../../src/stream-parser.ts'
import { fakeClient } from '../fake-client.ts'
import { recordingStore } from '../recording-store.ts'
import { chatContent, tick } from '../stand-in.ts'

const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "id='s1' from='localhost' version='1.0' xml:lang='en'>"
const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='localhost' id='s1' version='1.0'/>"
const AFTER = "<message id='after' from='bob@localhost/b'><body>after</body></message>"

interface Read {
  readonly elements: Element[]
  readonly errors: Error[]
}

function read(
  chunks: readonly (string | Uint8Array)[],
  limits: Partial<StanzaLimits> = {},
  framed = false,
): Read {
  const parser = framed ? new StrictFramedParser(limits) : new StrictStreamParser(limits)
  const out: Read = { elements: [], errors: [] }
  parser.on('element', (el: Element) => out.elements.push(el))
  parser.on('error', (e: Error) => out.errors.push(e))
  for (const c of chunks) parser.write(c)
  return out
}

/** `text` in chunks of `n` characters (as TCP reads would cut it). */
const chunked = (text: string, n: number): string[] =>
  Array.from({ length: Math.ceil(text.length / n) }, (_, i) => text.slice(i * n, (i + 1) * n))

const nested = (depth: number): string => `${'<x>'.repeat(depth - 1)}${'</x>'.repeat(depth - 1)}`

/** The placeholder of an over-limit stanza, and its error. */
function refused(el: Element | undefined, rule: string) {
  expect(el?.attrs.type).toBe('error')
  expect(
    el?.getChild('error')?.getChild('policy-violation', 'urn:ietf:params:xml:ns:xmpp-stanzas'),
  ).toBeDefined()
  const error = el === undefined ? undefined : stanzaLimitError(el)
  expect(error).toMatchObject({ name: 'LimitExceededError', rule })
  return error
}

describe('STANZA-SIZE: stanza bytes are capped', () => {
  const big = `<message id='big' from='bob@localhost/b' to='alice@localhost/a' type='chat'><body>${'a'.repeat(2000)}</body></message>`

  it('a stanza over the cap arrives as a placeholder (id, from, to kept); the next one intact, the stream goes on', () => {
    for (const n of [big.length + HEADER.length + AFTER.length, 7, 100]) {
      const r = read(chunked(HEADER + big + AFTER, n), { maxStanzaBytes: 1000 })
      expect(r.errors).toEqual([])
      expect(r.elements).toHaveLength(2)
      const error = refused(r.elements[0], 'STANZA-SIZE')
      expect(error?.max).toBe(1000)
      expect(r.elements[0]?.attrs).toMatchObject({
        id: 'big',
        from: 'bob@localhost/b',
        to: 'alice@localhost/a',
      })
      expect(r.elements[0]?.getChild('body')).toBeUndefined()
      expect(r.elements[1]?.getChildText('body')).toBe('after')
      expect(stanzaLimitError(r.elements[1] as Element)).toBeUndefined()
    }
  })

  it('counts UTF-8 bytes, not characters: 400 × "€" (1,200 bytes) is over a 1,000-byte cap, also as raw bytes', () => {
    const euro = `<message id='e'><body>${'€'.repeat(400)}</body></message>`
    expect(euro.length).toBeLessThan(1000)
    refused(read([HEADER, euro], { maxStanzaBytes: 1000 }).elements[0], 'STANZA-SIZE')
    const bytes = new TextEncoder().encode(HEADER + euro + AFTER)
    const r = read(
      chunked(String.fromCharCode(...bytes.keys()), 13).map((_, i) => bytes.slice(i * 13, (i + 1) * 13)),
      {
        maxStanzaBytes: 1000,
      },
    )
    refused(r.elements[0], 'STANZA-SIZE')
    expect(r.elements[1]?.getChildText('body')).toBe('after')
    // at the cap it is read
    expect(
      stanzaLimitError(read([HEADER, euro], { maxStanzaBytes: euro.length + 800 }).elements[0] as Element),
    ).toBeUndefined()
  })

  it('whitespace keepalives between stanzas do not count towards the next one', () => {
    const small = "<message id='s'><body>hi</body></message>"
    const r = read([HEADER, ...Array.from({ length: 50 }, () => ' '.repeat(10)), small], {
      maxStanzaBytes: small.length + 5,
    })
    expect(r.elements.map((e) => stanzaLimitError(e))).toEqual([undefined])
  })

  it('the stream fails (it is broken) when one stanza goes on past 8 times the cap, or a non-stanza exceeds it', () => {
    const endless = read(
      [
        HEADER,
        "<message id='m'><body>",
        ...Array.from({ length: 20 }, () => 'a'.repeat(500)),
        '</body></message>',
        AFTER,
      ],
      { maxStanzaBytes: 1000 },
    )
    expect(endless.errors.map((e) => [e.name, (e as { rule?: string }).rule])).toEqual([
      ['LimitExceededError', 'STANZA-SIZE'],
    ])
    expect(endless.elements).toEqual([])
    const features = read([HEADER, `<stream:features>${'<f/>'.repeat(300)}</stream:features>`, AFTER], {
      maxStanzaBytes: 1000,
    })
    expect(features.errors.map((e) => (e as { rule?: string }).rule)).toEqual(['STANZA-SIZE'])
    expect(features.elements).toEqual([])
  })

  it('WebSocket framing (RFC 7395) the same way', () => {
    const r = read([OPEN, big, AFTER], { maxStanzaBytes: 1000 }, true)
    expect(r.errors).toEqual([])
    refused(r.elements[0], 'STANZA-SIZE')
    expect(r.elements[1]?.getChildText('body')).toBe('after')
  })
})

describe('STANZA-DEPTH, STANZA-ELEMENTS, STANZA-ATTRIBUTES', () => {
  it(`STANZA-DEPTH: depth ${DEFAULT_STANZA_LIMITS.maxDepth} is read, one more is refused (the stream goes on)`, () => {
    const max = DEFAULT_STANZA_LIMITS.maxDepth
    const ok = `<message id='d'>${nested(max)}</message>`
    const deep = `<message id='d'>${nested(max + 1)}</message>`
    expect(stanzaLimitError(read([HEADER, ok]).elements[0] as Element)).toBeUndefined()
    const r = read([HEADER, deep, AFTER])
    expect(refused(r.elements[0], 'STANZA-DEPTH')).toMatchObject({ max, actual: max + 1 })
    expect(r.elements[1]?.getChildText('body')).toBe('after')
    // a nesting bomb within the size cap (saxes' cost per tag grows with the depth): the stream
    // fails at 8 times the cap, at once
    const started = performance.now()
    const bomb = read([HEADER, `<message>${nested(50_000)}</message>`, AFTER])
    expect(performance.now() - started).toBeLessThan(2000)
    expect(bomb.errors).toMatchObject([
      { name: 'LimitExceededError', rule: 'STANZA-DEPTH', actual: max * 8 + 1 },
    ])
    expect(bomb.elements).toEqual([])
  })

  it('STANZA-ELEMENTS: elements of one stanza, the stanza included', () => {
    const stanza = (children: number) => `<message id='n'>${'<x/>'.repeat(children)}</message>`
    expect(
      stanzaLimitError(read([HEADER, stanza(9)], { maxElements: 10 }).elements[0] as Element),
    ).toBeUndefined()
    refused(read([HEADER, stanza(10)], { maxElements: 10 }).elements[0], 'STANZA-ELEMENTS')
    expect(DEFAULT_STANZA_LIMITS.maxElements).toBe(25_000)
  })

  it('STANZA-ATTRIBUTES: attributes of one element, on a child or on the stanza itself (its routing attributes kept)', () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}='${i}'`).join('')
    const max = DEFAULT_STANZA_LIMITS.maxAttributes
    expect(
      stanzaLimitError(read([HEADER, `<message id='a'><x${attrs(max)}/></message>`]).elements[0] as Element),
    ).toBeUndefined()
    refused(
      read([HEADER, `<message id='a'><x${attrs(max + 1)}/></message>`]).elements[0],
      'STANZA-ATTRIBUTES',
    )
    const top = read([HEADER, `<iq id='q1' type='result' from='localhost'${attrs(max)}/>`, AFTER])
    refused(top.elements[0], 'STANZA-ATTRIBUTES')
    expect(top.elements[0]?.attrs).toMatchObject({ id: 'q1', from: 'localhost', type: 'error' })
    expect(top.elements[1]?.getChildText('body')).toBe('after')
  })
})

describe('the defaults fit real traffic', () => {
  it("a message at Prosody's c2s cap (256 KiB) with an OMEMO header for 100 devices, in our archive's wrapper, is read intact", () => {
    const keys = Array.from(
      { length: 100 },
      (_, i) => `<key rid='${1000 + i}' kex='true'>${'A'.repeat(300)}</key>`,
    ).join('')
    const inner =
      `<message xmlns='jabber:client' from='bob@localhost/b' to='alice@localhost' type='chat' id='m'>` +
      `<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys jid='alice@localhost'>${keys}</keys></header>` +
      `<payload>PAYLOAD</payload></encrypted><body>BODY</body></message>`
    const body = 'b'.repeat(256 * 1024 - new TextEncoder().encode(inner).length + 'BODY'.length)
    const message = inner.replace('BODY', body)
    expect(new TextEncoder().encode(message).length).toBe(256 * 1024)
    const archived =
      `<message to='alice@localhost/a'><result xmlns='urn:xmpp:mam:2' queryid='q' id='1'>` +
      `<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-12-04T18:00:00Z'/>${message}</forwarded></result></message>`
    const r = read(chunked(HEADER + archived, 65_536))
    expect(r.errors).toEqual([])
    expect(stanzaLimitError(r.elements[0] as Element)).toBeUndefined()
    const m = r.elements[0]?.getChild('result')?.getChild('forwarded')?.getChild('message')
    expect(m?.getChild('encrypted')?.getChild('header')?.getChild('keys')?.getChildren('key')).toHaveLength(
      100,
    )
    expect(m?.getChildText('body')).toBe(body)
  })
})

// ---- through the client and the binding

const CAROL = 'carol@localhost' as BareJid
const ALICE = 'alice@localhost' as BareJid
const NS = 'urn:example:stand-in' as EncryptionNamespace

function binding() {
  const calls = { decrypt: 0 }
  const backend: EncryptionBackend = {
    namespace: NS,
    capabilities: { oneKeyPerIdentity: true, keyIdLength: 20 },
    ownKeys: async () => [],
    keysOf: async () => ['a2V5' as KeyId],
    encrypt: async () => {
      throw new Error('not used')
    },
    decrypt: async (el): Promise<DecryptedContent> => {
      calls.decrypt++
      return chatContent(el.text(), { senderJid: CAROL, carrier: NS, senderKey: 'a2V5' as KeyId })
    },
  }
  const fake = fakeClient(() => undefined, ALICE)
  const { store, writes } = recordingStore(memoryStore().forAccount(ALICE))
  const vouch = vouchXmpp(fake.xmpp, { store, backends: [backend] })
  const rejected: VouchXmppEvents['rejected'][] = []
  const messages: string[] = []
  vouch.on('rejected', (r) => rejected.push(r))
  vouch.on('message', (m) => messages.push(m.body))
  const parser = new StrictStreamParser({ maxStanzaBytes: 2000 })
  parser.on('element', (el: Element) => fake.receive(el))
  parser.write(HEADER)
  return { fake, vouch, calls, writes, rejected, messages, parser }
}

const encryptedMessage = (id: string, text: string): string =>
  `<message from='${CAROL}/phone' to='${ALICE}/r' type='chat' id='${id}'><encrypted xmlns='${NS}'>${text}</encrypted>` +
  `<stanza-id xmlns='urn:xmpp:sid:0' by='${ALICE}' id='sid-${id}'/></message>`

describe('STANZA-SIZE through the binding: reported, nothing stored, the connection kept', () => {
  it('an over-size encrypted message is `rejected` with the rule, never decrypted, no store write; the next one is read', async () => {
    const t = binding()
    t.parser.write(encryptedMessage('big', 'x'.repeat(3000)))
    await tick()
    await t.vouch.idle()
    expect(t.rejected).toHaveLength(1)
    expect(t.rejected[0]).toMatchObject({
      from: `${CAROL}/phone`,
      sender: CAROL,
      rule: 'STANZA-SIZE',
      error: { name: 'LimitExceededError' },
      source: 'live',
      held: false,
    })
    expect(t.calls.decrypt).toBe(0)
    expect(t.writes).toEqual([])
    t.parser.write(encryptedMessage('ok', 'hello'))
    await tick()
    await t.vouch.idle()
    expect(t.messages).toEqual(['hello'])
    t.vouch.close()
  })

  it('an IQ answered with an over-size result rejects at once (policy-violation), not after the IQ timeout', async () => {
    const t = binding()
    const started = Date.now()
    const request = t.fake.xmpp.iqCaller.request(
      xml('iq', { type: 'get', to: 'localhost', id: 'q1' }, xml('query', { xmlns: 'jabber:iq:roster' })),
    )
    t.parser.write(
      `<iq type='result' id='q1' from='localhost'><query xmlns='jabber:iq:roster'>${"<item jid='x@y'/>".repeat(200)}</query></iq>`,
    )
    await expect(request).rejects.toMatchObject({ name: 'StanzaError', condition: 'policy-violation' })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(t.rejected.map((r) => r.rule)).toEqual(['STANZA-SIZE'])
    t.vouch.close()
  })

  it('createClient({ stanzaLimits }) reads the stream with these caps', () => {
    const xmpp = createClient({
      service: 'xmpp://127.0.0.1:1',
      jid: ALICE,
      password: 'x',
      stanzaLimits: { maxStanzaBytes: 1000 },
    }) as unknown as {
      _findTransport(s: string): unknown
      Transport: unknown
      Parser: new () => StrictStreamParser
    }
    // as `connect()` does: the transport first, then `new Parser()`
    xmpp.Transport = xmpp._findTransport('xmpp://127.0.0.1:1')
    const parser = new xmpp.Parser()
    const out: Element[] = []
    parser.on('element', (el: Element) => out.push(el))
    parser.write(`${HEADER}<message id='big'><body>${'a'.repeat(2000)}</body></message>`)
    refused(out[0], 'STANZA-SIZE')
  })
})
