/**
 * Affix profiles: OMEMO 2 chat (XEP-0384 v0.9.1's SCE profile: `<rpad/>` MUST, `<time/>` MAY,
 * `<from/>` SHOULD, `<to/>` MUST only in group chats) against trust messages (TM-17 … TM-20, all
 * MUST). A chat profile is never a way around a check: an affix that is present is checked as
 * strictly as under the trust-message profile (SCE-1, SCE-2, SCE-3).
 */
import { describe, expect, it } from 'vitest'
import {
  OMEMO2_CHAT_PROFILE,
  OMEMO2_GROUPCHAT_PROFILE,
  openEnvelope,
  requireAffixes,
  TRUST_MESSAGE_PROFILE,
} from '../../src/index.ts'
import { ALICE, CAROL, chatBody, envelopeXml, STANZA, T0 } from '../fixtures.ts'
import { expectRejected } from '../helpers.ts'

const chat = (p: Parameters<typeof envelopeXml>[0] = {}): string =>
  envelopeXml({ content: `<content>${chatBody('hi')}</content>`, ...p })

/** The envelope Converse.js 14 writes (`sce.js` buildSCEEnvelope): content first, SCE namespace repeated. */
const converseEnvelope = (from = `${ALICE}/converse.js-1`, to?: string): string =>
  "<envelope xmlns='urn:xmpp:sce:1'>" +
  `<content><body xmlns='jabber:client'>hello from Converse</body></content>` +
  '<rpad>3q2+7w==</rpad>' +
  `<from xmlns='urn:xmpp:sce:1' jid='${from}'/>` +
  (to === undefined ? '' : `<to xmlns='urn:xmpp:sce:1' jid='${to}'/>`) +
  '</envelope>'

describe('XEP-0384 v0.9.1 SCE profile for OMEMO 2 chat', () => {
  it('accepts a chat with <rpad/> only, and reports which affixes it had', () => {
    const opened = openEnvelope(chat({ time: null, from: null, to: null }), {
      ...STANZA,
      profile: OMEMO2_CHAT_PROFILE,
    })
    expect(opened.affixes).toEqual({ rpad: true, time: false, from: false, to: false })
    expect([opened.time, opened.from, opened.to]).toEqual([undefined, undefined, undefined])
  })

  it("reads Converse.js 14's envelope: affixes with the SCE namespace repeated, no <time/>, no <to/>", () => {
    const opened = openEnvelope(converseEnvelope(), { ...STANZA, profile: OMEMO2_CHAT_PROFILE })
    expect(opened.affixes).toEqual({ rpad: true, time: false, from: true, to: false })
    expect(opened.from).toBe(ALICE)
    expect(opened.content.getChild('body', 'jabber:client')?.text()).toBe('hello from Converse')
  })

  it('OMEMO-SCE-RPAD: a chat without <rpad/> is rejected (MUST in the profile)', () => {
    expectRejected(
      () => openEnvelope(chat({ rpad: null }), { ...STANZA, profile: OMEMO2_CHAT_PROFILE }),
      'InvalidEnvelopeError',
      'OMEMO-SCE-RPAD',
    )
  })

  it('SCE-3: a <from/> that is present must match the stanza sender (namespace repeated too)', () => {
    expectRejected(
      () =>
        openEnvelope(converseEnvelope('mallory@example.org/x'), { ...STANZA, profile: OMEMO2_CHAT_PROFILE }),
      'InvalidEnvelopeError',
      'SCE-3',
    )
    expectRejected(
      () => openEnvelope(chat({ from: 'mallory@example.org' }), { ...STANZA, profile: OMEMO2_CHAT_PROFILE }),
      'InvalidEnvelopeError',
      'SCE-3',
    )
  })

  it('SCE-2: a <to/> that is present must match the stanza recipient', () => {
    expectRejected(
      () =>
        openEnvelope(converseEnvelope(ALICE, 'eve@example.com'), { ...STANZA, profile: OMEMO2_CHAT_PROFILE }),
      'InvalidEnvelopeError',
      'SCE-2',
    )
    expect(openEnvelope(converseEnvelope(ALICE, CAROL), { ...STANZA, profile: OMEMO2_CHAT_PROFILE }).to).toBe(
      CAROL,
    )
  })

  it('SCE-1: a <time/> that is present must lie in the window (a stale replay is not let through)', () => {
    const stale = chat({ time: '2024-04-01T12:00:00Z' })
    expectRejected(
      () => openEnvelope(stale, { ...STANZA, profile: OMEMO2_CHAT_PROFILE }),
      'InvalidEnvelopeError',
      'SCE-1',
    )
    expectRejected(
      () => openEnvelope(chat({ time: 'yesterday' }), { ...STANZA, profile: OMEMO2_CHAT_PROFILE }),
      'InvalidEnvelopeError',
      'SCE-1',
    )
    expect(openEnvelope(chat(), { ...STANZA, profile: OMEMO2_CHAT_PROFILE }).time).toEqual(T0)
  })

  it('OMEMO-SCE-TO: a group chat needs <to/> (the room)', () => {
    expectRejected(
      () => openEnvelope(converseEnvelope(), { ...STANZA, profile: OMEMO2_GROUPCHAT_PROFILE }),
      'InvalidEnvelopeError',
      'OMEMO-SCE-TO',
    )
    const opened = openEnvelope(converseEnvelope(ALICE, CAROL), {
      ...STANZA,
      profile: OMEMO2_GROUPCHAT_PROFILE,
    })
    expect(opened.affixes.to).toBe(true)
  })
})

describe('trust messages keep every affix (TM-17 … TM-20)', () => {
  const cases = [
    ['TM-17', { rpad: null }],
    ['TM-18', { time: null }],
    ['TM-19', { from: null }],
    ['TM-20', { to: null }],
  ] as const
  for (const [rule, parts] of cases)
    it(`${rule}: rejected by the default (trust-message) profile`, () => {
      expectRejected(() => openEnvelope(envelopeXml(parts), STANZA), 'InvalidEnvelopeError', rule)
      expectRejected(
        () => openEnvelope(envelopeXml(parts), { ...STANZA, profile: TRUST_MESSAGE_PROFILE }),
        'InvalidEnvelopeError',
        rule,
      )
    })

  it('TM-18 (D-9): a trust message opened under the chat profile is still rejected by requireAffixes', () => {
    // the backend opens with the chat profile, sees a <trust-message/> and checks again
    const opened = openEnvelope(envelopeXml({ time: null }), { ...STANZA, profile: OMEMO2_CHAT_PROFILE })
    expectRejected(
      () => requireAffixes(opened.affixes, TRUST_MESSAGE_PROFILE),
      'InvalidEnvelopeError',
      'TM-18',
    )
    expect(() =>
      requireAffixes(openEnvelope(envelopeXml(), STANZA).affixes, TRUST_MESSAGE_PROFILE),
    ).not.toThrow()
  })

  it('a profile chosen by content: a <trust-message/> gets every affix required, a chat only <rpad/>', () => {
    const pick = (content: { children: readonly unknown[] }) =>
      content.children.some((c) => typeof c !== 'string' && (c as { name: string }).name === 'trust-message')
        ? TRUST_MESSAGE_PROFILE
        : OMEMO2_CHAT_PROFILE
    for (const [rule, parts] of cases)
      expectRejected(
        () => openEnvelope(envelopeXml(parts), { ...STANZA, profile: pick }),
        'InvalidEnvelopeError',
        rule,
      )
    const opened = openEnvelope(chat({ time: null, to: null, from: null }), { ...STANZA, profile: pick })
    expect(opened.affixes).toEqual({ rpad: true, time: false, from: false, to: false })
  })

  it('require: { time: false } still narrows the default profile (backward compatible)', () => {
    const opened = openEnvelope(envelopeXml({ time: null }), { ...STANZA, require: { time: false } })
    expect(opened.affixes.time).toBe(false)
    expectRejected(
      () => openEnvelope(envelopeXml({ to: null }), { ...STANZA, require: { time: false } }),
      'InvalidEnvelopeError',
      'TM-20',
    )
  })
})
