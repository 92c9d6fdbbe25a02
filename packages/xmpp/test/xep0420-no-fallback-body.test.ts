/**
 * XEP-0420 v0.5.0: a message carrying an SCE envelope gets no fallback `<body/>`; the unencrypted
 * `<store/>` hint and the XEP-0380 `<encryption/>` element take its place. D-7 still holds: a
 * trust message and a chat message have the same outer shape.
 */
import type { Element } from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { vouchXmpp } from '../src/binding.ts'
import { fakeClient, fakeServer } from './fake-client.ts'
import { ALICE, BOB, device, introduce, NS_OMEMO2, setLevel } from './security/omemo-fixture.ts'

const shape = (m: Element): string[] =>
  m.children.flatMap((c) => (typeof c === 'string' ? [] : [`${c.name} ${c.attrs.xmlns ?? ''}`]))

describe('XEP-0420 v0.5.0: no fallback <body/> beside an SCE envelope (OMEMO 2)', () => {
  it('chat and trust messages carry <encrypted/>, <encryption/>, <store/> and <origin-id/>, and no <body/>, even if the app asks for one', async () => {
    const alice = await device(ALICE)
    const alice2 = await device(ALICE)
    const bob = await device(BOB)
    await introduce(alice, bob)
    await introduce(alice, alice2)
    await setLevel(alice, ALICE, alice2.key, 'authenticated')
    for (const fallbackBody of [undefined, 'This message is encrypted.']) {
      const fake = fakeClient(fakeServer(() => []))
      ;(fake.xmpp as unknown as { status: string }).status = 'online'
      const vouch = vouchXmpp(fake.xmpp, {
        store: alice.store,
        backends: [alice.backend],
        ...(fallbackBody === undefined ? {} : { fallbackBody }),
      })
      await vouch.sendChat(BOB, 'hello')
      // ATM-S1/S2: trust messages to our other device (about Bob) and to Bob (about it)
      await vouch.authenticate(NS_OMEMO2, BOB, [bob.key])
      await vouch.distrust(NS_OMEMO2, BOB, [bob.key])
      await vouch.authenticate(NS_OMEMO2, BOB, [bob.key])
      const sent = fake.sent.filter((s) => s.name === 'message')
      expect(sent.length).toBeGreaterThanOrEqual(3)
      expect(sent.some((m) => m.attrs.to === ALICE)).toBe(true) // a trust message to our own device
      for (const m of sent) {
        expect(m.getChild('body')).toBeUndefined()
        expect(shape(m)).toEqual([
          'encrypted urn:xmpp:omemo:2',
          'encryption urn:xmpp:eme:0',
          'store urn:xmpp:hints',
          'origin-id urn:xmpp:sid:0',
        ])
      }
      vouch.close()
    }
  })
})
