/**
 * Bad-input corpus: hostile or broken trust messages, each rejected with the expected typed
 * error (name + rule), never accepted and never a TypeError. XML inputs go through
 * `parseTrustMessageXml` (strict XML reader + `readTrustMessage`), JSON inputs through
 * `trustMessageFromJson`; default options (no legacy) unless the row says otherwise.
 */
import { describe, expect, it } from 'vitest'
import type { TrustMessageOptions } from '../../src/index.ts'
import { parseTrustMessageXml, trustMessageFromJson } from '../../src/index.ts'

const A2 = 'aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ='
const A3 = 'IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA='
const HEX = '6850019d7ed0feb6d3823072498ceb4f616c6025586f8f666dc6b9c81ef7e0a4'
const ATTRS = `usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'`
const tm = (body: string, attrs = ATTRS, ns = 'urn:xmpp:tm:1') =>
  `<trust-message xmlns='${ns}' ${attrs}>${body}</trust-message>`
const owner = (jid: string, body: string) => `<key-owner jid='${jid}'>${body}</key-owner>`
const ok = (jid = 'alice@example.org') => owner(jid, `<trust>${A2}</trust>`)
const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('')

type Input =
  | string
  | { readonly json: unknown }
  | { readonly xml: string; readonly options: TrustMessageOptions }
const JSON_OK = { usage: 'urn:xmpp:atm:1', encryption: 'urn:xmpp:omemo:2' }

const CORPUS: readonly [string, Input, string, string][] = [
  // XML level
  ['not XML at all', 'trust me, bob is fine', 'MalformedXmlError', 'XML'],
  [
    'billion laughs (DTD entities)',
    `<!DOCTYPE t [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>${tm(owner('a@b', '<trust>&b;</trust>'))}`,
    'MalformedXmlError',
    'XML',
  ],
  [
    'external entity (XXE)',
    `<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>${tm(owner('a@b', '<trust>&x;</trust>'))}`,
    'MalformedXmlError',
    'XML',
  ],
  ['unclosed element', tm(ok()).slice(0, -5), 'MalformedXmlError', 'XML'],
  ['two root elements', tm(ok()) + tm(ok()), 'MalformedXmlError', 'XML'],
  [
    'nesting deeper than the XML cap',
    `${'<x>'.repeat(40)}${'</x>'.repeat(40)}`,
    'LimitExceededError',
    'LIMIT',
  ],
  [
    'input larger than the XML cap',
    tm(owner('a@b', `<trust>${'A'.repeat(1_100_000)}</trust>`)),
    'LimitExceededError',
    'LIMIT',
  ],
  // TM-1 / TM-16 containers
  [
    'message without a trust message',
    `<message xmlns='jabber:client'><body>hi</body></message>`,
    'InvalidTrustMessageError',
    'TM-1',
  ],
  [
    'message with two trust messages',
    `<message xmlns='jabber:client'>${tm(ok())}${tm(ok('bob@example.com'))}</message>`,
    'InvalidTrustMessageError',
    'TM-1',
  ],
  [
    'trust message hidden below the message',
    `<message><x xmlns='urn:example'>${tm(ok())}</x></message>`,
    'InvalidTrustMessageError',
    'TM-1',
  ],
  [
    'unrelated root element',
    `<iq xmlns='jabber:client' type='set'>${tm(ok())}</iq>`,
    'InvalidTrustMessageError',
    'TM-1',
  ],
  [
    'SCE content with two trust messages',
    `<content xmlns='urn:xmpp:sce:1'>${tm(ok())}${tm(ok())}</content>`,
    'InvalidTrustMessageError',
    'TM-16',
  ],
  [
    'SCE envelope with two content elements',
    `<envelope xmlns='urn:xmpp:sce:1'><content>${tm(ok())}</content><content>${tm(ok('eve@evil.example'))}</content></envelope>`,
    'InvalidTrustMessageError',
    'TM-16',
  ],
  [
    'legacy SCE sce:0 without the legacy option',
    `<envelope xmlns='urn:xmpp:sce:0'><payload>${tm(ok())}</payload></envelope>`,
    'InvalidTrustMessageError',
    'TM-16',
  ],
  // TM-4 namespace
  [
    'legacy tm:0 without the legacy option',
    tm(owner('a@b', `<trust>${HEX}</trust>`), ATTRS, 'urn:xmpp:tm:0'),
    'InvalidTrustMessageError',
    'TM-4',
  ],
  [
    'legacy trust-messages:0 without the legacy option',
    tm(owner('a@b', `<trust>${HEX}</trust>`), ATTRS, 'urn:xmpp:trust-messages:0'),
    'InvalidTrustMessageError',
    'TM-4',
  ],
  ['future namespace tm:2', tm(ok(), ATTRS, 'urn:xmpp:tm:2'), 'InvalidTrustMessageError', 'TM-4'],
  ['no namespace', `<trust-message ${ATTRS}>${ok()}</trust-message>`, 'InvalidTrustMessageError', 'TM-4'],
  [
    'Base64 id under a legacy (hex) namespace',
    { xml: tm(owner('a@b', `<trust>${A2}</trust>`), ATTRS, 'urn:xmpp:tm:0'), options: { legacy: true } },
    'InvalidKeyIdError',
    'TM-10',
  ],
  // TM-5 / TM-6 attributes
  ['missing usage', tm(ok(), `encryption='urn:xmpp:omemo:2'`), 'InvalidTrustMessageError', 'TM-5'],
  ['empty usage', tm(ok(), `usage='' encryption='urn:xmpp:omemo:2'`), 'InvalidTrustMessageError', 'TM-5'],
  [
    'usage with whitespace',
    tm(ok(), `usage='urn:xmpp:atm:1 urn:x' encryption='urn:xmpp:omemo:2'`),
    'InvalidTrustMessageError',
    'TM-5',
  ],
  ['missing encryption', tm(ok(), `usage='urn:xmpp:atm:1'`), 'InvalidTrustMessageError', 'TM-6'],
  ['empty encryption', tm(ok(), `usage='urn:xmpp:atm:1' encryption=''`), 'InvalidTrustMessageError', 'TM-6'],
  // TM-7 key owners
  ['no key owner', tm(''), 'InvalidTrustMessageError', 'TM-7'],
  ['unknown element in the tm namespace', tm(`${ok()}<key-owners/>`), 'InvalidTrustMessageError', 'TM-7'],
  [
    'more key owners than the cap (65)',
    tm(many(65, (i) => ok(`u${i}@example.org`))),
    'LimitExceededError',
    'LIMIT',
  ],
  // TM-8 JIDs
  [
    'key owner without jid',
    tm(`<key-owner><trust>${A2}</trust></key-owner>`),
    'InvalidTrustMessageError',
    'TM-8',
  ],
  ['key owner with an empty jid', tm(owner('', `<trust>${A2}</trust>`)), 'InvalidTrustMessageError', 'TM-8'],
  ['full JID as key owner', tm(ok('alice@example.org/phone')), 'InvalidJidError', 'TM-8'],
  ['JID with two @', tm(ok('alice@evil@example.org')), 'InvalidJidError', 'TM-8'],
  ['JID with a space', tm(ok('alice @example.org')), 'InvalidJidError', 'TM-8'],
  ['JID with an empty label', tm(ok('alice@example..org')), 'InvalidJidError', 'TM-8'],
  [
    'same owner twice, differing in case',
    tm(ok('bob@example.com') + owner('BOB@example.com', `<distrust>${A3}</distrust>`)),
    'InvalidTrustMessageError',
    'TM-8',
  ],
  ['JID longer than the cap', tm(ok(`${'a'.repeat(3100)}@example.org`)), 'LimitExceededError', 'LIMIT'],
  // TM-9 trust/distrust children
  ['empty key owner', tm(owner('a@b', '')), 'InvalidTrustMessageError', 'TM-9'],
  [
    'unknown element in a key owner',
    tm(owner('a@b', `<trust>${A2}</trust><authenticated>${A3}</authenticated>`)),
    'InvalidTrustMessageError',
    'TM-9',
  ],
  [
    'more ids per owner than the cap (257)',
    tm(
      owner(
        'a@b',
        many(257, (i) => `<trust>${btoa(String.fromCharCode(i >> 8, i & 255))}</trust>`),
      ),
    ),
    'LimitExceededError',
    'LIMIT',
  ],
  // TM-10 key ids
  ['empty trust', tm(owner('a@b', '<trust/>')), 'InvalidKeyIdError', 'TM-10'],
  ['whitespace-only distrust', tm(owner('a@b', '<distrust>  </distrust>')), 'InvalidKeyIdError', 'TM-10'],
  ['not Base64', tm(owner('a@b', '<trust>key-of-bob</trust>')), 'InvalidKeyIdError', 'TM-10'],
  ['Base64 without padding', tm(owner('a@b', '<trust>AAA</trust>')), 'InvalidKeyIdError', 'TM-10'],
  [
    'non-canonical Base64 (padding bits set)',
    tm(owner('a@b', '<trust>AB==</trust>')),
    'InvalidKeyIdError',
    'TM-10',
  ],
  [
    'Base64 with a line break inside',
    tm(owner('a@b', `<trust>${A2.slice(0, 20)}\n${A2.slice(20)}</trust>`)),
    'InvalidKeyIdError',
    'TM-10',
  ],
  ['URL-safe Base64 alphabet', tm(owner('a@b', '<trust>-_-_</trust>')), 'InvalidKeyIdError', 'TM-10'],
  [
    'element inside trust',
    tm(owner('a@b', `<trust><b>${A2}</b></trust>`)),
    'InvalidTrustMessageError',
    'TM-10',
  ],
  [
    'same id trusted twice',
    tm(owner('a@b', `<trust>${A2}</trust><trust>${A2}</trust>`)),
    'InvalidKeyIdError',
    'TM-10',
  ],
  [
    'key id longer than the cap (65 bytes)',
    tm(owner('a@b', `<trust>${btoa(String.fromCharCode(...new Uint8Array(65)))}</trust>`)),
    'LimitExceededError',
    'LIMIT',
  ],
  [
    'odd-length hex in a legacy draft',
    {
      xml: tm(owner('a@b', `<trust>${HEX.slice(1)}</trust>`), ATTRS, 'urn:xmpp:tm:0'),
      options: { legacy: true },
    },
    'InvalidKeyIdError',
    'TM-10',
  ],
  // TM-11
  [
    '20-byte id where OMEMO 2 needs 32',
    {
      xml: tm(owner('a@b', `<trust>${btoa(String.fromCharCode(...new Uint8Array(20).fill(1)))}</trust>`)),
      options: { keyIdLength: () => 32 },
    },
    'InvalidKeyIdError',
    'TM-11',
  ],
  // JSON form
  ['JSON: not an object', { json: 'trust-message' }, 'InvalidTrustMessageError', 'JSON'],
  ['JSON: an array', { json: [] }, 'InvalidTrustMessageError', 'JSON'],
  [
    'JSON: unknown property (typo)',
    { json: { ...JSON_OK, keyowners: [] } },
    'InvalidTrustMessageError',
    'JSON',
  ],
  [
    'JSON: __proto__ property',
    {
      json: JSON.parse(
        `{"usage":"u","encryption":"e","keyOwners":[{"jid":"a@b","trust":["${A2}"]}],"__proto__":{"x":1}}`,
      ),
    },
    'InvalidTrustMessageError',
    'JSON',
  ],
  [
    'JSON: legacy namespace without the option',
    { json: { ...JSON_OK, namespace: 'urn:xmpp:tm:0', keyOwners: [{ jid: 'a@b', trust: [A2] }] } },
    'InvalidTrustMessageError',
    'TM-4',
  ],
  [
    'JSON: namespace not a string',
    { json: { ...JSON_OK, namespace: 1, keyOwners: [] } },
    'InvalidTrustMessageError',
    'TM-4',
  ],
  [
    'JSON: usage is a number',
    { json: { usage: 1, encryption: 'e', keyOwners: [] } },
    'InvalidTrustMessageError',
    'TM-5',
  ],
  [
    'JSON: keyOwners is an object',
    { json: { ...JSON_OK, keyOwners: { jid: 'a@b' } } },
    'InvalidTrustMessageError',
    'TM-7',
  ],
  [
    'JSON: full JID',
    { json: { ...JSON_OK, keyOwners: [{ jid: 'a@b/c', trust: [A2] }] } },
    'InvalidJidError',
    'TM-8',
  ],
  [
    'JSON: jid is null',
    { json: { ...JSON_OK, keyOwners: [{ jid: null, trust: [A2] }] } },
    'InvalidTrustMessageError',
    'TM-8',
  ],
  [
    'JSON: trust is a string',
    { json: { ...JSON_OK, keyOwners: [{ jid: 'a@b', trust: A2 }] } },
    'InvalidTrustMessageError',
    'TM-9',
  ],
  [
    'JSON: no trust and no distrust',
    { json: { ...JSON_OK, keyOwners: [{ jid: 'a@b' }] } },
    'InvalidTrustMessageError',
    'TM-9',
  ],
  [
    'JSON: key id is a number',
    { json: { ...JSON_OK, keyOwners: [{ jid: 'a@b', distrust: [42] }] } },
    'InvalidTrustMessageError',
    'TM-10',
  ],
  [
    'JSON: hex key id',
    { json: { ...JSON_OK, keyOwners: [{ jid: 'a@b', trust: [`${HEX}z`] }] } },
    'InvalidKeyIdError',
    'TM-10',
  ],
  [
    'JSON: 65 key owners',
    {
      json: {
        ...JSON_OK,
        keyOwners: Array.from({ length: 65 }, (_, i) => ({ jid: `u${i}@b`, trust: [A2] })),
      },
    },
    'LimitExceededError',
    'LIMIT',
  ],
]

function run(input: Input): unknown {
  if (typeof input === 'string') return parseTrustMessageXml(input)
  if ('json' in input) return trustMessageFromJson(input.json)
  return parseTrustMessageXml(input.xml, input.options)
}

describe('security: bad-input corpus', () => {
  it('has at least 30 trust-message cases', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(30)
  })
  for (const [description, input, name, rule] of CORPUS)
    it(`${rule}: rejects ${description} with ${name}`, () => {
      const startsWithRule = expect.stringMatching(new RegExp(`^${rule}: `))
      expect(() => run(input)).toThrowError(expect.objectContaining({ name, rule, message: startsWithRule }))
    })
})
