/** Test parties: an account on a memory store with an OX backend and a key generated once. */
import type { AccountTrustStore, BareJid, Element, FullJid, StanzaAddressing } from '@vouch/tm-core'
import { memoryStore } from '@vouch/store-memory'
import { parseXml } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import type { OxBackend, OxInit } from '../src/index.ts'
import { openpgpElement, oxBackend } from '../src/index.ts'

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

/** A hand-made `<openpgp/>` (what another client, or an attacker, could send). */
export async function rawOpenpgp(init: {
  readonly content: string
  readonly encryptTo?: readonly openpgp.PublicKey[]
  readonly signWith?: openpgp.PrivateKey
  readonly date?: Date
  readonly compress?: boolean
}): Promise<Element> {
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode(init.content) })
  const config =
    init.compress === true ? { preferredCompressionAlgorithm: openpgp.enums.compression.zlib } : {}
  const date = init.date === undefined ? {} : { date: init.date }
  if (init.encryptTo === undefined) {
    if (init.signWith === undefined) throw new Error('nothing to do')
    const bytes = await openpgp.sign({
      message,
      signingKeys: init.signWith,
      format: 'binary',
      config,
      ...date,
    })
    return openpgpElement(bytes)
  }
  const bytes = await openpgp.encrypt({
    message,
    encryptionKeys: [...init.encryptTo],
    ...(init.signWith === undefined ? {} : { signingKeys: init.signWith }),
    format: 'binary',
    config,
    ...date,
  })
  return openpgpElement(bytes)
}

/** An OX content element as text, for hand-made messages. */
export function contentXml(
  mode: 'signcrypt' | 'sign' | 'crypt',
  to: readonly string[],
  time: Date,
  bodyText = 'hi',
): string {
  const tos = to.map((j) => `<to jid='${j}'/>`).join('')
  return `<${mode} xmlns='urn:xmpp:openpgp:0'>${tos}<time stamp='${time.toISOString()}'/><rpad>pad</rpad><payload><body xmlns='jabber:client'>${bodyText}</body></payload></${mode}>`
}

/** The rejection of a promise, for assertions on `name` and `rule`. */
export async function rejectionOf(
  p: Promise<unknown>,
): Promise<{ name: string; rule?: string; message: string }> {
  try {
    await p
  } catch (e) {
    return e as { name: string; rule?: string; message: string }
  }
  throw new Error('expected a rejection')
}

/** A party whose private key object is reachable (to craft raw messages with it). */
export async function ownPrivate(p: Party): Promise<openpgp.PrivateKey> {
  const info = await p.ox.ownKeyInfo()
  const bytes = await p.store.getState('ox', `secret:${info?.fingerprint}`)
  if (bytes === undefined) throw new Error('no own key')
  return openpgp.readPrivateKey({ binaryKey: bytes })
}
