/**
 * `vouch uri parse` reads a deployed client's fingerprint code (Conversations:
 * `xmpp:JID?omemo-sid-<device id>=<fingerprint>`, CFP-1 … CFP-4 in `@vouch/uri`) beside Trust
 * Message URIs, and names the OMEMO 0.3 devices it authenticates; a malformed one is one line
 * naming the rule, exit 2.
 */
import { describe, expect, it } from 'vitest'
import { vouch } from './helpers.ts'

const K1 = '1f'.repeat(32)
const K2 = 'a0'.repeat(32)

describe('vouch uri parse: Conversations fingerprint codes', () => {
  it('CFP-1/CFP-3: two devices, fingerprints with and without the 05 prefix', async () => {
    const r = await vouch(['uri', 'parse', `xmpp:bob@example.com?omemo-sid-1234=${K1};omemo-sid-99=05${K2}`])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      kind: 'fingerprint',
      jid: 'bob@example.com',
      encryption: 'eu.siacs.conversations.axolotl',
      trust: [K1, K2],
      distrust: [],
      devices: [
        { deviceId: 1234, key: K1 },
        { deviceId: 99, key: K2 },
      ],
    })
  })

  it('a Trust Message URI still prints exactly its four fields', async () => {
    const r = await vouch([
      'uri',
      'parse',
      `xmpp:bob@example.com?trust-message;encryption=urn:xmpp:omemo:2;trust=${K1}`,
    ])
    expect(r.code).toBe(0)
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['jid', 'encryption', 'trust', 'distrust'])
  })

  it.each([
    ['CFP-2', `xmpp:bob@example.com?omemo-sid-0123=${K1}`],
    ['CFP-3', `xmpp:bob@example.com?omemo-sid-5=${K1.slice(2)}`],
    ['CFP-4', `xmpp:bob@example.com?omemo-sid-5=${K1};omemo-sid-6=${K1}`],
  ])('%s: a malformed code is one line naming the rule, exit 2', async (rule, text) => {
    const r = await vouch(['uri', 'parse', text])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr.startsWith(`${rule}: `)).toBe(true)
  })
})
