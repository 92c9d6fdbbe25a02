/**
 * Bad-input corpus for the Trust Message URI parser (strict mode, default options unless noted).
 * Every case names the error and the rule it must fail with: a URI that decides about keys must
 * never be "repaired" into something the sender did not write.
 */
import { describe, expect, it } from 'vitest'
import { type ParseTrustMessageUriOptions, parseTrustMessageUri } from '../../src/index.ts'
import { B1, BD1, BOB_URI } from '../spec-vectors.ts'

const Q = 'trust-message;encryption=urn:xmpp:omemo:2'
const T = `trust=${B1.hex}`

interface BadCase {
  readonly comment: string
  readonly uri: string
  readonly name: string
  readonly rule: string
  readonly options?: ParseTrustMessageUriOptions
}

const CORPUS: readonly BadCase[] = [
  { comment: 'empty string', uri: '', name: 'InvalidUriError', rule: 'URI-1' },
  {
    comment: 'https scheme',
    uri: BOB_URI.replace('xmpp:', 'https:'),
    name: 'InvalidUriError',
    rule: 'URI-1',
  },
  {
    comment: 'look-alike scheme xmpps:',
    uri: BOB_URI.replace('xmpp:', 'xmpps:'),
    name: 'InvalidUriError',
    rule: 'URI-1',
  },
  { comment: 'no query', uri: 'xmpp:bob@example.com', name: 'InvalidUriError', rule: 'URI-1' },
  {
    comment: 'query type message',
    uri: `xmpp:bob@example.com?message;${T}`,
    name: 'InvalidUriError',
    rule: 'URI-1',
  },
  { comment: 'fragment', uri: `${BOB_URI}#frag`, name: 'InvalidUriError', rule: 'URI-1' },
  { comment: 'NUL byte', uri: `${BOB_URI}\u0000`, name: 'InvalidUriError', rule: 'URI-1' },
  {
    comment: 'newline inside',
    uri: BOB_URI.replace(';trust', ';\ntrust'),
    name: 'InvalidUriError',
    rule: 'URI-1',
  },
  {
    comment: 'lone surrogate',
    uri: `xmpp:b\ud800b@example.com?${Q};${T}`,
    name: 'InvalidUriError',
    rule: 'URI-1',
  },
  {
    comment: 'bidi override',
    uri: `xmpp:\u202emoc.elpmaxe@bob?${Q};${T}`,
    name: 'InvalidJidError',
    rule: 'URI-5',
  },
  {
    comment: 'encoded bidi override',
    uri: `xmpp:%E2%80%AEmoc.elpmaxe@bob?${Q};${T}`,
    name: 'InvalidJidError',
    rule: 'URI-5',
  },
  {
    comment: 'zero-width space',
    uri: `xmpp:bob\u200b@example.com?${Q};${T}`,
    name: 'InvalidJidError',
    rule: 'URI-5',
  },
  {
    comment: 'authority xmpp://',
    uri: `xmpp://bob@example.com?${Q};${T}`,
    name: 'InvalidUriError',
    rule: 'URI-5',
  },
  {
    comment: 'authority that hides the real owner',
    uri: `xmpp://mallory@evil.example/bob@example.com?${Q};${T}`,
    name: 'InvalidUriError',
    rule: 'URI-5',
  },
  {
    comment: 'full JID',
    uri: `xmpp:bob@example.com/phone?${Q};${T}`,
    name: 'InvalidJidError',
    rule: 'URI-5',
  },
  {
    comment: 'encoded slash (full JID)',
    uri: `xmpp:bob@example.com%2Fx?${Q};${T}`,
    name: 'InvalidJidError',
    rule: 'URI-5',
  },
  { comment: 'empty path', uri: `xmpp:?${Q};${T}`, name: 'InvalidJidError', rule: 'URI-5' },
  { comment: 'two @', uri: `xmpp:a@b@example.com?${Q};${T}`, name: 'InvalidJidError', rule: 'URI-5' },
  {
    comment: 'encoded @ in localpart',
    uri: `xmpp:a%40b@example.com?${Q};${T}`,
    name: 'InvalidJidError',
    rule: 'URI-5',
  },
  {
    comment: 'encoded NUL in localpart',
    uri: `xmpp:a%00b@example.com?${Q};${T}`,
    name: 'InvalidJidError',
    rule: 'URI-5',
  },
  {
    comment: 'truncated escape',
    uri: `xmpp:bob%4@example.com?${Q};${T}`,
    name: 'InvalidUriError',
    rule: 'URI-5',
  },
  {
    comment: 'overlong UTF-8 "/"',
    uri: `xmpp:b%C0%AFb@example.com?${Q};${T}`,
    name: 'InvalidUriError',
    rule: 'URI-5',
  },
  {
    comment: 'encoded surrogate',
    uri: `xmpp:b%ED%A0%80@example.com?${Q};${T}`,
    name: 'InvalidUriError',
    rule: 'URI-5',
  },
  {
    comment: 'unencoded space',
    uri: `xmpp:b b@example.com?${Q};${T}`,
    name: 'InvalidUriError',
    rule: 'URI-1',
  },
  {
    comment: 'not the expected owner',
    uri: BOB_URI,
    options: { expectedJid: 'alice@example.com' },
    name: 'InvalidUriError',
    rule: 'URI-5',
  },
  {
    comment: 'trust before encryption',
    uri: `xmpp:bob@example.com?trust-message;${T};encryption=urn:xmpp:omemo:2`,
    name: 'InvalidUriError',
    rule: 'URI-6',
  },
  {
    comment: 'no encryption',
    uri: `xmpp:bob@example.com?trust-message;${T}`,
    name: 'InvalidUriError',
    rule: 'URI-6',
  },
  {
    comment: 'two encryption pairs',
    uri: `xmpp:bob@example.com?${Q};encryption=urn:xmpp:openpgp:0;${T}`,
    name: 'InvalidUriError',
    rule: 'URI-6',
  },
  {
    comment: 'empty encryption',
    uri: `xmpp:bob@example.com?trust-message;encryption=;${T}`,
    name: 'InvalidUriError',
    rule: 'URI-6',
  },
  {
    comment: 'encoded newline in encryption',
    uri: `xmpp:bob@example.com?trust-message;encryption=urn%0A;${T}`,
    name: 'InvalidUriError',
    rule: 'URI-6',
  },
  {
    comment: 'unknown pair',
    uri: `xmpp:bob@example.com?${Q};${T};authenticate=${BD1.hex}`,
    name: 'InvalidUriError',
    rule: 'URI-7',
  },
  {
    comment: 'same id twice',
    uri: `xmpp:bob@example.com?${Q};${T};${T}`,
    name: 'InvalidUriError',
    rule: 'URI-7',
  },
  {
    comment: 'same id trusted and distrusted',
    uri: `xmpp:bob@example.com?${Q};${T};distrust=${B1.hex}`,
    name: 'InvalidUriError',
    rule: 'URI-7',
  },
  {
    comment: 'odd-length hex',
    uri: `xmpp:bob@example.com?${Q};trust=${B1.hex}a`,
    name: 'InvalidKeyIdError',
    rule: 'URI-8',
  },
  {
    comment: 'non-hex digit',
    uri: `xmpp:bob@example.com?${Q};trust=${B1.hex.replace('6', 'g')}`,
    name: 'InvalidKeyIdError',
    rule: 'URI-8',
  },
  {
    comment: 'Base64 instead of Base16',
    uri: `xmpp:bob@example.com?${Q};trust=${B1.base64.replace(/[+/=]/g, 'A')}`,
    name: 'InvalidKeyIdError',
    rule: 'URI-8',
  },
  {
    comment: '0x prefix',
    uri: `xmpp:bob@example.com?${Q};trust=0x${B1.hex.slice(2)}`,
    name: 'InvalidKeyIdError',
    rule: 'URI-8',
  },
  { comment: 'empty id', uri: `xmpp:bob@example.com?${Q};trust=`, name: 'InvalidKeyIdError', rule: 'URI-8' },
  {
    comment: 'short OMEMO 2 id',
    uri: `xmpp:bob@example.com?${Q};trust=${B1.hex.slice(0, 40)}`,
    name: 'InvalidKeyIdError',
    rule: 'TM-11',
  },
  {
    comment: 'pair without =',
    uri: `xmpp:bob@example.com?${Q};${T};distrust`,
    name: 'InvalidUriError',
    rule: 'URI-9',
  },
  { comment: 'trailing ;', uri: `xmpp:bob@example.com?${Q};${T};`, name: 'InvalidUriError', rule: 'URI-9' },
  { comment: 'zero keys', uri: `xmpp:bob@example.com?${Q}`, name: 'InvalidUriError', rule: 'TM-9' },
  {
    comment: 'URI over maxLength',
    uri: `${BOB_URI};${'trust=00;'.repeat(500)}`,
    name: 'LimitExceededError',
    rule: 'LIMIT',
  },
  {
    comment: 'more ids than maxKeys',
    uri: `xmpp:bob@example.com?trust-message;encryption=urn:example;${Array.from({ length: 65 }, (_, i) => `trust=${i.toString(16).padStart(2, '0')}`).join(';')}`,
    name: 'LimitExceededError',
    rule: 'LIMIT',
  },
  {
    comment: 'huge id',
    uri: `xmpp:bob@example.com?trust-message;encryption=urn:example;trust=${'ab'.repeat(65)}`,
    name: 'LimitExceededError',
    rule: 'LIMIT',
  },
]

describe('security: bad Trust Message URIs are rejected with a typed error naming the rule', () => {
  it('has at least 20 cases', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(20)
  })
  for (const [i, c] of CORPUS.entries()) {
    it(`invalid #${i}: ${c.comment} → ${c.name} ${c.rule}`, () => {
      let error: unknown
      try {
        parseTrustMessageUri(c.uri, c.options)
      } catch (e) {
        error = e
      }
      expect(error, c.comment).toMatchObject({ name: c.name, rule: c.rule })
    })
  }
})
