/**
 * A client that is never started: a fake transport records what is sent, and a test plays the
 * server by handing elements to the connection exactly as its XML parser would.
 */
import type { BareJid } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import xml, { type Element } from '@xmpp/xml'
import { createClient } from '../src/connect.ts'

export interface Fake {
  readonly xmpp: Client
  readonly sent: Element[]
  /** hands `elements` to the connection synchronously, like one TCP read of the parser */
  receive(...elements: Element[]): void
}

/** A client of `jid`/r whose transport records stanzas; `answer` may reply (or throw = a socket error). */
export function fakeClient(
  answer: (sent: Element, fake: Fake) => void = () => undefined,
  jid: BareJid = 'alice@localhost' as BareJid,
): Fake {
  const xmpp = createClient({ service: 'xmpp://127.0.0.1:1', jid, password: 'x', resource: 'r' })
  const sent: Element[] = []
  const fake: Fake = {
    xmpp,
    sent,
    receive(...elements) {
      const entity = xmpp as unknown as { _onElement(e: Element): void }
      for (const e of elements) entity._onElement(e)
    },
  }
  ;(xmpp as unknown as { Transport: unknown }).Transport = {
    prototype: {
      async send(this: Client, element: Element): Promise<void> {
        sent.push(element)
        answer(element, fake)
        this.emit('send', element)
      },
    },
  }
  return fake
}

/** One message in a fake archive. */
export interface FakeArchived {
  readonly id: string
  readonly stamp: Date
  readonly message: Element
}

/**
 * Answers like a server: Carbons on, MAM queries from `archive()` (everything after the RSM
 * `<after/>` id, pages of the RSM `<max/>`), an unknown `<after/>` id with `item-not-found` as Prosody does.
 */
export function fakeServer(archive: () => readonly FakeArchived[]): (sent: Element, fake: Fake) => void {
  return (sent, fake) => {
    if (sent.name !== 'iq' || sent.attrs.type !== 'set') return
    const id = String(sent.attrs.id)
    const to = 'alice@localhost/r'
    setImmediate(() => {
      if (sent.getChild('enable', 'urn:xmpp:carbons:2') !== undefined)
        return fake.receive(xml('iq', { type: 'result', id, to }))
      const query = sent.getChild('query', 'urn:xmpp:mam:2')
      if (query === undefined) return
      const all = archive()
      const after =
        query.getChild('set', 'http://jabber.org/protocol/rsm')?.getChildText('after') ?? undefined
      const from = after === undefined ? 0 : all.findIndex((m) => m.id === after) + 1
      if (after !== undefined && from === 0)
        return fake.receive(
          xml(
            'iq',
            { type: 'error', id, to },
            xml(
              'error',
              { type: 'cancel' },
              xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }),
            ),
          ),
        )
      const max = Number(
        query.getChild('set', 'http://jabber.org/protocol/rsm')?.getChildText('max') ?? all.length,
      )
      const page = all.slice(from, from + max)
      const complete = from + page.length >= all.length
      for (const m of page)
        fake.receive(
          xml(
            'message',
            { to },
            xml(
              'result',
              { xmlns: 'urn:xmpp:mam:2', queryid: String(query.attrs.queryid), id: m.id },
              xml(
                'forwarded',
                { xmlns: 'urn:xmpp:forward:0' },
                xml('delay', { xmlns: 'urn:xmpp:delay', stamp: m.stamp.toISOString() }),
                m.message,
              ),
            ),
          ),
        )
      const set = xml('set', { xmlns: 'http://jabber.org/protocol/rsm' })
      if (page.length > 0) set.c('last').t((page.at(-1) as FakeArchived).id)
      fake.receive(
        xml(
          'iq',
          { type: 'result', id, to },
          xml('fin', { xmlns: 'urn:xmpp:mam:2', ...(complete ? { complete: 'true' } : {}) }, set),
        ),
      )
    })
  }
}
