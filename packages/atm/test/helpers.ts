/**
 * Fixtures for ATM tests: JIDs, key ids (the XEP-0434 §2.6 example vectors for A1, A2, A3 and
 * B1, plus deterministic extra keys), backends and trust-message builders. No store import, so
 * other packages (the simulator) can import this file by relative path or copy it.
 */
import { sha1 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type {
  AccountTrustStore,
  BareJid,
  EncryptionNamespace,
  FullJid,
  KeyId,
  TrustLevel,
  TrustMessage,
} from '@vouch/tm-core'
import {
  NS_OMEMO_2,
  NS_OMEMO_LEGACY,
  NS_OX,
  parseBareJid,
  parseFullJid,
  parseKeyIdBase64,
} from '@vouch/tm-core'
import type { AtmBackend } from '../src/index.ts'
import { NS_ATM } from '../src/index.ts'

export const ALICE: BareJid = parseBareJid('alice@example.org')
export const BOB: BareJid = parseBareJid('bob@example.com')
export const CAROL: BareJid = parseBareJid('carol@example.net')
export const MALLORY: BareJid = parseBareJid('mallory@example.net')

export const ALICE_PHONE: FullJid = parseFullJid('alice@example.org/phone')
export const ALICE_LAPTOP: FullJid = parseFullJid('alice@example.org/laptop')
export const BOB_PHONE: FullJid = parseFullJid('bob@example.com/phone')
export const CAROL_PHONE: FullJid = parseFullJid('carol@example.net/phone')
export const MALLORY_PHONE: FullJid = parseFullJid('mallory@example.net/phone')

/** XEP-0434/0450 example keys (TM-ATM.md §2.6): Base64 as in trust messages. */
export const A1: KeyId = parseKeyIdBase64('883dkfJVAmUkg74v1fqqoA+AhorA1R1+67GwijiS4z0=')
export const A2: KeyId = parseKeyIdBase64('aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ=')
export const A3: KeyId = parseKeyIdBase64('IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA=')
export const B1: KeyId = parseKeyIdBase64('YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8=')
/** Bob's two distrusted keys in the XEP-0434 URI example. */
export const B_DISTRUSTED_1: KeyId = parseKeyIdBase64('tCP1CI3pqSTVGzFYFyPYUMfMZ9Ck/msmfD0wH/VtJBM=')
export const B_DISTRUSTED_2: KeyId = parseKeyIdBase64('2fhJtrgoMJxfLI3084/YkYh9paqiSiLFDVL2m0qAgX4=')

// platform-neutral (these tests also run in Chromium, tooling/browser-tests)
const base64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes))
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** A deterministic 32-byte (OMEMO 2) key id for a label, e.g. `omemoKey('B2')`. */
export function omemoKey(label: string): KeyId {
  return base64(sha256(utf8(`omemo:${label}`))) as KeyId
}

/** A deterministic 20-byte (OX v4 fingerprint) key id for a label. */
export function oxKey(label: string): KeyId {
  return base64(sha1(utf8(`ox:${label}`))) as KeyId
}

export const B2: KeyId = omemoKey('B2')
export const B3: KeyId = omemoKey('B3')
export const A4: KeyId = omemoKey('A4')
export const C1: KeyId = omemoKey('C1')
export const C2: KeyId = omemoKey('C2')
export const M1: KeyId = omemoKey('M1')

export const OMEMO: AtmBackend = Object.freeze({
  namespace: NS_OMEMO_2,
  capabilities: Object.freeze({ oneKeyPerIdentity: false, keyIdLength: 32 }),
})

/** OMEMO 0.3 as the engine sees it: one key per device, 32-byte ids, body text only (no trust messages). */
export const OMEMO_LEGACY: AtmBackend = Object.freeze({
  namespace: NS_OMEMO_LEGACY,
  capabilities: Object.freeze({ oneKeyPerIdentity: false, keyIdLength: 32, bodyOnly: true }),
})

/** A deterministic 32-byte OMEMO 0.3 (Curve25519, D-6) key id for a label. */
export function legacyKey(label: string): KeyId {
  return base64(sha256(utf8(`axolotl:${label}`))) as KeyId
}

export const OX: AtmBackend = Object.freeze({
  namespace: NS_OX,
  capabilities: Object.freeze({ oneKeyPerIdentity: true, keyIdLength: 20, signsTrustMessages: true }),
})

export interface OwnerSpec {
  readonly jid: BareJid
  readonly trust?: readonly KeyId[]
  readonly distrust?: readonly KeyId[]
}

/** A trust message for ATM (usage `urn:xmpp:atm:1`). */
export function trustMessage(encryption: EncryptionNamespace, owners: readonly OwnerSpec[]): TrustMessage {
  return {
    usage: NS_ATM,
    encryption,
    keyOwners: owners.map((o) => ({ jid: o.jid, trust: o.trust ?? [], distrust: o.distrust ?? [] })),
  }
}

/** Stores keys with a level (a manual decision made before the test starts). */
export async function seed(
  store: AccountTrustStore,
  encryption: EncryptionNamespace,
  owner: BareJid,
  keyIds: readonly KeyId[],
  level: TrustLevel,
  at = 0,
): Promise<void> {
  await store.setTrustLevels(encryption, [{ owner, keyIds, level }], { provenance: { kind: 'manual' }, at })
}

/** A controllable clock for `now`. */
export function testClock(start = Date.UTC(2021, 9, 4)): {
  now: () => number
  advance: (ms: number) => number
} {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
      return t
    },
  }
}
