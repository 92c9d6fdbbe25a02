/**
 * Bad-input corpus: envelopes an attacker (or a broken client) may send, each with the typed
 * error and rule it must produce. The stanza is from alice@example.org/notebook to
 * carol@example.com, received at 2024-05-01T12:00:00Z, unless a case says otherwise.
 */
import { describe, it } from 'vitest'
import type { OpenEnvelopeOptions } from '../../src/index.ts'
import { openEnvelope } from '../../src/index.ts'
import { envelopeXml, STANZA, TRUST_MESSAGE } from '../fixtures.ts'
import { expectRejected } from '../helpers.ts'

interface BadCase {
  readonly comment: string
  readonly input: string
  readonly options?: Partial<OpenEnvelopeOptions>
  readonly name: string
  readonly rule: string
}

const CONTENT = `<content>${TRUST_MESSAGE}</content>`

const corpus: readonly BadCase[] = [
  {
    comment: 'wrong namespace',
    input: envelopeXml({ ns: 'urn:xmpp:sce:2' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'no namespace',
    input: envelopeXml().replace(" xmlns='urn:xmpp:sce:1'", ''),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'wrong root name',
    input: envelopeXml({ root: 'envelop' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'sce:1 root with the legacy <payload/> child only',
    input: envelopeXml({ content: `<payload>${TRUST_MESSAGE}</payload>` }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'sce:1 shape <content> as root',
    input: `<content xmlns='urn:xmpp:sce:1'>${TRUST_MESSAGE}</content>`,
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'prefixed root element',
    input: `<s:envelope xmlns:s='urn:xmpp:sce:1'>${CONTENT}</s:envelope>`,
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'two contents',
    input: envelopeXml({ extra: CONTENT }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  { comment: 'no content', input: envelopeXml({ content: null }), name: 'InvalidEnvelopeError', rule: 'SCE' },
  {
    comment: 'content in a foreign namespace only',
    input: envelopeXml({ content: `<content xmlns='urn:example'>${TRUST_MESSAGE}</content>` }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'two times (which one counts?)',
    input: envelopeXml({ extra: "<time stamp='2024-05-01T12:00:00Z'/>" }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'two froms',
    input: envelopeXml({ extra: "<from jid='mallory@example.org'/>" }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'two tos',
    input: envelopeXml({ extra: "<to jid='carol@example.com'/>" }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'two rpads',
    input: envelopeXml({ extra: '<rpad>x</rpad>' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'element inside rpad',
    input: envelopeXml({ rpad: `<x/>` }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'text smuggled next to the affixes',
    input: envelopeXml({ extra: 'hello' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'text directly inside content',
    input: envelopeXml({ content: `<content>hi${TRUST_MESSAGE}</content>` }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'legacy sce:0 <content>/<payload> without the legacy option',
    input: `<content xmlns='urn:xmpp:sce:0'><rpad/><payload>${TRUST_MESSAGE}</payload></content>`,
    name: 'InvalidEnvelopeError',
    rule: 'SCE-LEGACY',
  },
  {
    comment: 'legacy sce:0 <envelope>/<payload> without the legacy option',
    input: envelopeXml({ ns: 'urn:xmpp:sce:0', content: `<payload>${TRUST_MESSAGE}</payload>` }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-LEGACY',
  },
  {
    comment: 'legacy sce:0 envelope with an sce:1 <content/> child (mixed shapes)',
    input: envelopeXml({ ns: 'urn:xmpp:sce:0' }),
    options: { legacy: true },
    name: 'InvalidEnvelopeError',
    rule: 'SCE',
  },
  {
    comment: 'missing rpad',
    input: envelopeXml({ rpad: null }),
    name: 'InvalidEnvelopeError',
    rule: 'TM-17',
  },
  {
    comment: 'missing time',
    input: envelopeXml({ time: null }),
    name: 'InvalidEnvelopeError',
    rule: 'TM-18',
  },
  {
    comment: 'missing from',
    input: envelopeXml({ from: null }),
    name: 'InvalidEnvelopeError',
    rule: 'TM-19',
  },
  { comment: 'missing to', input: envelopeXml({ to: null }), name: 'InvalidEnvelopeError', rule: 'TM-20' },
  {
    comment: 'bad stamp: not a date',
    input: envelopeXml({ time: 'now' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-1',
  },
  {
    comment: 'bad stamp: 30 February',
    input: envelopeXml({ time: '2024-02-30T12:00:00Z' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-1',
  },
  {
    comment: 'bad stamp: Unix seconds',
    input: envelopeXml({ time: '1714564800' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-1',
  },
  {
    comment: 'stale time (1 h old)',
    input: envelopeXml({ time: '2024-05-01T11:00:00Z' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-1',
  },
  {
    comment: 'future time (10 min ahead)',
    input: envelopeXml({ time: '2024-05-01T12:10:00Z' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-1',
  },
  {
    comment: 'far-future time (year 9999)',
    input: envelopeXml({ time: '9999-12-31T23:59:59Z' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-1',
  },
  {
    comment: 'from mismatch (spoofed sender)',
    input: envelopeXml({ from: 'mallory@example.org' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-3',
  },
  {
    comment: 'from mismatch (domain of the sender)',
    input: envelopeXml({ from: 'example.org' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-3',
  },
  {
    comment: 'to mismatch (forwarded to another recipient)',
    input: envelopeXml({ to: 'dave@example.com' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-2',
  },
  {
    comment: 'malformed JID in from',
    input: envelopeXml({ from: 'alice@@example.org' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-3',
  },
  {
    comment: 'malformed JID in to',
    input: envelopeXml({ to: 'carol@example.com/' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-2',
  },
  {
    comment: 'JID with a forbidden character',
    input: envelopeXml({ from: 'alice"@example.org' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-3',
  },
  {
    comment: 'empty from jid',
    input: envelopeXml({ from: '' }),
    name: 'InvalidEnvelopeError',
    rule: 'SCE-3',
  },
  {
    comment: 'oversized input (over 1 MiB)',
    input: envelopeXml({ rpad: 'x'.repeat(1 << 20) }),
    name: 'LimitExceededError',
    rule: 'LIMIT',
  },
  {
    comment: 'deeply nested content',
    input: envelopeXml({ content: `<content>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</content>` }),
    name: 'LimitExceededError',
    rule: 'LIMIT',
  },
  {
    comment: 'DTD with an entity (billion laughs)',
    input: `<!DOCTYPE e [<!ENTITY a "aaaa">]>${envelopeXml({ rpad: '&a;' })}`,
    name: 'MalformedXmlError',
    rule: 'XML',
  },
  {
    comment: 'not well-formed XML',
    input: envelopeXml().slice(0, -3),
    name: 'MalformedXmlError',
    rule: 'XML',
  },
  {
    comment: 'two root elements',
    input: envelopeXml() + envelopeXml(),
    name: 'MalformedXmlError',
    rule: 'XML',
  },
  { comment: 'empty input', input: '', name: 'MalformedXmlError', rule: 'XML' },
]

describe('security: bad-input corpus', () => {
  for (const [i, c] of corpus.entries())
    it(`invalid #${i}: ${c.comment} → ${c.name} ${c.rule}`, () => {
      expectRejected(() => openEnvelope(c.input, { ...STANZA, ...c.options }), c.name, c.rule, c.comment)
    })
})
