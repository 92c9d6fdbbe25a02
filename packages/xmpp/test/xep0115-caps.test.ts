import { describe, expect, it } from 'vitest'
import { capsVerification } from '../src/index.ts'

describe('XEP-0115 §5.2 verification string', () => {
  it('XEP-0115 §5.2 simple example: Exodus 0.9.1 hashes to QgayPKawpkPSDYmwT/WM94uAlu0=', () => {
    const ver = capsVerification({
      identities: [{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }],
      features: [
        'http://jabber.org/protocol/disco#info',
        'http://jabber.org/protocol/disco#items',
        'http://jabber.org/protocol/muc',
        'http://jabber.org/protocol/caps',
      ],
    })
    expect(ver).toBe('QgayPKawpkPSDYmwT/WM94uAlu0=')
  })
})
