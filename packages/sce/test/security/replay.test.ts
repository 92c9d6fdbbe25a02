/**
 * Replay: an attacker (or a server) re-delivers an old envelope captured earlier, as a fresh
 * stanza. The envelope itself is intact and correctly addressed; only its <time/> gives it away.
 */
import { describe, expect, it } from 'vitest'
import { buildEnvelope, openEnvelope, serializeEnvelope } from '../../src/index.ts'
import { ALICE, CAROL } from '../fixtures.ts'
import { expectRejected } from '../helpers.ts'
import { parseXml } from '@vouch/tm-core'

describe('security: replay of an old envelope', () => {
  const sentAt = new Date('2024-05-01T12:00:00Z')
  const wire = serializeEnvelope(
    buildEnvelope({
      content: parseXml(
        "<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'/>",
      ),
      from: `${ALICE}/notebook`,
      to: CAROL,
      time: sentAt,
    }),
  )
  const stanza = { stanzaFrom: `${ALICE}/notebook`, stanzaTo: CAROL }

  it('SCE-1: accepted when it is delivered on time', () => {
    expect(openEnvelope(wire, { ...stanza, now: new Date('2024-05-01T12:00:02Z') }).time).toEqual(sentAt)
  })

  it('SCE-1: rejected when replayed a day later as a live stanza', () => {
    expectRejected(
      () => openEnvelope(wire, { ...stanza, now: new Date('2024-05-02T12:00:00Z') }),
      'InvalidEnvelopeError',
      'SCE-1',
    )
  })

  it('SCE-1: rejected when replayed with a forged delay stamp far from the envelope time', () => {
    expectRejected(
      () =>
        openEnvelope(wire, {
          ...stanza,
          now: new Date('2024-05-02T12:00:00Z'),
          stanzaTime: new Date('2024-05-02T11:59:00Z'),
        }),
      'InvalidEnvelopeError',
      'SCE-1',
    )
  })
})
