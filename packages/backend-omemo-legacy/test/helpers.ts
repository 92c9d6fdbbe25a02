import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, FullJid, StanzaAddressing, TrustLevel } from '@vouch/tm-core'
import { Element, parseXml } from '@vouch/tm-core'
import { type LegacyOmemoBackend, legacyOmemoBackend } from '../src/backend.ts'
import { nodeLibsignal } from '../src/node-curve.ts'
import { NS_AXOLOTL } from '../src/wire.ts'

/** The Node providers for the whole test process (libsignal's setCurve and setWebCrypto are global). */
export const { curve, webCrypto } = nodeLibsignal()

export interface Party {
  readonly jid: BareJid
  readonly store: AccountTrustStore
  readonly backend: LegacyOmemoBackend
  readonly deviceId: number
}

export async function party(
  jid: string,
  init: Parameters<typeof legacyOmemoBackend>[0] = {},
): Promise<Party> {
  const store = memoryStore().forAccount(jid as BareJid)
  const backend = legacyOmemoBackend({ curve, webCrypto, preKeyCount: 20, ...init })({ store })
  const { deviceId } = await backend.createDevice()
  await backend.importDeviceList(jid as BareJid, [deviceId])
  return { jid: jid as BareJid, store, backend, deviceId }
}

/**
 * `a` learns `b`'s device list and bundle (as if fetched from PEP) and records b's key at
 * `level` (standing in for ATM `keysDiscovered`; the backend writes no level).
 */
export async function introduce(
  a: Party,
  b: Party,
  level: TrustLevel = 'automatically-trusted',
): Promise<void> {
  await a.backend.importDeviceList(b.jid, await b.backend.ownDeviceList())
  const keyId = await a.backend.importBundle(b.jid, b.deviceId, await b.backend.ownBundle())
  await a.store.addKeys(
    NS_AXOLOTL,
    b.jid,
    [keyId],
    { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
    level,
  )
}

export async function pair(a = 'alice@example.org', b = 'bob@example.org'): Promise<[Party, Party]> {
  const alice = await party(a)
  const bob = await party(b)
  await introduce(alice, bob)
  await introduce(bob, alice)
  return [alice, bob]
}

export const body = (text: string): Element => new Element('body', { xmlns: 'jabber:client' }).t(text)

export const addressing = (from: Party, to: Party): StanzaAddressing => ({
  from: `${from.jid}/res` as FullJid,
  to: to.jid,
})

export function bodyText(payload: readonly Element[]): string | undefined {
  const b = payload.find((e) => e.name === 'body')
  return b?.children.filter((c): c is string => typeof c === 'string').join('')
}

/** Delivers every empty message `from` owes (key exchange answers, heartbeats) to `to`. */
export async function flushEmpty(from: Party, to: Party): Promise<number> {
  let n = 0
  for (const m of await from.backend.takeEmptyMessages()) {
    if (m.to !== to.jid) continue
    const r = await to.backend.decrypt(m.element, addressing(from, to))
    if (r.sessionOnly !== true) throw new Error('an empty message decrypted to content')
    n++
  }
  return n
}

/** Asserts that `p` rejects with an error of `name` and `rule`; returns it. */
export async function expectError(
  p: Promise<unknown>,
  name: string,
  rule?: string,
): Promise<Error & { rule?: string }> {
  let caught: unknown
  try {
    await p
  } catch (e) {
    caught = e
  }
  if (!(caught instanceof Error))
    throw new Error(`expected ${name}${rule ? ` (${rule})` : ''}, nothing was thrown`)
  const e = caught as Error & { rule?: string }
  if (e.name !== name || (rule !== undefined && e.rule !== rule))
    throw new Error(`expected ${name} ${rule ?? ''}, got ${e.name} ${e.rule ?? ''}: ${e.message}`)
  return e
}

/** Every backend state entry of a party (namespace `omemo03`), to show a rejection changed nothing. */
export async function snapshot(p: Party): Promise<string> {
  const keys = await p.store.listState('omemo03', '')
  const out: string[] = []
  for (const k of [...keys].sort())
    out.push(`${k}=${Buffer.from((await p.store.getState('omemo03', k)) ?? []).toString('base64')}`)
  return out.join('\n')
}

/** A copy of `el` (through its XML text). */
export function clone(el: Element): Element {
  return parseXml(el.toString())
}

/** A copy of `el` with one bit flipped in the Base64 text of its `<payload/>` or first `<key/>`. */
export function flip(el: Element, name: 'payload' | 'key', at = 0.5): Element {
  const copy = clone(el)
  const target = name === 'payload' ? copy.getChild('payload') : copy.getChild('header')?.getChild('key')
  if (target === undefined) throw new Error(`no <${name}/>`)
  const bytes = Buffer.from(target.getText(), 'base64')
  const i = Math.min(bytes.length - 1, Math.floor(bytes.length * at))
  bytes[i] = (bytes[i] as number) ^ 0x01
  target.children = [bytes.toString('base64')]
  return copy
}
