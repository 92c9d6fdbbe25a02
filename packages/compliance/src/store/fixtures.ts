/** Shared names, keys and builders for the store suite. */
import type {
  AccountTrustStore,
  BareJid,
  ChangeContext,
  EncryptionNamespace,
  KeyId,
  Polarity,
  PostponedDecision,
  Provenance,
  TrustStore,
} from '@vouch/tm-core'
import { NS_OMEMO_2, NS_OX, parseBareJid, parseKeyIdBase64 } from '@vouch/tm-core'
import type { StoreCreateOptions } from './types.ts'

/** What every test group gets from the suite: the fresh store of the running test. */
export interface SuiteContext {
  /** The store created for the running test. */
  store(): TrustStore
  /** `store().forAccount(ALICE)`. */
  alice(): AccountTrustStore
  /** Another store made with `options`, destroyed after the test. */
  createStore(options: StoreCreateOptions): Promise<TrustStore>
}

export const OMEMO: EncryptionNamespace = NS_OMEMO_2
export const OX: EncryptionNamespace = NS_OX

export const ALICE: BareJid = parseBareJid('alice@example.org')
export const BOB: BareJid = parseBareJid('bob@example.com')
export const CAROL: BareJid = parseBareJid('carol@example.net')
export const DAVE: BareJid = parseBareJid('dave@example.net')

/** A canonical 32-byte key id whose Base64 is `c` repeated: ids sort like their letters. */
export const K = (c: string): KeyId => parseKeyIdBase64(`${c.repeat(42)}A=`)

// XEP-0434/XEP-0450 example keys (TM-ATM.md §2.6).
export const A1 = parseKeyIdBase64('883dkfJVAmUkg74v1fqqoA+AhorA1R1+67GwijiS4z0=')
export const A2 = parseKeyIdBase64('aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ=')
export const A3 = parseKeyIdBase64('IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA=')
export const B1 = parseKeyIdBase64('YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8=')
export const B2 = parseKeyIdBase64('tCP1CI3pqSTVGzFYFyPYUMfMZ9Ck/msmfD0wH/VtJBM=')
export const B3 = parseKeyIdBase64('2fhJtrgoMJxfLI3084/YkYh9paqiSiLFDVL2m0qAgX4=')

/** Sender keys of endpoints whose trust messages get postponed. */
export const S1 = K('S')
export const S2 = K('T')
export const S3 = K('U')

export const T0 = 1_700_000_000_000

export const manual = (at = T0): ChangeContext => ({ provenance: { kind: 'manual' }, at })
export const byAtm = (senderKey: KeyId, at = T0, senderJid: BareJid = ALICE): ChangeContext => ({
  provenance: { kind: 'atm', senderJid, senderKey },
  at,
})

export const PROVENANCES: readonly Provenance[] = [
  { kind: 'manual' },
  { kind: 'uri', source: 'scan' },
  { kind: 'atm', senderJid: ALICE, senderKey: A2 },
  { kind: 'policy', policy: 'toakafa' },
]

export interface DecisionInit {
  readonly senderKey: KeyId
  readonly owner: BareJid
  readonly keyId: KeyId
  readonly polarity: Polarity
  readonly sceTime: number
  readonly receivedAt?: number
  readonly senderJid?: BareJid
  readonly encryption?: EncryptionNamespace
}

/** A postponed decision; `receivedAt` defaults to one second after `sceTime`. */
export function decision(d: DecisionInit): PostponedDecision {
  return {
    encryption: d.encryption ?? OMEMO,
    senderKey: d.senderKey,
    senderJid: d.senderJid ?? ALICE,
    owner: d.owner,
    keyId: d.keyId,
    polarity: d.polarity,
    sceTime: d.sceTime,
    receivedAt: d.receivedAt ?? d.sceTime + 1000,
  }
}

/** Only the D-8 key, polarity and SCE time: what most assertions compare. */
export const brief = (d: PostponedDecision): string =>
  `${d.encryption} ${d.senderKey.slice(0, 2)} ${d.owner} ${d.keyId.slice(0, 2)} ${d.polarity} @${d.sceTime - T0}`

export const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

/** Resolves after the current macrotask queue drained (lets queued promises run). */
export const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

/** A promise plus its resolver, to hold a transaction open. */
export function gate(): { readonly wait: Promise<void>; open(): void } {
  let open = (): void => {}
  const wait = new Promise<void>((resolve) => {
    open = resolve
  })
  return { wait, open }
}

/**
 * Writes one of every kind of data (keys, levels, D-11 flag, own key, policy, postponed,
 * last-applied, backend state) for `enc`, so isolation and rollback tests cover every method.
 * Returns nothing: compare {@link snapshot}s.
 */
export async function writeEverything(
  s: AccountTrustStore,
  enc: EncryptionNamespace,
  at = T0,
): Promise<void> {
  await s.setSecurityPolicy(enc, 'authenticated-only')
  await s.setOwnKey(enc, A1)
  await s.addKeys(enc, ALICE, [A2, A3], manual(at))
  await s.setTrustLevels(enc, [{ owner: BOB, keyIds: [B1], level: 'authenticated' }], manual(at))
  await s.changeTrustLevels(enc, [ALICE], 'automatically-distrusted', 'manually-trusted', manual(at + 1))
  await s.addPostponed([
    decision({ encryption: enc, senderKey: S1, owner: BOB, keyId: B2, polarity: 'trust', sceTime: at }),
  ])
  await s.setLastApplied(enc, A2, BOB, B1, at)
  await s.setState(`ns:${enc}`, 'session/1', bytes(1, 2, 3))
}

/** Everything {@link writeEverything} can have written, read back through every getter. */
export async function snapshot(s: AccountTrustStore, enc: EncryptionNamespace): Promise<unknown> {
  return {
    policy: await s.getSecurityPolicy(enc),
    ownKey: await s.getOwnKey(enc),
    keys: await s.getKeys(enc),
    key: await s.getKey(enc, BOB, B1),
    level: await s.getTrustLevel(enc, BOB, B1),
    hasAlice: await s.hasKey(enc, ALICE),
    hasBob: await s.hasKey(enc, BOB),
    onceBob: await s.wasAuthenticatedOnce(enc, BOB),
    postponed: await s.getPostponed(enc),
    lastApplied: await s.getLastApplied(enc, A2, BOB, B1),
    stateKeys: await s.listState(`ns:${enc}`),
    state: await s.getState(`ns:${enc}`, 'session/1'),
  }
}

/** The {@link snapshot} of an account that holds nothing for an encryption. */
export const EMPTY_SNAPSHOT: unknown = Object.freeze({
  policy: undefined,
  ownKey: undefined,
  keys: [],
  key: undefined,
  level: 'undecided',
  hasAlice: false,
  hasBob: false,
  onceBob: false,
  postponed: [],
  lastApplied: undefined,
  stateKeys: [],
  state: undefined,
})
