import { memoryStore } from '@vouch/store-memory'
import type { BareJid, Element, FullJid } from '@vouch/tm-core'
import { Element as XmlElement } from '@vouch/tm-core'
import { type OmemoBackend, omemoBackend, type OmemoInit } from '../../src/index.ts'
import {
  acceptKeyExchange,
  createActiveSession,
  parseKeyExchange,
  sessionDecrypt,
  sessionEncrypt,
} from '../../src/session.ts'
import { introduce, makeDevice, provider as p } from '../helpers.ts'

/** An established pair of sessions (alice initiated, bob answered). */
export async function establishedPair() {
  const alice = await makeDevice()
  const bob = await makeDevice()
  const a = await createActiveSession(p, alice.identity, bob.bundle)
  const kex = parseKeyExchange(sessionEncrypt(p, a, new Uint8Array(48)).bytes)
  const { session: b } = await acceptKeyExchange(p, bob.identity, kex, {
    spk: bob.spk,
    pkPriv: bob.pks.get(kex.pkId)?.priv as Uint8Array,
  })
  await sessionDecrypt(p, a, sessionEncrypt(p, b, new Uint8Array(32)).bytes)
  return { alice, bob, a, b }
}

export async function backendPair(init: OmemoInit = {}) {
  const make = async (jid: BareJid) => {
    const store = memoryStore().forAccount(jid)
    const backend: OmemoBackend = omemoBackend({ preKeyCount: 25, ...init })({ store })
    await backend.createDevice()
    return { jid, store, backend }
  }
  const alice = await make('alice@example.org' as BareJid)
  const bob = await make('bob@example.org' as BareJid)
  // each fetches the other's device list and bundle; ATM (stood in for) records the keys
  await introduce(alice, bob.jid, [bob.backend])
  await introduce(bob, alice.jid, [alice.backend])
  return { alice, bob }
}

export const body = (t: string): Element => new XmlElement('body', { xmlns: 'jabber:client' }).t(t)
export const stanza = (from: BareJid, to: BareJid) => ({ from: `${from}/r` as FullJid, to })
