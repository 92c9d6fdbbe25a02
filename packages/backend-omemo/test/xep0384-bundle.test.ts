/** XEP-0384 v0.9.1 §"Publishing" / §"Message structure": bundles, device lists, `<encrypted/>`, publish options. */
import type { BareJid, Element } from '@vouch/tm-core'
import { parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  buildBundle,
  buildDeviceList,
  buildEncrypted,
  NODE_BUNDLES,
  NODE_DEVICES,
  parseBundle,
  parseDeviceList,
  parseEncrypted,
  publishBundleRequest,
  publishDeviceListRequest,
} from '../src/xep0384.ts'
import { expectError, makeDevice } from './helpers.ts'

const field = (pubsub: Element, name: string): string | undefined =>
  pubsub
    .getChild('publish-options')
    ?.getChild('x')
    ?.getChildren('field')
    .find((f) => f.attrs.var === name)
    ?.getChildText('value') ?? undefined

describe('XEP-0384 bundle', () => {
  it('round-trips through XML text', async () => {
    const { bundle } = await makeDevice()
    const el = parseXml(buildBundle(bundle).toString())
    expect(parseBundle(el)).toEqual(bundle)
  })

  it('is published to urn:xmpp:omemo:2:bundles, item id = device id, max_items=max, access model open', async () => {
    const { bundle } = await makeDevice()
    const req = publishBundleRequest(31415, bundle)
    const publish = req.getChild('publish')
    expect(publish?.attrs.node).toBe(NODE_BUNDLES)
    expect(publish?.getChild('item')?.attrs.id).toBe('31415')
    expect(field(req, 'FORM_TYPE')).toBe('http://jabber.org/protocol/pubsub#publish-options')
    expect(field(req, 'pubsub#max_items')).toBe('max')
    expect(field(req, 'pubsub#access_model')).toBe('open')
  })

  it('rejects a bundle with a short identity key or without <prekeys/>', async () => {
    const { bundle } = await makeDevice()
    const text = buildBundle(bundle).toString()
    const ik = btoa(String.fromCharCode(...bundle.ik))
    await expectError(
      () => parseBundle(parseXml(text.replace(ik, 'AAAA'))),
      'DecryptionError',
      'OMEMO-BUNDLE',
    )
    await expectError(
      () => parseBundle(parseXml(text.replace(/<prekeys>.*<\/prekeys>/, ''))),
      'DecryptionError',
      'OMEMO-BUNDLE',
    )
  })
})

describe('XEP-0384 device list', () => {
  it('round-trips, labels only when given, published to item current with access model open', async () => {
    const list = [{ id: 1 }, { id: 2147483647, label: 'phone' }]
    expect(parseDeviceList(parseXml(buildDeviceList(list).toString()))).toEqual(list)
    expect(buildDeviceList([{ id: 5 }]).toString()).toBe(
      '<devices xmlns="urn:xmpp:omemo:2"><device id="5"/></devices>',
    )
    const req = publishDeviceListRequest(list)
    expect(req.getChild('publish')?.attrs.node).toBe(NODE_DEVICES)
    expect(req.getChild('publish')?.getChild('item')?.attrs.id).toBe('current')
    expect(field(req, 'pubsub#access_model')).toBe('open')
  })

  it('rejects device ids outside 1 … 2³¹−1', async () => {
    for (const id of ['0', '2147483648', '-1', 'x'])
      await expectError(
        () => parseDeviceList(parseXml(`<devices xmlns="urn:xmpp:omemo:2"><device id="${id}"/></devices>`)),
        'DecryptionError',
        'OMEMO-DEVICES',
      )
  })
})

describe('XEP-0384 <encrypted/>', () => {
  const jid = 'juliet@capulet.lit' as BareJid
  it("writes kex='true' and never kex='false' (python-twomemo 1.0.3 reads 'false' as true)", async () => {
    const el = buildEncrypted({
      sid: 27183,
      keys: new Map([
        [
          jid,
          [
            { rid: 31415, kex: true, data: Uint8Array.of(1) },
            { rid: 2, kex: false, data: Uint8Array.of(2) },
          ],
        ],
      ]),
      payload: Uint8Array.of(3),
    })
    const text = el.toString()
    expect(text).toBe(
      '<encrypted xmlns="urn:xmpp:omemo:2"><header sid="27183"><keys jid="juliet@capulet.lit"><key rid="31415" kex="true">AQ==</key><key rid="2">Ag==</key></keys></header><payload>Aw==</payload></encrypted>',
    )
    expect(text).not.toContain("kex='false'")
    const back = parseEncrypted(parseXml(text))
    expect(back.sid).toBe(27183)
    expect(back.keys.get(jid)?.map((k) => [k.rid, k.kex])).toEqual([
      [31415, true],
      [2, false],
    ])
    expect(back.payload).toEqual(Uint8Array.of(3))
  })

  it('an empty message has no <payload/>', async () => {
    const el = buildEncrypted({
      sid: 1,
      keys: new Map([[jid, [{ rid: 2, kex: false, data: Uint8Array.of(1) }]]]),
    })
    expect(el.getChild('payload')).toBeUndefined()
    expect(parseEncrypted(el).payload).toBeUndefined()
  })

  it('rejects a missing header, a bad sid and too many keys', async () => {
    await expectError(
      () => parseEncrypted(parseXml('<encrypted xmlns="urn:xmpp:omemo:2"/>')),
      'DecryptionError',
      'OMEMO-XML',
    )
    await expectError(
      () => parseEncrypted(parseXml('<encrypted xmlns="urn:xmpp:omemo:2"><header sid="0"/></encrypted>')),
      'DecryptionError',
      'OMEMO-XML',
    )
    const keys = Array.from({ length: 5 }, (_, i) => `<key rid="${i + 1}">AQ==</key>`).join('')
    await expectError(
      () =>
        parseEncrypted(
          parseXml(
            `<encrypted xmlns="urn:xmpp:omemo:2"><header sid="1"><keys jid="a@b">${keys}</keys></header></encrypted>`,
          ),
          { maxAccounts: 4, maxKeys: 4, maxKeyBytes: 64, maxPayloadBytes: 64, maxListEntries: 4 },
        ),
      'LimitExceededError',
      'LIMIT',
    )
  })
})
