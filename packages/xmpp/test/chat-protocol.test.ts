/**
 * The both-versions send rule (issue 12 point 6, `src/chat-protocol.ts`, README "Sending chat
 * messages"), over stand-in backends that only declare keys and announced endpoints.
 */
import type { BareJid, EncryptionBackend, KeyId } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { chooseChatProtocol } from '../src/chat-protocol.ts'

const BOB = 'bob@example.com' as BareJid

function backend(
  namespace: string,
  keys: readonly string[],
  endpoints: readonly string[] | undefined,
): EncryptionBackend {
  return {
    namespace,
    capabilities: { oneKeyPerIdentity: endpoints === undefined, keyIdLength: 32 },
    ownKeys: async () => [],
    keysOf: async () => keys as readonly KeyId[],
    encrypt: () => Promise.reject(new Error('not here')),
    decrypt: () => Promise.reject(new Error('not here')),
    endpointsOf: async () => endpoints,
  }
}

describe('chooseChatProtocol: both OMEMO versions on one account', () => {
  it('rule 3: OMEMO 2 when every device of the contact has it', async () => {
    const o2 = backend('urn:xmpp:omemo:2', ['k1', 'k2'], ['11', '22'])
    const o3 = backend('eu.siacs.conversations.axolotl', ['x1', 'x2'], ['11', '22'])
    expect(await chooseChatProtocol([o2, o3], BOB)).toEqual({ backend: o2, unreached: [] })
  })

  it('rule 3: OMEMO 0.3 when one device has only OMEMO 0.3 (a Conversations phone beside a Vouch laptop)', async () => {
    const o2 = backend('urn:xmpp:omemo:2', ['k1'], ['11'])
    const o3 = backend('eu.siacs.conversations.axolotl', ['x1', 'x2'], ['11', '22'])
    expect(await chooseChatProtocol([o2, o3], BOB)).toEqual({ backend: o3, unreached: [] })
  })

  it('rule 3: OMEMO 0.3 for a contact with no OMEMO 2 at all', async () => {
    const o2 = backend('urn:xmpp:omemo:2', [], [])
    const o3 = backend('eu.siacs.conversations.axolotl', ['x1'], ['22'])
    expect(await chooseChatProtocol([o2, o3], BOB)).toEqual({ backend: o3, unreached: [] })
  })

  it('rule 4: never silently fewer devices — when no protocol reaches all, the best one is chosen and the missed devices are reported', async () => {
    const o2 = backend('urn:xmpp:omemo:2', ['k1', 'k2'], ['11', '33'])
    const o3 = backend('eu.siacs.conversations.axolotl', ['x1'], ['22'])
    expect(await chooseChatProtocol([o2, o3], BOB)).toEqual({ backend: o2, unreached: ['22'] })
    // preference breaks a tie
    const o3b = backend('eu.siacs.conversations.axolotl', ['x1', 'x3'], ['22', '44'])
    const o2b = backend('urn:xmpp:omemo:2', ['k1', 'k2'], ['11', '33'])
    expect(await chooseChatProtocol([o2b, o3b], BOB)).toEqual({ backend: o2b, unreached: ['22', '44'] })
  })

  it('rule 2: a device list entry without a usable key does not make a backend cover the contact', async () => {
    const o2 = backend('urn:xmpp:omemo:2', [], ['11', '22'])
    const o3 = backend('eu.siacs.conversations.axolotl', ['x1', 'x2'], ['11', '22'])
    expect((await chooseChatProtocol([o2, o3], BOB)).backend).toBe(o3)
  })

  it('rule 2: a protocol without endpoints (OX, one key per identity) covers the contact when it has its key', async () => {
    const ox = backend('urn:xmpp:openpgp:0', ['fp'], undefined)
    const o2 = backend('urn:xmpp:omemo:2', ['k1'], ['11'])
    expect(await chooseChatProtocol([ox, o2], BOB)).toEqual({ backend: ox, unreached: [] })
    expect(await chooseChatProtocol([o2, ox], BOB)).toEqual({ backend: o2, unreached: [] })
  })

  it('rule 5: no key anywhere: the first backend (it fails with its own error)', async () => {
    const o2 = backend('urn:xmpp:omemo:2', [], [])
    const o3 = backend('eu.siacs.conversations.axolotl', [], [])
    expect(await chooseChatProtocol([o2, o3], BOB)).toEqual({ backend: o2, unreached: [] })
  })
})
