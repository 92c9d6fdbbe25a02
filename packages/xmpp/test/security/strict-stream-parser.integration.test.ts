/**
 * The strict stream parser against a real server (Prosody): its streams (the first one, and
 * the ones restarted after SASL) are read by `StrictStreamParser`, and a large stanza that
 * arrives in several TCP reads keeps its multi-byte characters. Before, `@xmpp/connection`
 * decoded every read as UTF-8 on its own: a character split between two reads became two
 * U+FFFD, so a long message read differently here than in its sender's client.
 *
 * STANZA-SIZE over Prosody: a client with a smaller cap gets a message over it as a placeholder
 * (`stanzaLimitError`), and the connection goes on: the next message arrives, still online.
 */
import type { ProsodyServer } from '@vouch/prosody-tooling'
import type { Client } from '@xmpp/client'
import xml from '@xmpp/xml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, startClient, stopClient } from '../../src/connect.ts'
import { StrictStreamParser, stanzaLimitError } from '../../src/stream-parser.ts'
import { jidOf, nextStanza, online, PASSWORD, SKIP_INTEGRATION, startTestServer } from '../helpers.ts'

describe.skipIf(SKIP_INTEGRATION)('strict stream parsing of a Prosody stream', { timeout: 60_000 }, () => {
  let server: ProsodyServer
  let alice: Client
  let bob: Client
  let carol: Client

  beforeAll(async () => {
    server = await startTestServer()
    await server.register('alice', PASSWORD)
    await server.register('bob', PASSWORD)
    alice = await online(server, 'alice', 'laptop')
    bob = await online(server, 'bob', 'phone')
    await server.register('carol', PASSWORD)
    carol = createClient({
      service: server.service,
      jid: jidOf(server, 'carol'),
      password: PASSWORD,
      resource: 'tablet',
      stanzaLimits: { maxStanzaBytes: 100_000 },
    })
    await startClient(carol)
  })
  afterAll(async () => {
    await Promise.all([alice, bob, carol].filter((c) => c !== undefined).map((c) => stopClient(c)))
    await server?.stop()
  })

  it('the server stream, restarted after SASL, is read by StrictStreamParser', () => {
    const { parser } = alice as unknown as { parser: object | null }
    expect(parser).toBeInstanceOf(StrictStreamParser)
  })

  it('STANZA-SIZE: a message over the cap arrives as a placeholder; the next one arrives, the client stays online', async () => {
    const text = 'Grüße 中文 😀 '.repeat(10_000) // about 210 KB: under Prosody's 256 KiB, over carol's 100 KB
    const to = `${jidOf(server, 'carol')}/tablet`
    const big = nextStanza(carol, (s) => s.attrs.id === 'big', 20_000)
    const after = nextStanza(carol, (s) => s.attrs.id === 'after', 20_000)
    await bob.send(xml('message', { to, type: 'chat', id: 'big' }, xml('body', {}, text)))
    await bob.send(xml('message', { to, type: 'chat', id: 'after' }, xml('body', {}, 'after')))
    const placeholder = await big
    expect(stanzaLimitError(placeholder)).toMatchObject({
      name: 'LimitExceededError',
      rule: 'STANZA-SIZE',
      max: 100_000,
    })
    expect(placeholder.attrs.type).toBe('error')
    expect(placeholder.getChild('body')).toBeUndefined()
    expect((await after).getChildText('body')).toBe('after')
    expect(carol.status).toBe('online')
  })

  it('a 200 KB message of multi-byte characters, split between TCP reads, arrives intact', async () => {
    const text = 'Grüße 中文 😀 '.repeat(10_000)
    const received = nextStanza(alice, (s) => s.name === 'message' && s.attrs.id === 'long', 20_000)
    await bob.send(
      xml(
        'message',
        { to: `${jidOf(server, 'alice')}/laptop`, type: 'chat', id: 'long' },
        xml('body', {}, text),
      ),
    )
    const body = (await received).getChildText('body') ?? ''
    expect(body.length, 'length of the body read').toBe(text.length)
    expect([...body.matchAll(/\uFFFD/g)].length, 'U+FFFD in the body read').toBe(0)
    expect(body === text, 'the body read is the body sent').toBe(true)
  })
})
