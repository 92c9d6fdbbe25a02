/**
 * RFC 6121 §2.1.6: a roster push is the server's, so the client takes one only without `from` or
 * from the account's bare JID. A push from another entity (or another resource of ours) could
 * otherwise fake an approved contact (and with it, which keys we fetch): refused with an error,
 * no roster change, no event.
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { vouchXmpp, type VouchXmppEvents } from '../../src/binding.ts'
import { NS_ROSTER } from '../../src/roster.ts'
import { fakeClient } from '../fake-client.ts'

const ALICE = 'alice@localhost' as BareJid
const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

function push(from: string | undefined, id: string): Element {
  return xml(
    'iq',
    { type: 'set', id, to: `${ALICE}/r`, ...(from === undefined ? {} : { from }) },
    xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'carol@localhost', subscription: 'both' })),
  )
}

describe('RFC 6121 §2.1.6: roster pushes only from our own account', () => {
  it('refuses a push from another entity or another resource, takes one without from or from our bare JID', async () => {
    const fake = fakeClient(undefined, ALICE)
    const vouch = vouchXmpp(fake.xmpp, { store: memoryStore().forAccount(ALICE), backends: [] })
    const changed: VouchXmppEvents['contact-changed'][] = []
    vouch.on('contact-changed', (c) => changed.push(c))
    const reply = (id: string): Element | undefined =>
      fake.sent.find((s) => s.name === 'iq' && s.attrs.id === id)

    fake.receive(push('mallory@localhost', 'p1'), push(`${ALICE}/other`, 'p2'))
    await tick()
    expect(reply('p1')?.attrs.type).toBe('error')
    expect(reply('p2')?.attrs.type).toBe('error')
    expect(changed).toEqual([])

    fake.receive(push(undefined, 'p3'), push(ALICE, 'p4'))
    await tick()
    expect(reply('p3')?.attrs.type).toBe('result')
    expect(reply('p4')?.attrs.type).toBe('result')
    expect(changed.map((c) => [c.contact.jid, c.contact.subscription])).toEqual([
      ['carol@localhost', 'both'],
      ['carol@localhost', 'both'],
    ])
    vouch.close()
  })
})
