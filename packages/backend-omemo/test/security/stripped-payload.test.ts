/**
 * Attack: a server strips the `<payload/>` of a real OMEMO 2 message. Before, the receiver took
 * it for an empty message (XEP-0384 §"Empty OMEMO messages": a heartbeat or key exchange
 * answer), committed the ratchet step, and later refused the genuine copy as a REPLAY: the
 * message was lost without a trace. An empty message is accepted only when the ratchet carried
 * the 32 zero bytes of an empty message.
 */
import { parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { expectError } from '../helpers.ts'
import { backendPair, body, stanza } from './helpers.ts'

function stripPayload(xml: string): string {
  const el = parseXml(xml)
  el.children = el.children.filter((c) => typeof c === 'string' || c.name !== 'payload')
  return el.toString()
}

describe('stripped payload (OMEMO-PAYLOAD): a real message without its <payload/> is not an empty message', () => {
  it('a stripped key exchange message is rejected and the genuine copy still decrypts', async () => {
    const { alice, bob } = await backendPair()
    const real = (await alice.backend.encrypt(body('wire 1000 EUR'), [bob.jid])).element.toString()
    const st = stanza(alice.jid, bob.jid)
    await expectError(
      () => bob.backend.decrypt(parseXml(stripPayload(real)), st),
      'DecryptionError',
      'OMEMO-PAYLOAD',
    )
    const r = await bob.backend.decrypt(parseXml(real), st)
    expect(r.payload.find((p) => p.name === 'body')?.text()).toBe('wire 1000 EUR')
  })

  it('a stripped message of an established session is rejected and the genuine copy still decrypts', async () => {
    const { alice, bob } = await backendPair()
    const st = stanza(alice.jid, bob.jid)
    await bob.backend.decrypt((await alice.backend.encrypt(body('hello'), [bob.jid])).element, st)
    for (const e of await bob.backend.takeEmptyMessages())
      await alice.backend.decryptMessage(e.element, stanza(bob.jid, alice.jid))
    const real = (await alice.backend.encrypt(body('second'), [bob.jid])).element.toString()
    await expectError(
      () => bob.backend.decrypt(parseXml(stripPayload(real)), st),
      'DecryptionError',
      'OMEMO-PAYLOAD',
    )
    const r = await bob.backend.decrypt(parseXml(real), st)
    expect(r.payload.find((p) => p.name === 'body')?.text()).toBe('second')
  })

  it('a genuine empty message (the key exchange answer) is still accepted as empty', async () => {
    const { alice, bob } = await backendPair()
    await bob.backend.decrypt(
      (await alice.backend.encrypt(body('hello'), [bob.jid])).element,
      stanza(alice.jid, bob.jid),
    )
    const answers = await bob.backend.takeEmptyMessages()
    expect(answers).toHaveLength(1)
    const r = await alice.backend.decryptMessage(
      (answers[0] as (typeof answers)[number]).element,
      stanza(bob.jid, alice.jid),
    )
    expect(r.kind).toBe('empty')
  })
})
