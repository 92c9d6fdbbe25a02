/**
 * The OX backend state: key material in the account's store (`getState('ox', …)`) and the parse
 * cache over it. No trust levels are written here (ATM is their only writer, D-11):
 * - `own`                 → UTF-8 upper-hex fingerprint of our current key;
 * - `secret:<FPR>`        → our transferable secret keys (unprotected: see README "Security");
 * - `key:<owner>:<FPR>`   → public keys of `owner` (contacts and our other keys), merged with
 *                           every update (`key.update()`: revocations stick).
 */
import type { AccountTrustStore, BareJid, KeyId } from '@vouch/tm-core'
import { InvalidKeyIdError } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import type { Key, PrivateKey, PublicKey } from 'openpgp'
import { OX_STATE_NAMESPACE } from './constants.ts'
import type { KeyStatus, OxKeyInfo } from './keys.ts'
import { fingerprintOf, keyIdOf, keyInfo, keyStatus } from './keys.ts'

/** A key we hold for somebody, with its lookup status. */
export interface OxKnownKey {
  readonly owner: BareJid
  readonly info: OxKeyInfo
  readonly status: KeyStatus
}

/**
 * A parsed key of the backend state, per backend instance (hence per account) and per state key
 * (`secret:<FPR>`, `key:<owner>:<FPR>`). Every use re-reads the stored bytes and compares them with
 * `bytes`: a write through another instance or process (an update, a revocation, a removal)
 * replaces or drops the entry, so only the parsing is cached, never the state itself.
 */
export interface CachedKey {
  readonly bytes: Uint8Array
  readonly key: Key
  /** upper-case hex fingerprint and its key id (D-6), computed once per parse */
  readonly fingerprint: string
  readonly keyId: KeyId
  /** the key itself when public; the public view of a secret key, made once */
  readonly publicKey: PublicKey
  /** the lookup rules' verdict, valid for dates in `[at, until)` (until the earliest expiry) */
  status?: { readonly at: number; readonly until: number; readonly status: KeyStatus }
}

/** v4 keys, SEIPD v1: what GnuPG 2.2 and Sequoia 0.27 read (OX.md). */
export const OPENPGP_CONFIG = { aeadProtect: false, v6Keys: false } as const

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const decoder = new TextDecoder()

/** The key material of one account: reads and writes go through `store` or a transaction of it. */
export class OxState {
  readonly #cache = new Map<string, CachedKey>()
  /** the account's store (a transaction is passed per call where one joins it) */
  readonly store: AccountTrustStore
  readonly account: BareJid

  constructor(store: AccountTrustStore, account: BareJid) {
    this.store = store
    this.account = account
  }

  /**
   * The stored key under `stateKey`, parsed only when its bytes changed (see {@link CachedKey}).
   * `store` is the account, or a transaction (whose own writes it then sees). The cache is only a
   * parse memo checked against the bytes read, so an entry from a transaction that rolled back is
   * never served for other bytes.
   */
  async entry(
    stateKey: string,
    kind: 'public' | 'private',
    store: AccountTrustStore = this.store,
  ): Promise<CachedKey | undefined> {
    const bytes = await store.getState(OX_STATE_NAMESPACE, stateKey)
    if (bytes === undefined) {
      this.#cache.delete(stateKey)
      return undefined
    }
    const cached = this.#cache.get(stateKey)
    if (cached !== undefined && sameBytes(cached.bytes, bytes)) return cached
    const key =
      kind === 'private'
        ? await openpgp.readPrivateKey({ binaryKey: bytes })
        : await openpgp.readKey({ binaryKey: bytes })
    return this.#remember(stateKey, bytes, key)
  }

  #remember(stateKey: string, bytes: Uint8Array, key: Key): CachedKey {
    const entry: CachedKey = {
      bytes,
      key,
      fingerprint: fingerprintOf(key),
      keyId: keyIdOf(key),
      publicKey: key.isPrivate() ? key.toPublic() : (key as PublicKey),
    }
    this.#cache.set(stateKey, entry)
    return entry
  }

  async load(
    stateKey: string,
    kind: 'public' | 'private',
    store: AccountTrustStore = this.store,
  ): Promise<Key | undefined> {
    return (await this.entry(stateKey, kind, store))?.key
  }

  async save(stateKey: string, key: Key, store: AccountTrustStore): Promise<void> {
    const bytes = key.write()
    await store.setState(OX_STATE_NAMESPACE, stateKey, bytes)
    this.#remember(stateKey, bytes, key)
  }

  /** Drops the parse of `stateKey` (after it was deleted). */
  forget(stateKey: string): void {
    this.#cache.delete(stateKey)
  }

  /**
   * Lookup rules with a cache on the parsed key: a verdict holds until the key's earliest expiry
   * (a new parse, e.g. after an update or a revocation, starts without a verdict).
   */
  async status(entry: CachedKey, jid: BareJid, date: Date): Promise<KeyStatus> {
    const t = date.getTime()
    const cached = entry.status
    if (cached !== undefined && t >= cached.at && t < cached.until) return cached.status
    const key = entry.key
    const status = await keyStatus(key, jid, date)
    let until = Number.POSITIVE_INFINITY
    const exp = await key.getExpirationTime().catch(() => null)
    if (exp instanceof Date) until = Math.min(until, exp.getTime())
    for (const sub of key.subkeys) {
      const e = await sub.getExpirationTime(date).catch(() => null)
      if (e instanceof Date) until = Math.min(until, e.getTime())
    }
    entry.status = { at: Math.max(key.getCreationTime().getTime(), 0), until, status }
    return status
  }

  async ownFingerprint(store: AccountTrustStore = this.store): Promise<string | undefined> {
    const bytes = await store.getState(OX_STATE_NAMESPACE, 'own')
    return bytes === undefined ? undefined : decoder.decode(bytes)
  }

  /** Our current key (its secret key entry), if any. */
  async ownEntry(store: AccountTrustStore = this.store): Promise<CachedKey | undefined> {
    const fpr = await this.ownFingerprint(store)
    return fpr === undefined ? undefined : this.entry(`secret:${fpr}`, 'private', store)
  }

  async ownPrivate(): Promise<PrivateKey | undefined> {
    return (await this.ownEntry())?.key as PrivateKey | undefined
  }

  /** @throws InvalidKeyIdError  OX-OWN-KEY */
  async requireOwnEntry(store: AccountTrustStore = this.store): Promise<CachedKey> {
    const own = await this.ownEntry(store)
    if (own === undefined)
      throw new InvalidKeyIdError('OX-OWN-KEY', `${this.account} has no OX key yet: generate or restore one`)
    return own
  }

  /** @throws InvalidKeyIdError  OX-OWN-KEY */
  async requireOwn(store: AccountTrustStore = this.store): Promise<PrivateKey> {
    return (await this.requireOwnEntry(store)).key as PrivateKey
  }

  async allSecretKeys(store: AccountTrustStore = this.store): Promise<PrivateKey[]> {
    const out: PrivateKey[] = []
    for (const k of await store.listState(OX_STATE_NAMESPACE, 'secret:')) {
      const entry = await this.entry(k, 'private', store)
      if (entry !== undefined) out.push(entry.key as PrivateKey)
    }
    return out
  }

  /** Stored public keys of `owner`. */
  async publicEntries(owner: BareJid, store: AccountTrustStore = this.store): Promise<CachedKey[]> {
    const out: CachedKey[] = []
    for (const k of await store.listState(OX_STATE_NAMESPACE, `key:${owner}:`)) {
      const entry = await this.entry(k, 'public', store)
      if (entry !== undefined) out.push(entry)
    }
    return out
  }

  /** Usable keys of `owner` (for our own account: our current secret key first). */
  async usableKeys(owner: BareJid, date: Date, store: AccountTrustStore = this.store): Promise<CachedKey[]> {
    const out: CachedKey[] = []
    const seen = new Set<string>()
    if (owner === this.account) {
      const own = await this.ownEntry(store)
      if (own !== undefined && (await this.status(own, owner, date)).usable) {
        out.push(own)
        seen.add(own.fingerprint)
      }
    }
    for (const entry of await this.publicEntries(owner, store)) {
      if (seen.has(entry.fingerprint)) continue
      if ((await this.status(entry, owner, date)).usable) {
        out.push(entry)
        seen.add(entry.fingerprint)
      }
    }
    return out
  }

  /** Every key we hold for `owner` (usable or not), with its lookup status at `now`. */
  async knownKeys(owner: BareJid, now: Date, store: AccountTrustStore = this.store): Promise<OxKnownKey[]> {
    const out: OxKnownKey[] = []
    if (owner === this.account) {
      const own = await this.ownEntry(store)
      if (own !== undefined)
        out.push({ owner, info: keyInfo(own.key), status: await this.status(own, owner, now) })
    }
    for (const entry of await this.publicEntries(owner, store))
      out.push({ owner, info: keyInfo(entry.key), status: await this.status(entry, owner, now) })
    return out
  }
}
