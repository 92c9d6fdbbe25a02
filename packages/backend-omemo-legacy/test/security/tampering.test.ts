/**
 * Integrity: the Signal message is authenticated by its 8-byte HMAC (rule OMEMO03-MAC), the
 * payload by the AES-GCM tag carried in the key material (OMEMO03-PAYLOAD). A rejected copy
 * commits nothing (the ratchet step included), so the genuine copy still decrypts.
 */
import { Element } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { NS_AXOLOTL } from '../../src/wire.ts'
import {
  addressing,
  body,
  bodyText,
  clone,
  expectError,
  flip,
  flushEmpty,
  pair,
  snapshot,
} from '../helpers.ts'

async function established() {
  const [alice, bob] = await pair()
  await bob.backend.decrypt(
    (await alice.backend.encrypt(body('kex'), [bob.jid])).element,
    addressing(alice, bob),
  )
  await flushEmpty(bob, alice)
  return [alice, bob] as const
}

describe('tampering', () => {
  it('OMEMO03-MAC: a bit flipped in the Signal message is rejected, nothing changes, the genuine copy decrypts', async () => {
    const [alice, bob] = await established()
    const m = await alice.backend.encrypt(body('integrity'), [bob.jid])
    const before = await snapshot(bob)
    await expectError(
      bob.backend.decrypt(flip(m.element, 'key', 0.97), addressing(alice, bob)),
      'DecryptionError',
      'OMEMO03-MAC',
    )
    expect(await snapshot(bob)).toBe(before)
    expect(bodyText((await bob.backend.decrypt(m.element, addressing(alice, bob))).payload)).toBe('integrity')
  })

  it('a bit flipped in a key exchange is rejected and consumes no pre key', async () => {
    const [alice, bob] = await pair()
    const kex = await alice.backend.encrypt(body('kex'), [bob.jid])
    const before = await snapshot(bob)
    await expectError(
      bob.backend.decrypt(flip(kex.element, 'key', 0.97), addressing(alice, bob)),
      'DecryptionError',
    )
    expect(await snapshot(bob)).toBe(before)
    expect(bodyText((await bob.backend.decrypt(kex.element, addressing(alice, bob))).payload)).toBe('kex')
  })

  it('OMEMO03-PAYLOAD: a bit flipped in the payload is rejected, nothing changes, the genuine copy decrypts', async () => {
    const [alice, bob] = await established()
    const m = await alice.backend.encrypt(body('payload integrity'), [bob.jid])
    const before = await snapshot(bob)
    await expectError(
      bob.backend.decrypt(flip(m.element, 'payload'), addressing(alice, bob)),
      'DecryptionError',
      'OMEMO03-PAYLOAD',
    )
    expect(await snapshot(bob)).toBe(before)
    expect(bodyText((await bob.backend.decrypt(m.element, addressing(alice, bob))).payload)).toBe(
      'payload integrity',
    )
  })

  it('OMEMO03-PAYLOAD: another IV is rejected (GCM binds it)', async () => {
    const [alice, bob] = await established()
    const m = clone((await alice.backend.encrypt(body('iv'), [bob.jid])).element)
    const iv = m.getChild('header')?.getChild('iv') as Element
    const bytes = Buffer.from(iv.getText(), 'base64')
    bytes[0] = (bytes[0] as number) ^ 0x80
    iv.children = [bytes.toString('base64')]
    await expectError(bob.backend.decrypt(m, addressing(alice, bob)), 'DecryptionError', 'OMEMO03-PAYLOAD')
  })

  it('OMEMO03-PAYLOAD: a message whose <payload/> was stripped is not taken for an empty message', async () => {
    const [alice, bob] = await established()
    const m = await alice.backend.encrypt(body('stripped'), [bob.jid])
    const stripped = new Element('encrypted', { xmlns: NS_AXOLOTL })
    stripped.cnode(clone(m.element.getChild('header') as Element))
    const before = await snapshot(bob)
    await expectError(
      bob.backend.decrypt(stripped, addressing(alice, bob)),
      'DecryptionError',
      'OMEMO03-PAYLOAD',
    )
    expect(await snapshot(bob)).toBe(before)
    expect(bodyText((await bob.backend.decrypt(m.element, addressing(alice, bob))).payload)).toBe('stripped')
  })
})
