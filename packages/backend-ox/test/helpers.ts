/** Test parties: an account on a memory store with an OX backend and a key generated once. */
import type { AccountTrustStore, BareJid, Element, FullJid, StanzaAddressing } from '@vouch/tm-core'
import { memoryStore } from '@vouch/store-memory'
import { parseXml } from '@vouch/tm-core'
import type { OxBackend, OxInit } from '../src/index.ts'
import { oxBackend } from '../src/index.ts'

export const ALICE = 'alice@example.org' as BareJid
export const BOB = 'bob@example.org' as BareJid
export const MALLORY = 'mallory@example.net' as BareJid

export interface Party {
  readonly jid: BareJid
  readonly store: AccountTrustStore
  readonly ox: OxBackend
}

/** A party with a fresh key dated a year back (so tests may send "in the past"). */
export async function party(jid: BareJid, init: OxInit = {}): Promise<Party> {
  const store = memoryStore().forAccount(jid)
  const ox = oxBackend(init)({ store })
  await ox.generateOwnKey({ date: new Date(Date.now() - 365 * 24 * 3600 * 1000) })
  return { jid, store, ox }
}

/** Makes every party hold every other party's public key (as if fetched from PEP). */
export async function introduce(...parties: readonly Party[]): Promise<void> {
  for (const a of parties)
    for (const b of parties) if (a !== b) await a.ox.importPublicKey(b.jid, await b.ox.exportPublicKey())
}

export function body(text: string): Element {
  return parseXml(`<body xmlns='jabber:client'>${text}</body>`)
}

export const stanza = (from: BareJid, to: BareJid, resource = 'phone'): StanzaAddressing => ({
  from: `${from}/${resource}` as FullJid,
  to,
})
