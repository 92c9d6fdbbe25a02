/**
 * XEP-0373 v0.7.0 §4–§5: PEP payloads (metadata list, key data, secret key, publish options)
 * and the rules for choosing a contact's current keys.
 */
import { Element, parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  buildPubkey,
  buildPublicKeysList,
  buildSecretKey,
  chooseCurrentKeys,
  isOwnKeyMissing,
  keysToFetch,
  NODE_PUBLIC_KEYS,
  NODE_SECRET_KEY,
  parsePublicKeysList,
  parseSecretKey,
  publicKeyDataNode,
  publishOptions,
  publishPublicKeyRequest,
  publishPublicKeysListRequest,
  publishSecretKeyRequest,
  readPubkeyElement,
  withOwnKey,
} from '../src/index.ts'

const A = '1357B01865B2503C18453D208CAC2A9678548E35'
const B = 'C4BE5B7A2B8E5E5F4D4B4D1B2E6A4F0D0C1B2A39'
const d = (s: string) => new Date(s)

async function errorOf(fn: () => unknown): Promise<{ name: string; rule?: string }> {
  try {
    await fn()
  } catch (e) {
    return e as { name: string; rule?: string }
  }
  throw new Error('expected an error')
}

describe('§4.2 public-keys-list', () => {
  it('builds the XEP example shape', () => {
    const el = buildPublicKeysList([{ fingerprint: A, date: d('2018-03-01T15:26:12Z') }])
    expect(el.toString()).toBe(
      `<public-keys-list xmlns="urn:xmpp:openpgp:0"><pubkey-metadata v4-fingerprint="${A}" date="2018-03-01T15:26:12Z"/></public-keys-list>`,
    )
  })
  it('parses the XEP example (Example 5)', () => {
    const list = parsePublicKeysList(
      parseXml(`<public-keys-list xmlns='urn:xmpp:openpgp:0'>
        <pubkey-metadata v4-fingerprint='${A}' date='2018-03-01T15:26:12Z'/>
        <pubkey-metadata v4-fingerprint='${B.toLowerCase()}' date='1953-05-16T12:00:00Z'/>
      </public-keys-list>`),
    )
    expect(list).toEqual([
      { fingerprint: A, date: d('2018-03-01T15:26:12Z') },
      { fingerprint: B, date: d('1953-05-16T12:00:00Z') },
    ])
  })
  it('a fingerprint appears once (the latest date wins)', () => {
    const el = buildPublicKeysList([
      { fingerprint: A, date: d('2020-01-01T00:00:00Z') },
      { fingerprint: A.toLowerCase(), date: d('2021-01-01T00:00:00Z') },
    ])
    expect(parsePublicKeysList(el)).toEqual([{ fingerprint: A, date: d('2021-01-01T00:00:00Z') }])
  })
  const invalid: Array<[string, string]> = [
    ['wrong root', "<public-keys xmlns='urn:xmpp:openpgp:0'/>"],
    ['wrong namespace', "<public-keys-list xmlns='urn:xmpp:openpgp:1'/>"],
    [
      'short fingerprint',
      `<public-keys-list xmlns='urn:xmpp:openpgp:0'><pubkey-metadata v4-fingerprint='ABCD' date='2018-03-01T15:26:12Z'/></public-keys-list>`,
    ],
    [
      'missing date',
      `<public-keys-list xmlns='urn:xmpp:openpgp:0'><pubkey-metadata v4-fingerprint='${A}'/></public-keys-list>`,
    ],
    [
      'bad date',
      `<public-keys-list xmlns='urn:xmpp:openpgp:0'><pubkey-metadata v4-fingerprint='${A}' date='soon'/></public-keys-list>`,
    ],
  ]
  for (const [i, [comment, xml]] of invalid.entries())
    it(`invalid #${i}: ${comment}`, async () => {
      expect(await errorOf(() => parsePublicKeysList(parseXml(xml))), comment).toMatchObject({
        name: 'DecryptionError',
        rule: 'OX-PEP',
      })
    })
  it('caps the number of entries', async () => {
    const many = Array.from({ length: 5 }, (_, i) => ({
      fingerprint: `${'0'.repeat(39)}${i}`,
      date: new Date(0),
    }))
    expect(await errorOf(() => parsePublicKeysList(buildPublicKeysList(many), 4))).toMatchObject({
      name: 'LimitExceededError',
    })
  })
})

describe('choosing current keys (§4.3, XEP-0374 §2.3.1) and republishing our own', () => {
  const item = (id: string, fprs: string[]) => ({
    id,
    payload: buildPublicKeysList(fprs.map((f) => ({ fingerprint: f, date: new Date(0) }))),
  })
  it('uses the item "current", all its keys', () => {
    expect(chooseCurrentKeys([item('old', [A]), item('current', [A, B])]).map((k) => k.fingerprint)).toEqual([
      A,
      B,
    ])
  })
  it('without "current", the most recent (last) item', () => {
    expect(chooseCurrentKeys([item('1', [A]), item('2', [B])]).map((k) => k.fingerprint)).toEqual([B])
    expect(chooseCurrentKeys([])).toEqual([])
  })
  it('fetches unknown keys and keys announced with a newer date', () => {
    const announced = [
      { fingerprint: A, date: d('2024-01-01T00:00:00Z') },
      { fingerprint: B, date: d('2024-01-01T00:00:00Z') },
    ]
    expect(keysToFetch(announced, new Map([[A, d('2023-01-01T00:00:00Z')]]))).toEqual([A, B])
    expect(
      keysToFetch(
        announced,
        new Map([
          [A, d('2024-01-01T00:00:00Z')],
          [B, undefined],
        ]),
      ),
    ).toEqual([])
  })
  it('tells when our own key is missing from our list, and puts it back', () => {
    const list = [{ fingerprint: B, date: new Date(0) }]
    expect(isOwnKeyMissing(list, A.toLowerCase())).toBe(true)
    const fixed = withOwnKey(list, { fingerprint: A, date: new Date(1000) })
    expect(isOwnKeyMissing(fixed, A)).toBe(false)
    expect(fixed.map((e) => e.fingerprint)).toEqual([B, A])
  })
})

describe('§4.1 <pubkey/> and §5 <secretkey/>', () => {
  it('round-trips key bytes', () => {
    const bytes = new Uint8Array([1, 2, 3, 250])
    expect(readPubkeyElement(buildPubkey(bytes))).toEqual(bytes)
    expect(parseSecretKey(buildSecretKey(bytes))).toEqual(bytes)
  })
  it('rejects a <pubkey/> without exactly one Base64 <data/>', async () => {
    expect(
      await errorOf(() => readPubkeyElement(parseXml("<pubkey xmlns='urn:xmpp:openpgp:0'/>"))),
    ).toMatchObject({ rule: 'OX-KEY' })
    expect(
      await errorOf(() =>
        readPubkeyElement(parseXml("<pubkey xmlns='urn:xmpp:openpgp:0'><data>!!</data></pubkey>")),
      ),
    ).toMatchObject({ rule: 'OX-KEY' })
    expect(
      await errorOf(() => parseSecretKey(new Element('secretkey', { xmlns: 'urn:xmpp:openpgp:0' }))),
    ).toMatchObject({ rule: 'OX-PEP' })
  })
})

describe('publish options (XEP-0060 §7.1.5)', () => {
  it('access model open for the public key nodes', () => {
    const req = publishPublicKeyRequest(A.toLowerCase(), new Uint8Array([1]), d('2024-01-01T00:00:00Z'))
    expect(req.getChild('publish')?.attrs.node).toBe(publicKeyDataNode(A))
    expect(req.getChild('publish')?.getChild('item')?.attrs.id).toBe('2024-01-01T00:00:00Z')
    expect(req.toString()).toContain('<field var="pubsub#access_model"><value>open</value></field>')
    expect(req.toString()).toContain('http://jabber.org/protocol/pubsub#publish-options')
    const list = publishPublicKeysListRequest([{ fingerprint: A, date: new Date(0) }])
    expect(list.getChild('publish')?.attrs.node).toBe(NODE_PUBLIC_KEYS)
    expect(list.getChild('publish')?.getChild('item')?.attrs.id).toBe('current')
  })
  it('refuses a date XEP-0082 cannot write (OX-PEP), in an item id and in the metadata list', async () => {
    for (const bad of [new Date(Number.NaN), d('+010000-01-01T00:00:00Z')]) {
      expect(await errorOf(() => publishPublicKeyRequest(A, new Uint8Array([1]), bad))).toMatchObject({
        name: 'DecryptionError',
        rule: 'OX-PEP',
      })
      expect(await errorOf(() => buildPublicKeysList([{ fingerprint: A, date: bad }]))).toMatchObject({
        name: 'DecryptionError',
        rule: 'OX-PEP',
      })
    }
  })
  it('access model whitelist for the secret key', () => {
    const req = publishSecretKeyRequest(new Uint8Array([1]))
    expect(req.getChild('publish')?.attrs.node).toBe(NODE_SECRET_KEY)
    expect(req.toString()).toContain('<value>whitelist</value>')
    expect(publishOptions('open').getChild('x', 'jabber:x:data')?.attrs.type).toBe('submit')
  })
})
