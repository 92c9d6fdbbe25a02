/** Test parties: an account on a memory store with an OX backend and a key generated once. */
import { memoryStore } from '@vouch/store-memory'
import type {
  AccountTrustStore,
  BareJid,
  Element,
  FullJid,
  StanzaAddressing,
  TrustLevel,
} from '@vouch/tm-core'
import { NS_OX, parseXml } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import type { KeyInput, OxBackend, OxImportResult, OxInit } from '../src/index.ts'
import { OX_REPLAY_STATE_NAMESPACE, openpgpElement, oxBackend } from '../src/index.ts'
import { decodeReplayMeta, REPLAY_RECORD_BYTES, replayBucketNamespace } from '../src/replay.ts'

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

/**
 * Makes every party hold every other party's public key (as if fetched from PEP), registered as
 * ATM's `keysDiscovered` would under TOAKAFA (see {@link discovered}).
 */
export async function introduce(...parties: readonly Party[]): Promise<void> {
  for (const a of parties)
    for (const b of parties) if (a !== b) await importKey(a.ox, a.store, b.jid, await b.ox.exportPublicKey())
}

/**
 * Test fixture: a fresh {@link party} per JID, each holding the others' public keys as ATM would
 * register them ({@link introduce}). At a test file's top level for parties shared by its tests
 * (`const [alice, bob] = await introducedParties(ALICE, BOB)`), or in a `beforeEach` for fresh
 * ones per test.
 */
export async function introducedParties<const J extends readonly BareJid[]>(
  ...jids: J
): Promise<{ -readonly [K in keyof J]: Party }> {
  const parties = await Promise.all(jids.map((jid) => party(jid)))
  await introduce(...parties)
  return parties as { -readonly [K in keyof J]: Party }
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

/**
 * Stands in for ATM `keysDiscovered` (the only writer of trust levels): registers the usable keys
 * an import reported at `level` — `automatically-trusted` is what TOAKAFA gives a key of an owner
 * never authenticated. The backend itself writes no level.
 */
export async function discovered(
  store: AccountTrustStore,
  results: readonly OxImportResult[],
  level: TrustLevel = 'automatically-trusted',
): Promise<void> {
  for (const r of results)
    if (r.status.usable)
      await store.addKeys(
        NS_OX,
        r.owner,
        [r.info.keyId],
        { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
        level,
      )
}

/** `importPublicKey`, then the stand-in for ATM `keysDiscovered` ({@link discovered}). */
export async function importKey(
  ox: OxBackend,
  store: AccountTrustStore,
  owner: BareJid,
  input: KeyInput,
  level?: TrustLevel,
): Promise<OxImportResult[]> {
  const results = await ox.importPublicKey(owner, input)
  await discovered(store, results, level)
  return results
}

/**
 * Everything the replay memory stores: every key of its namespace (`meta`) by key, and the shards
 * of each bucket `meta` lists as `<namespace> <key>`, as hex.
 */
export async function replayMemory(store: AccountTrustStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex')
  for (const k of await store.listState(OX_REPLAY_STATE_NAMESPACE))
    out[k] = hex(await store.getState(OX_REPLAY_STATE_NAMESPACE, k))
  const meta = await store.getState(OX_REPLAY_STATE_NAMESPACE, 'meta')
  for (const bucket of decodeReplayMeta(meta).buckets.keys()) {
    const ns = replayBucketNamespace(bucket)
    for (const k of await store.listState(ns)) out[`${ns} ${k}`] = hex(await store.getState(ns, k))
  }
  return out
}

/** Number of messages the replay memory holds (records in its shards). */
export async function rememberedMessages(store: AccountTrustStore): Promise<number> {
  let n = 0
  for (const [k, v] of Object.entries(await replayMemory(store)))
    if (k !== 'meta') n += v.length / 2 / REPLAY_RECORD_BYTES
  return n
}
