/**
 * Attack: a stanza that reads differently here than in the client or server that checked it.
 * `@xmpp/client` 0.14 parsed the stream with ltx, which keeps the last of two equal attributes
 * (`<key rid='1' rid='2'>`: another client reads rid 1 or refuses the stanza), passes control
 * characters, characters outside XML 1.0 and unbound prefixes, drops the text after a comment,
 * ignores processing instructions, and reads bytes that are not UTF-8 (or a character split
 * between two TCP reads) as U+FFFD. Now every client `createClient` makes reads the stream
 * strictly: the first defect fails the stream with `MalformedXmlError` (rule `XML`), the
 * stanza that holds it is never delivered, and the client answers `<bad-format/>`, as it did
 * for the errors ltx reported; a well-formed stream yields exactly the elements ltx yields.
 *
 * The parser tests build the parser the way `Client.connect()` does (the transport's `Parser`
 * assigned to the client, then `new client.Parser()`), so they test what the clients use.
 */
import type { EventEmitter } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import type { BareJid } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import type { Element } from '@xmpp/xml'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient, stopClient } from '../../src/connect.ts'
import { HEADER, OMEMO_MESSAGE } from '../fixtures/stream.ts'

interface StreamParser extends EventEmitter {
  write(chunk: string | Uint8Array): void
}
type ParserClass = new () => StreamParser

const TCP = 'xmpp://127.0.0.1:1'
const WEBSOCKET = 'ws://127.0.0.1:1/xmpp-websocket'
const ALICE = 'alice@localhost' as BareJid

interface Transports {
  /** the transport `Client.connect()` picks for `service`: its prototype holds ltx's parser */
  _findTransport(service: string): { prototype: { Parser: ParserClass } }
  Transport: unknown
  Parser: ParserClass
}

/** The parser class a client of `createClient` reads `service` with, picked as `connect()` does. */
function clientParser(service: string): ParserClass {
  const xmpp = createClient({ service, jid: ALICE, password: 'x' }) as unknown as Transports
  const Transport = xmpp._findTransport(service)
  xmpp.Transport = Transport
  xmpp.Parser = Transport.prototype.Parser
  return xmpp.Parser
}

/** The ltx parser `@xmpp/client` 0.14 ships for `service`: the reference for well-formed input. */
function ltxParser(service: string): ParserClass {
  const xmpp = createClient({ service, jid: ALICE, password: 'x' }) as unknown as Transports
  return xmpp._findTransport(service).prototype.Parser
}

type Node = string | Snapshot
interface Snapshot {
  readonly name: string
  readonly attrs: readonly (readonly [string, string])[]
  readonly ns: string | undefined
  readonly parent: string | null
  readonly children: readonly Node[]
}
const snapshot = (el: Element): Snapshot => ({
  name: el.name,
  attrs: Object.entries(el.attrs as Record<string, string>),
  ns: el.getNS() as string | undefined,
  parent: el.parent?.name ?? null,
  children: el.children.map((c) => (typeof c === 'string' ? c : snapshot(c as Element))),
})

interface Read {
  /** `start`/`element` as snapshots taken when emitted, `end` by name, `error` by name and rule */
  readonly events: unknown[]
  readonly elements: Element[]
  readonly errors: Error[]
}

function read(Parser: ParserClass, chunks: readonly (string | Uint8Array)[]): Read {
  const parser = new Parser()
  const out: Read = { events: [], elements: [], errors: [] }
  parser.on('start', (el: Element) => out.events.push(['start', snapshot(el)]))
  parser.on('element', (el: Element) => {
    out.elements.push(el)
    out.events.push(['element', snapshot(el)])
  })
  parser.on('end', (el: Element) => out.events.push(['end', el.name]))
  parser.on('error', (e: Error) => {
    out.errors.push(e)
    out.events.push(['error', e.name, (e as { rule?: string }).rule])
  })
  for (const chunk of chunks) parser.write(chunk)
  return out
}

/** `text` cut at `cuts` (sorted positions). */
function cut<T extends string | Uint8Array>(text: T, cuts: readonly number[]): T[] {
  const at = [0, ...cuts, text.length]
  return at.slice(1).map((end, i) => text.slice(at[i], end) as T)
}

/** Deterministic pseudo-random cut positions (xorshift32). */
function randomCuts(length: number, count: number, seed: number): number[] {
  let x = seed
  const cuts = new Set<number>()
  while (cuts.size < count) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    cuts.add(1 + ((x >>> 0) % (length - 1)))
  }
  return [...cuts].sort((a, b) => a - b)
}

// ---- a stream as Prosody sends it

const FEATURES =
  "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><required/></bind>" +
  "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>" +
  "<sm xmlns='urn:xmpp:sm:3'><optional/></sm><csi xmlns='urn:xmpp:csi:0'/>" +
  "<ver xmlns='urn:xmpp:features:rosterver'/></stream:features>"
const STANZAS = [
  "<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/laptop</jid></bind></iq>",
  "<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true' max='600'/>",
  "<presence from='bob@localhost/phone' to='alice@localhost/laptop'><priority>1</priority>" +
    "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://vouch.example' ver='k07nuHawZqmndRtf3ZfBm54FwL0='/></presence>",
  OMEMO_MESSAGE,
  "<message from='bob@localhost/phone' to='alice@localhost/laptop' type='chat' id='u1'>" +
    "<body>Grüße, 中文 &amp; emoji 😀 — &lt;tag&gt; &quot;q&quot; &apos;a&apos; &#x1F510;&#233;</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
  "<message from='alice@localhost' to='alice@localhost/laptop' id='pep-1'><event xmlns='http://jabber.org/protocol/pubsub#event'>" +
    "<items node='urn:xmpp:omemo:2:devices'><item id='current'><devices xmlns='urn:xmpp:omemo:2'>" +
    "<device id='967312449' label='laptop'/><device id='20115421'/></devices></item></items></event></message>",
  "<message id='p1'><x:data xmlns:x='urn:example:prefixed' x:kind='a' kind='b'><x:empty></x:empty>  <x:text>keeps  spaces</x:text></x:data></message>",
  "<r xmlns='urn:xmpp:sm:3'/>",
]
const STREAM = `${HEADER}${FEATURES}\n${STANZAS.join(' ')}\n </stream:stream>`

describe('a well-formed stream yields exactly the elements ltx yields', () => {
  const reference = read(ltxParser(TCP), [STREAM])
  const expected = JSON.stringify(reference.events)
  const Strict = clientParser(TCP)

  it('the reference: header, features, every stanza, the end; no error', () => {
    expect(reference.errors).toEqual([])
    expect(reference.events.map((e) => (e as [string])[0])).toEqual([
      'start',
      'element',
      ...STANZAS.map(() => 'element'),
      'end',
    ])
  })

  it('in one chunk: the same events and the same Element class', () => {
    const strict = read(Strict, [STREAM])
    expect(strict.events).toEqual(reference.events)
    for (const [i, el] of strict.elements.entries())
      expect(el.constructor, `element ${i}`).toBe((reference.elements[i] as Element).constructor)
  })

  it('cut in two at every position: the same events', () => {
    const differ = []
    for (let i = 1; i < STREAM.length; i++)
      if (JSON.stringify(read(Strict, cut(STREAM, [i])).events) !== expected) differ.push(i)
    expect(differ, 'cut positions where the events differ').toEqual([])
  })

  it('one character per chunk, and 50 random cuttings into 2–40 chunks: the same events', () => {
    expect(read(Strict, [...STREAM]).events).toEqual(reference.events)
    for (let seed = 1; seed <= 50; seed++) {
      const chunks = cut(STREAM, randomCuts(STREAM.length, 1 + (seed % 40), seed * 7919))
      expect(JSON.stringify(read(Strict, chunks).events), `seed ${seed}`).toBe(expected)
    }
  })

  it('UTF-8 bytes cut at every byte (inside multi-byte characters too): the same events', () => {
    const bytes = Buffer.from(STREAM, 'utf8')
    const differ = []
    for (let i = 1; i < bytes.length; i++)
      if (JSON.stringify(read(Strict, cut(bytes, [i])).events) !== expected) differ.push(i)
    expect(differ, 'cut positions where the events differ').toEqual([])
    expect(
      read(
        Strict,
        [...bytes].map((b) => Uint8Array.of(b)),
      ).events,
    ).toEqual(reference.events)
  })

  it('a surrogate pair cut between two text chunks reads as the one character', () => {
    const at = STREAM.indexOf('😀') + 1
    expect(read(Strict, cut(STREAM, [at])).events).toEqual(reference.events)
  })

  it('WebSocket framing (RFC 7395): the same events as the ltx framed parser, per frame and cut', () => {
    const frames = [
      "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='localhost' id='f1' version='1.0' xml:lang='en'/>",
      `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>${FEATURES.slice(17, -18)}</stream:features>`,
      ...STANZAS.map((s) => s.replace(/^<(iq|message|presence) (?!xmlns=)/, "<$1 xmlns='jabber:client' ")),
      "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
    ]
    const framedReference = read(ltxParser(WEBSOCKET), frames)
    expect(framedReference.errors).toEqual([])
    const Framed = clientParser(WEBSOCKET)
    expect(read(Framed, frames).events).toEqual(framedReference.events)
    const all = frames.join('')
    expect(read(Framed, cut(all, randomCuts(all.length, 30, 4242))).events).toEqual(framedReference.events)
  })
})

/** Header, features, message 1, the defective message, message 3. */
const streamWith = (defective: string): string =>
  `${HEADER}${FEATURES}<message id='1'><body>before</body></message>${defective}<message id='3'><body>after</body></message>`

const FAILED = [
  ['start', expect.anything()],
  ['element', expect.objectContaining({ name: 'stream:features' })],
  ['element', expect.objectContaining({ name: 'message', attrs: [['id', '1']] })],
  ['error', 'MalformedXmlError', 'XML'],
]

const omemoKeys = (keyAttrs: string): string =>
  `<message id='2' from='bob@localhost/phone'><encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'>` +
  `<keys jid='alice@localhost'><key ${keyAttrs}>AAAA</key></keys></header><payload>BBBB</payload></encrypted></message>`

const ATTACKS: readonly { readonly attack: string; readonly defective: string }[] = [
  {
    attack: "duplicate attribute on an OMEMO <key rid='1' rid='2'> (ltx: the last wins)",
    defective: omemoKeys("rid='1' rid='2'"),
  },
  {
    attack: 'the same attribute twice through two prefixes bound to one namespace',
    defective: omemoKeys("xmlns:a='urn:x' xmlns:b='urn:x' a:rid='1' b:rid='2'"),
  },
  {
    attack: "duplicate jid on a trust message <key-owner jid='a' jid='b'>",
    defective:
      "<message id='2'><trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>" +
      "<key-owner jid='bob@localhost' jid='mallory@localhost'><trust>AAAA</trust></key-owner></trust-message></message>",
  },
  {
    attack: 'duplicate attribute on the stanza itself (two from)',
    defective: "<message id='2' from='a@localhost' from='b@localhost'/>",
  },
  {
    attack: 'raw control character U+0001 in a body',
    defective: "<message id='2'><body>a\u0001b</body></message>",
  },
  { attack: 'raw control character U+001B in an attribute value', defective: omemoKeys("rid='1\u001b'") },
  {
    attack: 'a control character as a character reference (&#x1;)',
    defective: "<message id='2'><body>a&#x1;b</body></message>",
  },
  { attack: 'U+FFFE, outside XML 1.0 Char', defective: "<message id='2'><body>a\uFFFEb</body></message>" },
  { attack: 'an unpaired surrogate', defective: "<message id='2'><body>a\uD800b</body></message>" },
  { attack: 'unbound element prefix <p:a/>', defective: "<message id='2'><p:a/></message>" },
  { attack: 'unbound attribute prefix', defective: omemoKeys("p:rid='1'") },
  { attack: 'an undefined entity (&foo;)', defective: "<message id='2'><body>a&foo;b</body></message>" },
  {
    attack: 'a comment inside a body (ltx drops the text after it)',
    defective: "<message id='2'><body>pay 10<!-- -->0 EUR</body></message>",
  },
  {
    attack: 'a processing instruction inside a stanza',
    defective: "<message id='2'><?evil x?><body>b</body></message>",
  },
  {
    attack: 'a mismatched end tag closing the stanza (<message>…</iq>)',
    defective: "<message id='2'><body>b</body></iq>",
  },
  { attack: 'character data directly in the stream', defective: "text<message id='2'/>" },
]

describe('a defect fails the stream: the stanza is never delivered and MalformedXmlError (XML) surfaces', () => {
  const Strict = clientParser(TCP)

  for (const { attack, defective } of ATTACKS)
    it(attack, () => {
      const stream = streamWith(defective)
      expect(read(Strict, [stream]).events).toEqual(FAILED)
      // the same, one character per chunk
      expect(read(Strict, [...stream]).events).toEqual(FAILED)
    })

  it('bytes that are not UTF-8: an overlong encoding of "<" (C0 BC)', () => {
    const [head, tail] = streamWith("<message id='2'><body>a#b</body></message>").split('#') as [
      string,
      string,
    ]
    const bytes = Buffer.concat([Buffer.from(head), Buffer.of(0xc0, 0xbc), Buffer.from(tail)])
    expect(read(Strict, [bytes]).events).toEqual(FAILED)
  })

  it('an XML declaration naming another encoding (RFC 6120 §11.6)', () => {
    const stream = streamWith('').replace(
      "<?xml version='1.0'?>",
      "<?xml version='1.0' encoding='ISO-8859-1'?>",
    )
    expect(read(Strict, [stream]).events).toEqual([['error', 'MalformedXmlError', 'XML']])
  })

  it('a DOCTYPE before the stream (RFC 6120 §11.1)', () => {
    const stream = streamWith('').replace(
      '<stream:stream',
      '<!DOCTYPE stream:stream [<!ENTITY x "y">]><stream:stream',
    )
    expect(read(Strict, [stream]).events).toEqual([['error', 'MalformedXmlError', 'XML']])
  })

  it('WebSocket framing: a duplicate attribute in a framed stanza', () => {
    const Framed = clientParser(WEBSOCKET)
    const out = read(Framed, [
      "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='localhost' id='f1' version='1.0'/>",
      "<message xmlns='jabber:client' id='1'/>",
      omemoKeys("rid='1' rid='2'").replace("<message id='2'", "<message xmlns='jabber:client' id='2'"),
      "<message xmlns='jabber:client' id='3'/>",
    ])
    expect(out.events).toEqual([
      ['start', expect.objectContaining({ name: 'open' })],
      [
        'element',
        expect.objectContaining({
          name: 'message',
          attrs: [
            ['xmlns', 'jabber:client'],
            ['id', '1'],
          ],
        }),
      ],
      ['error', 'MalformedXmlError', 'XML'],
    ])
  })

  it('the error names the defect (rule XML first, as every Vouch parser error)', () => {
    const [error] = read(Strict, [streamWith(omemoKeys("rid='1' rid='2'"))]).errors
    expect(error?.message).toBe('XML: duplicate attribute: rid.')
  })
})

// ---- end to end: a client of createClient against a TCP server that plays the XMPP server

interface Played {
  readonly xmpp: Client
  readonly stanzas: Element[]
  readonly errors: Error[]
  /** everything the client sent */
  readonly received: () => string
  /** resolves when the client has closed the TCP connection */
  readonly closed: Promise<void>
}

const servers: Server[] = []
const clients: Client[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => stopClient(c)))
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** Connects a client; once its stream header arrives, the server writes `chunks`, 30 ms apart. */
async function play(chunks: readonly (string | Uint8Array)[]): Promise<Played> {
  let received = ''
  let closed: () => void = () => undefined
  const isClosed = new Promise<void>((resolve) => {
    closed = resolve
  })
  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true)
    socket.on('end', () => closed())
    socket.on('error', () => closed())
    let started = false
    socket.on('data', async (data) => {
      received += data.toString('utf8')
      if (received.endsWith('</stream:stream>')) socket.end('</stream:stream>')
      if (started || !received.includes('<stream:stream')) return
      started = true
      for (const chunk of chunks) {
        if (socket.destroyed) return
        socket.write(chunk)
        await new Promise((r) => setTimeout(r, 30))
      }
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const service = `xmpp://127.0.0.1:${port}`
  const xmpp = createClient({ service, jid: ALICE, password: 'x' })
  clients.push(xmpp)
  xmpp.reconnect.stop()
  const stanzas: Element[] = []
  const errors: Error[] = []
  xmpp.on('stanza', (s: Element) => stanzas.push(s))
  xmpp.on('error', (e: Error) => errors.push(e))
  await xmpp.connect(service)
  await xmpp.open({ domain: 'localhost', lang: 'en' })
  return { xmpp, stanzas, errors, received: () => received, closed: isClosed }
}

describe('end to end over TCP: the client answers <bad-format/> and never delivers the stanza', () => {
  const E2E: readonly { readonly attack: string; readonly defective: string }[] = [
    {
      attack: "duplicate attribute on an OMEMO <key rid='1' rid='2'>",
      defective: omemoKeys("rid='1' rid='2'"),
    },
    {
      attack: 'raw control character U+0001 in a body',
      defective: "<message id='2'><body>a\u0001b</body></message>",
    },
    { attack: 'unbound element prefix <p:a/>', defective: "<message id='2'><p:a/></message>" },
  ]
  for (const { attack, defective } of E2E)
    it(attack, async () => {
      const stream = streamWith(defective)
      const at = stream.indexOf("<message id='2'")
      // the defective stanza arrives in two TCP reads
      const played = await play([stream.slice(0, at + 20), stream.slice(at + 20)])
      await Promise.race([played.closed, new Promise((r) => setTimeout(r, 2000))])
      expect(played.stanzas.map((s) => s.attrs.id)).toEqual(['1'])
      expect(played.errors.map((e) => [e.name, (e as { rule?: string }).rule])).toEqual([
        ['MalformedXmlError', 'XML'],
      ])
      expect(played.received()).toContain(
        '<stream:error><bad-format xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>',
      )
    })

  it('multi-byte UTF-8 characters split between TCP reads are read intact', async () => {
    const text = 'Grüße 中文 😀'
    const bytes = Buffer.from(`${HEADER}${FEATURES}<message id='1'><body>${text}</body></message>`)
    const cuts = ['ü', '中', '😀'].map((c) => bytes.indexOf(Buffer.from(c)) + 1)
    const played = await play(cut(bytes, cuts))
    const until = Date.now() + 5000
    while (played.stanzas.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
    expect(played.stanzas.map((s) => s.getChildText('body'))).toEqual([text])
    expect(played.errors).toEqual([])
  })
})
