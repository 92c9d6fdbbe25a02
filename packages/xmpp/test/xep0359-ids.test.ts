import type { BareJid } from '@vouch/tm-core'
import xml from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { dedupKeys } from '../src/xep0359-ids.ts'

const alice = 'alice@example.org' as BareJid

describe('XEP-0359 dedup keys', () => {
  it("only trusts a stanza-id added by the own account's archive (§5), and scopes origin-id by sender", () => {
    const m = xml(
      'message',
      { from: 'bob@example.org/B1' },
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: 'mallory@example.org', id: 'forged' }),
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: alice, id: 'real' }),
      xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'o1' }),
    )
    expect(dedupKeys(m, alice)).toEqual(['sid:real', 'oid:bob@example.org:o1'])
    expect(dedupKeys(m, alice, 'archived')).toEqual(['sid:archived', 'oid:bob@example.org:o1'])
  })
})
