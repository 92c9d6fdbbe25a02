/**
 * XEP-0384 v0.9.1's SCE profile on a real OMEMO 2 session (issue 17 point 1): a chat message
 * needs `<rpad/>` only; `<from/>` (SCE-3), `<to/>` (SCE-2) and `<time/>` (SCE-1) are checked when
 * present; `<to/>` is required in group chats. A trust message keeps every affix (TM-17 … TM-20;
 * D-9: no `<time/>`, no order). The envelopes are written the way other clients write them
 * (Converse.js 14: content first, `<from xmlns='urn:xmpp:sce:1'/>`, no `<time/>`, no `<to/>`):
 * the sender's `buildEnvelope` is replaced by a test double that emits the chosen shape, and the
 * rest (payload, ratchet, receiver) is the real backend.
 */
import type { BuildEnvelopeInit } from '@vouch/sce'
import type { BareJid } from '@vouch/tm-core'
import { parseXml } from '@vouch/tm-core'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { expectError } from '../helpers.ts'
import { backendPair, body, stanza } from './helpers.ts'

/** Which affixes the next envelope carries, and their values (`null`: left out). */
interface Shape {
  rpad: string | null
  time: string | null
  from: string | null
  to: string | null
}
const shape: { next: Shape | undefined } = { next: undefined }

vi.mock('@vouch/sce', async (original) => {
  const sce = await original<typeof import('@vouch/sce')>()
  return {
    ...sce,
    buildEnvelope: (init: BuildEnvelopeInit) => {
      const s = shape.next
      if (s === undefined) return sce.buildEnvelope(init)
      const content = (Array.isArray(init.content) ? init.content : [init.content]).map(String).join('')
      const ns = "xmlns='urn:xmpp:sce:1'"
      return parseXml(
        `<envelope ${ns}><content>${content}</content>` +
          (s.rpad === null ? '' : `<rpad>${s.rpad}</rpad>`) +
          (s.from === null ? '' : `<from ${ns} jid='${s.from}'/>`) +
          (s.to === null ? '' : `<to ${ns} jid='${s.to}'/>`) +
          (s.time === null ? '' : `<time ${ns} stamp='${s.time}'/>`) +
          '</envelope>',
      )
    },
  }
})

const ALICE = 'alice@example.org' as BareJid
const BOB = 'bob@example.org' as BareJid
/** What Converse.js 14 sends in a one-to-one chat. */
const CONVERSE: Shape = { rpad: 'q83vEjRWeJA=', time: null, from: `${ALICE}/converse.js-1`, to: null }
const TRUST_MESSAGE = parseXml(
  "<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>" +
    `<key-owner jid='${BOB}'><trust>aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ=</trust></key-owner>` +
    '</trust-message>',
)

async function send(s: Shape, payload = body('hello'), groupChat = false) {
  const { alice, bob } = await backendPair()
  expect([alice.jid, bob.jid]).toEqual([ALICE, BOB])
  shape.next = s
  const m = await alice.backend.encrypt(payload, [bob.jid])
  shape.next = undefined
  return {
    open: () => bob.backend.decrypt(m.element, stanza(alice.jid, bob.jid), groupChat ? { groupChat } : {}),
    bob,
  }
}

describe('OMEMO 2 chat: XEP-0384 v0.9.1 SCE profile', () => {
  beforeEach(() => {
    shape.next = undefined
  })

  it('accepts the envelope Converse.js 14 sends (<rpad/>, <from/> with the SCE namespace, no <time/>, no <to/>) and reports its affixes', async () => {
    const r = await (await send(CONVERSE)).open()
    expect(r.payload[0]?.text()).toBe('hello')
    expect(r.affixes).toEqual({ rpad: true, time: false, from: true, to: false })
    expect(r.time).toBeUndefined()
    expect(r.to).toEqual([])
  })

  it('reports every affix of a Vouch envelope', async () => {
    const r = await (await send(undefined as unknown as Shape)).open()
    expect(r.affixes).toEqual({ rpad: true, time: true, from: true, to: true })
    expect(r.time).toBeInstanceOf(Date)
  })

  it('accepts a chat with <rpad/> alone', async () => {
    const r = await (await send({ rpad: 'AA==', time: null, from: null, to: null })).open()
    expect(r.affixes).toEqual({ rpad: true, time: false, from: false, to: false })
  })

  it('OMEMO-SCE-RPAD: a chat without <rpad/> is rejected', async () => {
    await expectError((await send({ ...CONVERSE, rpad: null })).open, 'DecryptionError', 'OMEMO-SCE-RPAD')
  })

  it('SCE-3: a <from/> naming another account is rejected (a forged sender inside the envelope)', async () => {
    await expectError(
      (await send({ ...CONVERSE, from: 'mallory@example.org/x' })).open,
      'DecryptionError',
      'SCE-3',
    )
  })

  it('SCE-2: a <to/> naming another recipient is rejected (a message redirected to us)', async () => {
    await expectError((await send({ ...CONVERSE, to: 'carol@example.org' })).open, 'DecryptionError', 'SCE-2')
  })

  it('SCE-1: a <time/> outside the window is rejected (a stale message replayed)', async () => {
    await expectError(
      (await send({ ...CONVERSE, time: '2001-01-01T00:00:00Z' })).open,
      'DecryptionError',
      'SCE-1',
    )
  })

  it('OMEMO-SCE-TO: a group chat message without <to/> is rejected', async () => {
    await expectError((await send(CONVERSE, body('room'), true)).open, 'DecryptionError', 'OMEMO-SCE-TO')
  })
})

describe('OMEMO 2 trust messages keep every affix (TM-17 … TM-20)', () => {
  const full: Shape = { rpad: 'AA==', time: new Date().toISOString(), from: ALICE, to: BOB }
  const cases = [
    ['TM-17', { rpad: null }],
    ['TM-18', { time: null }],
    ['TM-19', { from: null }],
    ['TM-20', { to: null }],
  ] as const

  for (const [rule, missing] of cases)
    it(`${rule}: a trust message without that affix is rejected, though a chat without it would not be`, async () => {
      const s = { ...full, time: new Date().toISOString(), ...missing }
      await expectError((await send(s, TRUST_MESSAGE)).open, 'DecryptionError', rule)
    })

  it('a trust message with every affix is decrypted', async () => {
    const r = await (await send({ ...full, time: new Date().toISOString() }, TRUST_MESSAGE)).open()
    expect(r.payload[0]?.name).toBe('trust-message')
    expect(r.affixes).toEqual({ rpad: true, time: true, from: true, to: true })
  })
})
