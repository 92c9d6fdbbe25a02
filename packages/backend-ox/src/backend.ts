/**
 * The OX encryption backend: XEP-0373 v0.7.0 / XEP-0374 v0.2.0 on OpenPGP.js, behind the
 * `EncryptionBackend` contract of `@vouch/tm-core`.
 *
 * Backend state (`getState('ox', …)` of the account's store):
 * - `own`                 → UTF-8 upper-hex fingerprint of our current key;
 * - `secret:<FPR>`        → our transferable secret keys (unprotected: see README "Security");
 * - `key:<owner>:<FPR>`   → public keys of `owner` (contacts and our other keys), merged with
 *                           every update (`key.update()`: revocations stick).
 * Key ids live in the trust store under `urn:xmpp:openpgp:0` (D-6: the 20 fingerprint bytes).
 * The replay memory lives in its own namespace, `ox-replay` (see `replay.ts`).
 */
import { randomBytes } from 'node:crypto'
import type {
  AbortOptions,
  AccountTrustStore,
  BackendCapabilities,
  BackendDeps,
  BackendFactory,
  BareJid,
  DecryptedContent,
  DecryptOptions,
  Element,
  EncryptionBackend,
  EncryptOptions,
  EncryptResult,
  FullJid,
  KeyId,
  KeyRef,
  ProtectionMode,
  SecurityPolicy,
  StanzaAddressing,
  TrustLevel,
} from '@vouch/tm-core'
import {
  DecryptionError,
  DEFAULT_SECURITY_POLICY,
  InvalidKeyIdError,
  LimitExceededError,
  parseJid,
  toBareJid,
  UntrustedKeyError,
} from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import type { Key, PrivateKey, PublicKey } from 'openpgp'
import { decryptBackup, encryptBackup, generateBackupCode } from './backup.ts'
import { NS_OX, OX_STATE_NAMESPACE, xmppUserId } from './constants.ts'
import { buildContent, parseContent } from './content.ts'
import type { KeyInput, KeyStatus, OxKeyInfo } from './keys.ts'
import {
  fingerprintOf,
  generateOxKey,
  keyIdOf,
  keyIdToFingerprint,
  keyInfo,
  keyStatus,
  minimalPublicKey,
  readOxKeys,
} from './keys.ts'
import { openpgpElement, readOpenpgpElement } from './message.ts'
import { buildSecretKey, buildPubkey, parseSecretKey } from './pep.ts'
import type { OxPolicy } from './policy.ts'
import { resolvePolicy } from './policy.ts'
import { rememberOnce, replayDigests } from './replay.ts'
import { encodeBase64 } from './util.ts'

/** Options of {@link oxBackend}. */
export interface OxInit {
  /** Defaults for this backend instance; each call may override them (`options.policy`). */
  readonly policy?: Partial<OxPolicy>
  /** `<rpad/>` length range in characters (XEP-0373: random length). Default 0–200. */
  readonly rpad?: { readonly min: number; readonly max: number }
}

/** Per-call options of {@link OxBackend.encrypt}. */
export interface OxEncryptOptions extends EncryptOptions {
  readonly policy?: Partial<OxPolicy>
}

/** Per-call options of {@link OxBackend.decrypt}. */
export interface OxDecryptOptions extends DecryptOptions {
  readonly policy?: Partial<OxPolicy>
}

/** What {@link OxBackend.importPublicKey} did with one key. */
export interface OxImportResult {
  readonly owner: BareJid
  readonly info: OxKeyInfo
  /** `added`: new; `updated`: merged with new packets (e.g. a revocation); `unchanged` */
  readonly change: 'added' | 'updated' | 'unchanged'
  /** the lookup rules at import time */
  readonly status: KeyStatus
  /** the key's trust level after the import (`undecided` for an unusable key never registered) */
  readonly level: TrustLevel
}

/** A key we hold for somebody, with its lookup status. */
export interface OxKnownKey {
  readonly owner: BareJid
  readonly info: OxKeyInfo
  readonly status: KeyStatus
}

/** A secret key backup ready for PEP. */
export interface OxBackup {
  /** the backup code, exactly as to show it (and as the password) */
  readonly code: string
  /** the SKESK-encrypted OpenPGP message */
  readonly bytes: Uint8Array
  /** `<secretkey xmlns='urn:xmpp:openpgp:0'>` */
  readonly element: Element
}

/** The OX backend: the contract plus key management, PEP payloads and backups. */
export interface OxBackend extends EncryptionBackend {
  /** the local account (bare JID) this backend serves */
  readonly account: BareJid
  /**
   * Generates our key (Ed25519 + Curve25519, v4, `xmpp:<account>`, no expiry, no passphrase) and
   * makes it our own key. Refuses to replace an existing own key unless `replace`.
   * @throws InvalidKeyIdError  OX-OWN-KEY (an own key exists)
   */
  generateOwnKey(options?: { readonly date?: Date; readonly replace?: boolean }): Promise<OxKeyInfo>
  /**
   * Imports a secret key as our own (it must carry `xmpp:<account>`).
   * @throws InvalidKeyIdError  OX-KEY, OX-UID, OX-OWN-KEY
   */
  importOwnKey(input: KeyInput | PrivateKey, options?: { readonly replace?: boolean }): Promise<OxKeyInfo>
  /** Our current key, if any. */
  ownKeyInfo(): Promise<OxKeyInfo | undefined>
  /**
   * Our public key, minimal (only the `xmpp:` user id, no third-party signatures).
   * @throws InvalidKeyIdError  OX-OWN-KEY (no own key)
   */
  exportPublicKey(): Promise<Uint8Array>
  /** The same, ASCII-armored. */
  exportArmoredPublicKey(): Promise<string>
  /** The same as the XEP-0373 `<pubkey><data/></pubkey>` payload. */
  publicKeyElement(): Promise<Element>
  /**
   * Imports `owner`'s public key(s) (binary, armored, Base64 or `<pubkey/>`), merging with the
   * stored copy, and registers usable ones in the trust store at the policy's level (TOAKAFA:
   * automatically trusted until the owner was authenticated once, then automatically
   * distrusted; authenticated keys stay).
   * @throws InvalidKeyIdError  OX-KEY (not a key), OX-V4 (not v4), OX-UID (no `xmpp:<owner>`)
   */
  importPublicKey(
    owner: BareJid,
    input: KeyInput,
    options?: { readonly now?: Date; readonly policy?: Partial<OxPolicy> },
  ): Promise<OxImportResult[]>
  /** Every key we hold for `owner` (usable or not). */
  knownKeys(owner: BareJid, options?: { readonly now?: Date }): Promise<OxKnownKey[]>
  /** Forgets one of `owner`'s public keys (backend state and trust store). */
  removePublicKey(owner: BareJid, keyId: KeyId): Promise<void>
  /** Encrypts all our secret keys with a (fresh, unless given) backup code. */
  createBackup(options?: { readonly code?: string }): Promise<OxBackup>
  /**
   * Restores our keys from a backup with the code exactly as shown; the first key carrying
   * `xmpp:<account>` becomes our own key.
   * @throws DecryptionError  OX-BACKUP; InvalidKeyIdError  OX-UID
   */
  restoreBackup(input: Element | Uint8Array, code: string): Promise<OxKeyInfo>
  encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options?: OxEncryptOptions,
  ): Promise<EncryptResult>
  decrypt(el: Element, stanza: StanzaAddressing, options?: OxDecryptOptions): Promise<DecryptedContent>
}

export const OX_CAPABILITIES: BackendCapabilities = Object.freeze({
  oneKeyPerIdentity: true,
  keyIdLength: 20,
  signsTrustMessages: true,
  encryptsToSelf: true,
  // a signed message is accepted once per account (replay.ts); unsigned `<crypt/>` is not remembered
  detectsReplay: true,
  // <signcrypt/> protects <time/>, <to/> and <rpad/>
  protectsEnvelope: true,
  fallbackBody: 'This message is encrypted using OpenPGP for XMPP.',
  displayName: 'OpenPGP for XMPP',
  discoFeatures: ['urn:xmpp:openpgp:im:0'],
})

/**
 * The OX backend factory (STYLE rule 2):
 * ```ts
 * const ox = oxBackend()({ store: trustStore.forAccount(account) })
 * ```
 */
export function oxBackend(init: OxInit = {}): BackendFactory<OxBackend> {
  resolvePolicy(init.policy) // fail early on a bad policy
  const rpad = init.rpad ?? { min: 0, max: 200 }
  if (!(Number.isInteger(rpad.min) && Number.isInteger(rpad.max) && rpad.min >= 0 && rpad.max >= rpad.min))
    throw new RangeError('OxInit.rpad must be integers with 0 <= min <= max')
  return (deps: BackendDeps) => new Ox(deps, init, rpad)
}

/**
 * A parsed key of the backend state, per backend instance (hence per account) and per state key
 * (`secret:<FPR>`, `key:<owner>:<FPR>`). Every use re-reads the stored bytes and compares them with
 * `bytes`: a write through another instance or process (an update, a revocation, a removal)
 * replaces or drops the entry, so only the parsing is cached, never the state itself.
 */
interface CachedKey {
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

function cachedKey(bytes: Uint8Array, key: Key): CachedKey {
  return {
    bytes,
    key,
    fingerprint: fingerprintOf(key),
    keyId: keyIdOf(key),
    publicKey: key.isPrivate() ? key.toPublic() : (key as PublicKey),
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
const OPENPGP_CONFIG = { aeadProtect: false, v6Keys: false } as const

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

class Ox implements OxBackend {
  readonly namespace = NS_OX
  readonly capabilities = OX_CAPABILITIES
  readonly account: BareJid
  readonly #store: AccountTrustStore
  readonly #random: (n: number) => Uint8Array
  readonly #clock: () => Date
  readonly #defaultPolicy: SecurityPolicy
  readonly #init: OxInit
  /** `init.policy` over the defaults, resolved once (per-call overrides go on top) */
  readonly #basePolicy: OxPolicy
  readonly #rpad: { readonly min: number; readonly max: number }
  readonly #cache = new Map<string, CachedKey>()

  constructor(deps: BackendDeps, init: OxInit, rpad: { readonly min: number; readonly max: number }) {
    this.#store = deps.store
    this.account = deps.store.account
    this.#random = deps.random ?? randomBytes
    this.#clock = deps.now ?? (() => new Date())
    this.#defaultPolicy = deps.securityPolicy ?? DEFAULT_SECURITY_POLICY
    this.#init = init
    this.#basePolicy = resolvePolicy(init.policy)
    this.#rpad = rpad
  }

  // ---------------------------------------------------------------- state and caches

  /**
   * The stored key under `stateKey`, parsed only when its bytes changed (see {@link CachedKey}).
   * `store` is the account, or a transaction (whose own writes it then sees). The cache is only a
   * parse memo checked against the bytes read, so an entry from a transaction that rolled back is
   * never served for other bytes.
   */
  async #entry(
    stateKey: string,
    kind: 'public' | 'private',
    store: AccountTrustStore = this.#store,
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
    const entry = cachedKey(bytes, key)
    this.#cache.set(stateKey, entry)
    return entry
  }

  async #load(
    stateKey: string,
    kind: 'public' | 'private',
    store: AccountTrustStore = this.#store,
  ): Promise<Key | undefined> {
    return (await this.#entry(stateKey, kind, store))?.key
  }

  async #save(stateKey: string, key: Key, store: AccountTrustStore): Promise<void> {
    const bytes = key.write()
    await store.setState(OX_STATE_NAMESPACE, stateKey, bytes)
    this.#remember(stateKey, bytes, key)
  }

  /**
   * Lookup rules with a cache on the parsed key: a verdict holds until the key's earliest expiry
   * (a new parse, e.g. after an update or a revocation, starts without a verdict).
   */
  async #status(entry: CachedKey, jid: BareJid, date: Date): Promise<KeyStatus> {
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

  async #ownFingerprint(store: AccountTrustStore = this.#store): Promise<string | undefined> {
    const bytes = await store.getState(OX_STATE_NAMESPACE, 'own')
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8')
  }

  /** Our current key (its secret key entry), if any. */
  async #ownEntry(store: AccountTrustStore = this.#store): Promise<CachedKey | undefined> {
    const fpr = await this.#ownFingerprint(store)
    return fpr === undefined ? undefined : this.#entry(`secret:${fpr}`, 'private', store)
  }

  async #ownPrivate(): Promise<PrivateKey | undefined> {
    return (await this.#ownEntry())?.key as PrivateKey | undefined
  }

  async #requireOwnEntry(store: AccountTrustStore = this.#store): Promise<CachedKey> {
    const own = await this.#ownEntry(store)
    if (own === undefined)
      throw new InvalidKeyIdError('OX-OWN-KEY', `${this.account} has no OX key yet: generate or restore one`)
    return own
  }

  async #requireOwn(store: AccountTrustStore = this.#store): Promise<PrivateKey> {
    return (await this.#requireOwnEntry(store)).key as PrivateKey
  }

  async #allSecretKeys(store: AccountTrustStore = this.#store): Promise<PrivateKey[]> {
    const out: PrivateKey[] = []
    for (const k of await store.listState(OX_STATE_NAMESPACE, 'secret:')) {
      const entry = await this.#entry(k, 'private', store)
      if (entry !== undefined) out.push(entry.key as PrivateKey)
    }
    return out
  }

  /** Stored public keys of `owner`. */
  async #publicEntries(owner: BareJid, store: AccountTrustStore = this.#store): Promise<CachedKey[]> {
    const out: CachedKey[] = []
    for (const k of await store.listState(OX_STATE_NAMESPACE, `key:${owner}:`)) {
      const entry = await this.#entry(k, 'public', store)
      if (entry !== undefined) out.push(entry)
    }
    return out
  }

  /** Usable keys of `owner` (for our own account: our current secret key first). */
  async #usableKeys(
    owner: BareJid,
    date: Date,
    store: AccountTrustStore = this.#store,
  ): Promise<CachedKey[]> {
    const out: CachedKey[] = []
    const seen = new Set<string>()
    if (owner === this.account) {
      const own = await this.#ownEntry(store)
      if (own !== undefined && (await this.#status(own, owner, date)).usable) {
        out.push(own)
        seen.add(own.fingerprint)
      }
    }
    for (const entry of await this.#publicEntries(owner, store)) {
      if (seen.has(entry.fingerprint)) continue
      if ((await this.#status(entry, owner, date)).usable) {
        out.push(entry)
        seen.add(entry.fingerprint)
      }
    }
    return out
  }

  async #newKeyLevel(
    owner: BareJid,
    policy: OxPolicy,
    store: AccountTrustStore,
  ): Promise<{ level: TrustLevel; policy: SecurityPolicy }> {
    const sp = policy.securityPolicy ?? (await store.getSecurityPolicy(NS_OX)) ?? this.#defaultPolicy
    if (sp === 'authenticated-only') return { level: 'automatically-distrusted', policy: sp }
    const once = await store.wasAuthenticatedOnce(NS_OX, owner)
    return { level: once ? 'automatically-distrusted' : 'automatically-trusted', policy: sp }
  }

  // ---------------------------------------------------------------- own key

  async generateOwnKey(
    options: { readonly date?: Date; readonly replace?: boolean } = {},
  ): Promise<OxKeyInfo> {
    if (options.replace !== true && (await this.#ownFingerprint()) !== undefined)
      throw new InvalidKeyIdError(
        'OX-OWN-KEY',
        `${this.account} already has an OX key (pass replace to replace it)`,
      )
    const key = await generateOxKey(this.account, options.date === undefined ? {} : { date: options.date })
    return this.#setOwn(key)
  }

  async importOwnKey(
    input: KeyInput | PrivateKey,
    options: { readonly replace?: boolean } = {},
  ): Promise<OxKeyInfo> {
    let key: Key
    if (typeof input === 'object' && 'keyPacket' in input) key = input
    else {
      const keys = await readOxKeys(input as KeyInput)
      const mine = keys.filter((k) => k.getUserIDs().includes(xmppUserId(this.account)))
      key = mine.find((k) => k.isPrivate()) ?? keys.find((k) => k.isPrivate()) ?? (keys[0] as Key)
    }
    if (!key.isPrivate()) throw new InvalidKeyIdError('OX-KEY', 'not a secret key')
    if (!key.isDecrypted()) throw new InvalidKeyIdError('OX-KEY', 'the secret key is passphrase-protected')
    this.#checkOwnable(key)
    const current = await this.#ownFingerprint()
    if (options.replace !== true && current !== undefined && current !== fingerprintOf(key))
      throw new InvalidKeyIdError(
        'OX-OWN-KEY',
        `${this.account} already has an OX key (pass replace to replace it)`,
      )
    return this.#setOwn(key)
  }

  #checkOwnable(key: Key): void {
    if (key.keyPacket.version !== 4) throw new InvalidKeyIdError('OX-V4', 'OX keys are v4 keys')
    if (!key.getUserIDs().includes(xmppUserId(this.account)))
      throw new InvalidKeyIdError('OX-UID', `the key has no user id "${xmppUserId(this.account)}"`)
  }

  /**
   * Makes `key` our current key, and stores `others` (older secret keys, e.g. from a backup)
   * beside it, each merged into what is stored: all in one transaction, so a store failure stores
   * none of them.
   */
  async #setOwn(key: PrivateKey, others: readonly PrivateKey[] = []): Promise<OxKeyInfo> {
    this.#checkOwnable(key)
    const fpr = fingerprintOf(key)
    const stateKey = `secret:${fpr}`
    return this.#store.transaction(async (tx) => {
      for (const other of others) {
        const otherKey = `secret:${fingerprintOf(other)}`
        const stored = (await this.#load(otherKey, 'private', tx)) as PrivateKey | undefined
        await this.#save(otherKey, stored === undefined ? other : await stored.update(other), tx)
      }
      const existing = (await this.#load(stateKey, 'private', tx)) as PrivateKey | undefined
      const merged = existing === undefined ? key : await existing.update(key)
      await this.#save(stateKey, merged, tx)
      await tx.setState(OX_STATE_NAMESPACE, 'own', encoder.encode(fpr))
      await tx.setOwnKey(NS_OX, keyIdOf(merged))
      return keyInfo(merged)
    })
  }

  async ownKeyInfo(): Promise<OxKeyInfo | undefined> {
    const own = await this.#ownPrivate()
    return own === undefined ? undefined : keyInfo(own)
  }

  async ownKeys(_options?: AbortOptions): Promise<readonly KeyId[]> {
    const own = await this.#ownPrivate()
    return own === undefined ? [] : [keyIdOf(own)]
  }

  async exportPublicKey(): Promise<Uint8Array> {
    return minimalPublicKey(await this.#requireOwn(), this.account).write()
  }

  async exportArmoredPublicKey(): Promise<string> {
    return minimalPublicKey(await this.#requireOwn(), this.account).armor()
  }

  async publicKeyElement(): Promise<Element> {
    return buildPubkey(await this.exportPublicKey())
  }

  // ---------------------------------------------------------------- other keys

  async importPublicKey(
    ownerInput: BareJid,
    input: KeyInput,
    options: { readonly now?: Date; readonly policy?: Partial<OxPolicy> } = {},
  ): Promise<OxImportResult[]> {
    const owner = toBareJid(ownerInput, 'OX-UID')
    const now = options.now ?? this.#clock()
    const policy = resolvePolicy(this.#basePolicy, options.policy)
    // every key is checked before any is stored: a bad key in a keyring stores nothing
    const keys = (await readOxKeys(input)).map((raw) => {
      const incoming: PublicKey = raw.isPrivate() ? raw.toPublic() : (raw as PublicKey)
      if (incoming.keyPacket.version !== 4)
        throw new InvalidKeyIdError('OX-V4', `a v${incoming.keyPacket.version} key: OX keys are v4 keys`)
      if (!incoming.getUserIDs().includes(xmppUserId(owner)))
        throw new InvalidKeyIdError('OX-UID', `the key has no user id "${xmppUserId(owner)}"`)
      return incoming
    })
    // …and every key is stored in one transaction: a store failure midway stores none either
    return this.#store.transaction(async (tx) => {
      const results: OxImportResult[] = []
      const ownFpr = await this.#ownFingerprint(tx)
      for (const incoming of keys) {
        const fpr = fingerprintOf(incoming)
        if (owner === this.account && fpr === ownFpr) {
          // an update of our own key (e.g. a revocation made elsewhere): merge into the secret key
          const own = await this.#requireOwn(tx)
          const merged = await own.update(incoming, now)
          const change = sameBytes(merged.write(), own.write()) ? 'unchanged' : 'updated'
          if (change === 'updated') await this.#save(`secret:${fpr}`, merged, tx)
          results.push({
            owner,
            info: keyInfo(merged),
            change,
            status: await keyStatus(merged, owner, now),
            level: await tx.getTrustLevel(NS_OX, owner, keyIdOf(merged)),
          })
          continue
        }
        const stateKey = `key:${owner}:${fpr}`
        const existing = await this.#load(stateKey, 'public', tx)
        let merged: PublicKey = incoming
        let change: OxImportResult['change'] = 'added'
        if (existing !== undefined) {
          merged = await (existing as PublicKey).update(incoming, now)
          change = sameBytes(merged.write(), existing.write()) ? 'unchanged' : 'updated'
        }
        if (change !== 'unchanged') await this.#save(stateKey, merged, tx)
        const status = await keyStatus(merged, owner, now)
        const keyId = keyIdOf(merged)
        if (status.usable) {
          const { level, policy: sp } = await this.#newKeyLevel(owner, policy, tx)
          await tx.addKeys(
            NS_OX,
            owner,
            [keyId],
            { provenance: { kind: 'policy', policy: sp }, at: now.getTime() },
            level,
          )
        }
        results.push({
          owner,
          info: keyInfo(merged),
          change,
          status,
          level: await tx.getTrustLevel(NS_OX, owner, keyId),
        })
      }
      return results
    })
  }

  async knownKeys(ownerInput: BareJid, options: { readonly now?: Date } = {}): Promise<OxKnownKey[]> {
    return this.#knownKeys(toBareJid(ownerInput, 'OX-UID'), options.now ?? this.#clock())
  }

  async #knownKeys(owner: BareJid, now: Date, store: AccountTrustStore = this.#store): Promise<OxKnownKey[]> {
    const out: OxKnownKey[] = []
    if (owner === this.account) {
      const own = await this.#ownEntry(store)
      if (own !== undefined)
        out.push({ owner, info: keyInfo(own.key), status: await this.#status(own, owner, now) })
    }
    for (const entry of await this.#publicEntries(owner, store))
      out.push({ owner, info: keyInfo(entry.key), status: await this.#status(entry, owner, now) })
    return out
  }

  async removePublicKey(ownerInput: BareJid, keyId: KeyId): Promise<void> {
    const owner = toBareJid(ownerInput, 'OX-UID')
    const fpr = keyIdToFingerprint(keyId)
    const stateKey = `key:${owner}:${fpr}`
    await this.#store.transaction(async (tx) => {
      await tx.deleteState(OX_STATE_NAMESPACE, stateKey)
      await tx.removeKeys(NS_OX, owner, [keyId])
    })
    this.#cache.delete(stateKey)
  }

  async keysOf(ownerInput: BareJid, _options?: AbortOptions): Promise<readonly KeyId[]> {
    const owner = toBareJid(ownerInput, 'OX-UID')
    return (await this.#usableKeys(owner, this.#clock())).map((k) => k.keyId)
  }

  // ---------------------------------------------------------------- backup

  async createBackup(options: { readonly code?: string } = {}): Promise<OxBackup> {
    await this.#requireOwn()
    const code = options.code ?? generateBackupCode(this.#random)
    const own = await this.#ownFingerprint()
    const keys = await this.#allSecretKeys()
    // our current key first: restoring clients that take the first key get the right one
    keys.sort((a, b) => Number(fingerprintOf(b) === own) - Number(fingerprintOf(a) === own))
    const bytes = await encryptBackup(keys, code)
    return { code, bytes, element: buildSecretKey(bytes) }
  }

  async restoreBackup(input: Element | Uint8Array, code: string): Promise<OxKeyInfo> {
    const bytes = input instanceof Uint8Array ? input : parseSecretKey(input)
    const policy = this.#basePolicy
    const keys = await decryptBackup(bytes, code, { maxDecompressedBytes: policy.maxDecompressedBytes })
    const uid = xmppUserId(this.account)
    const mine = keys.filter((k) => k.keyPacket.version === 4 && k.getUserIDs().includes(uid))
    const first = mine[0]
    if (first === undefined)
      throw new InvalidKeyIdError('OX-UID', `the backup holds no key with user id "${uid}"`)
    // the other keys of the backup are stored with the current one, in its transaction
    return this.#setOwn(first, mine.slice(1))
  }

  // ---------------------------------------------------------------- messages

  #rpadText(): string {
    const { min, max } = this.#init.rpad ?? this.#rpad
    const span = max - min + 1
    // one draw for the length (first 4 bytes) and the content (the rest, enough for `max`)
    const r = this.#random(4 + Math.ceil((max * 3) / 4) + 3)
    const n = (min + (((r[0] ?? 0) << 24) | ((r[1] ?? 0) << 16) | ((r[2] ?? 0) << 8) | (r[3] ?? 0))) >>> 0
    const len = min + ((n - min) % span)
    if (len === 0) return ''
    return encodeBase64(r.subarray(4, 4 + Math.ceil((len * 3) / 4) + 3)).slice(0, len)
  }

  async encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options: OxEncryptOptions = {},
  ): Promise<EncryptResult> {
    const mode: ProtectionMode = options.mode ?? 'signcrypt'
    const policy =
      options.policy === undefined && options.acceptedLevels === undefined
        ? this.#basePolicy
        : resolvePolicy(
            this.#basePolicy,
            options.policy,
            options.acceptedLevels === undefined ? undefined : { acceptedLevels: options.acceptedLevels },
          )
    const now = options.now ?? this.#clock()
    const recipients = [...new Set(to.map((j) => toBareJid(j, 'OX-TO')))]
    const own = await this.#requireOwnEntry()
    const content = buildContent({ mode, to: recipients, time: now, payload, rpad: this.#rpadText() })
    const message = await openpgp.createMessage({ binary: encoder.encode(content.toString()), date: now })
    if (mode === 'sign') {
      const signed = await openpgp.sign({
        message,
        signingKeys: own.key as PrivateKey,
        format: 'binary',
        date: now,
        config: OPENPGP_CONFIG,
      })
      return { element: openpgpElement(signed), recipients: [] }
    }
    const only =
      options.onlyKeys === undefined
        ? undefined
        : new Set(
            options.onlyKeys
              .filter((k) => k.encryption === NS_OX)
              .map((k) => `${toBareJid(k.owner, 'OX-TO')} ${k.keyId}`),
          )
    const selected = await this.#selectRecipients(own, recipients, policy.acceptedLevels, now, only)
    const encrypted = await openpgp.encrypt({
      message,
      encryptionKeys: selected.keys,
      ...(mode === 'signcrypt' ? { signingKeys: own.key as PrivateKey } : {}),
      format: 'binary',
      date: now,
      config: OPENPGP_CONFIG,
    })
    return { element: openpgpElement(encrypted), recipients: selected.refs }
  }

  /**
   * Trust-based recipient selection: for every recipient, its usable keys (lookup rules) whose
   * trust level is accepted; always our own key. A contact with no accepted key is an error (the
   * message would silently not reach it).
   */
  async #selectRecipients(
    own: CachedKey,
    recipients: readonly BareJid[],
    accepted: readonly TrustLevel[],
    date: Date,
    /** `EncryptOptions.onlyKeys` as `owner keyId` (our own key, shared by our endpoints, stays) */
    only?: ReadonlySet<string>,
  ): Promise<{ keys: Key[]; refs: KeyRef[] }> {
    const ownId = own.keyId
    const keys: Key[] = [own.publicKey]
    const refs: KeyRef[] = [{ encryption: NS_OX, owner: this.account, keyId: ownId }]
    const acceptedSet = new Set(accepted)
    for (const owner of recipients) {
      const usable = (await this.#usableKeys(owner, date)).filter((k) => k.keyId !== ownId)
      const levels = new Map(
        (await this.#store.getKeys(NS_OX, { owners: [owner] })).map((r) => [r.keyId, r.level] as const),
      )
      const chosen = usable.filter(
        (k) =>
          acceptedSet.has(levels.get(k.keyId) ?? 'undecided') &&
          (only === undefined || only.has(`${owner} ${k.keyId}`)),
      )
      if (chosen.length === 0 && owner !== this.account) {
        const known = usable[0]?.keyId ?? [...levels.keys()][0] ?? ('' as KeyId)
        throw new UntrustedKeyError(owner, known)
      }
      for (const k of chosen) {
        keys.push(k.key)
        refs.push({ encryption: NS_OX, owner, keyId: k.keyId })
      }
    }
    return { keys, refs }
  }

  /**
   * The key that made one signature, by full fingerprint. Candidates are the sender's usable keys
   * holding a (sub)key with the signature's 64-bit issuer key id (a wildcard id matches all).
   * OpenPGP.js verifies against the first candidate only (`createVerificationObject`): with one
   * candidate that is the signer; with several (a colliding key id, or the same signing key
   * copied into another key), each is verified on its own, so a copy that does not verify
   * cannot shadow the genuine key, and a signature that verifies under two keys is refused
   * rather than credited to whichever sorts first.
   * @throws DecryptionError  OX-SIGNER, OX-KEY, OX-TIME, OX-SIG
   */
  async #signer(
    sig: openpgp.DecryptMessageResult['signatures'][number],
    verdict: PromiseSettledResult<unknown>,
    packet: PromiseSettledResult<openpgp.Signature> | undefined,
    data: Uint8Array,
    senderKeys: readonly CachedKey[],
    ctx: SignatureContext,
  ): Promise<CachedKey> {
    const candidates = senderKeys.filter((k) => k.publicKey.getKeys(sig.keyID).length > 0)
    if (candidates.length <= 1) {
      if (verdict.status === 'rejected') throw await this.#signatureError(verdict.reason, sig, ctx)
      const only = candidates[0]
      if (only === undefined)
        throw new DecryptionError('OX-SIGNER', `no key of ${ctx.sender} made the signature`)
      return only
    }
    if (packet?.status !== 'fulfilled')
      throw new DecryptionError('OX-SIG', 'invalid signature: the signature packet cannot be read', {
        cause: packet?.status === 'rejected' ? packet.reason : undefined,
      })
    const results = await Promise.allSettled(
      candidates.map((k) => verifyWith(data, packet.value, k.publicKey, ctx.verifyAt, ctx.config)),
    )
    const verified = candidates.filter((_, j) => results[j]?.status === 'fulfilled')
    if (verified.length > 1)
      throw new DecryptionError(
        'OX-SIGNER',
        `the signature verifies under ${verified.length} keys of ${ctx.sender} (${verified.map((k) => k.fingerprint).join(', ')}): which one signed cannot be told`,
      )
    const signer = verified[0]
    if (signer !== undefined) return signer
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    throw await this.#signatureError(failed.reason, sig, ctx)
  }

  /** The typed error for a signature that did not verify (classified by OpenPGP.js's message). */
  async #signatureError(
    reason: unknown,
    sig: openpgp.DecryptMessageResult['signatures'][number],
    ctx: SignatureContext,
  ): Promise<DecryptionError> {
    const msg = (reason as Error)?.message ?? String(reason)
    if (/could not find signing key/i.test(msg)) {
      const stale = (await this.#knownKeys(ctx.sender, ctx.ref, ctx.store)).find(
        (k) => !k.status.usable && k.info.fingerprint.endsWith(sig.keyID.toHex().toUpperCase()),
      )
      if (stale !== undefined && !stale.status.usable)
        return new DecryptionError(
          'OX-KEY',
          `signed by ${ctx.sender}'s key ${stale.info.fingerprint}, which is ${stale.status.reason}`,
        )
      return new DecryptionError(
        'OX-SIGNER',
        `the signature (key ${sig.keyID.toHex()}) is not by a key of ${ctx.sender} carrying "${xmppUserId(ctx.sender)}"`,
      )
    }
    if (/in the future/i.test(msg))
      return new DecryptionError('OX-TIME', `the signature is dated more than ${ctx.skew} s in the future`)
    return new DecryptionError('OX-SIG', `invalid signature: ${msg}`)
  }

  async decrypt(
    el: Element,
    stanza: StanzaAddressing,
    options: OxDecryptOptions = {},
  ): Promise<DecryptedContent> {
    const policy =
      options.policy === undefined ? this.#basePolicy : resolvePolicy(this.#basePolicy, options.policy)
    const maxAge = options.maxAgeSeconds ?? policy.maxAgeSeconds
    const skew = options.futureSkewSeconds ?? policy.futureSkewSeconds
    const ref = options.now ?? this.#clock()
    const verifyAt = new Date(ref.getTime() + skew * 1000)
    // every read and write for this message goes through the caller's transaction, when given
    const store = options.store ?? this.#store

    // one parse of `from` gives both its bare and its full form (as toBareJid and parseFullJid would)
    const fromParsed = parseJid(stanza.from, 'OX-SIGNER')
    const sender = (
      fromParsed.local === undefined ? fromParsed.domain : `${fromParsed.local}@${fromParsed.domain}`
    ) as BareJid
    const senderFullJid: FullJid | undefined =
      fromParsed.resource === undefined ? undefined : (`${sender}/${fromParsed.resource}` as FullJid)
    const expectedTo =
      options.expectedTo === undefined
        ? toBareJid(stanza.to, 'OX-TO')
        : toBareJid(options.expectedTo, 'OX-TO')

    const bytes = readOpenpgpElement(el, policy.maxMessageBytes)
    let message: openpgp.Message<Uint8Array>
    try {
      message = await openpgp.readMessage({ binaryMessage: bytes, config: OPENPGP_CONFIG })
    } catch (e) {
      throw new DecryptionError('OX-DECRYPT', `not an OpenPGP message: ${(e as Error).message}`, { cause: e })
    }
    const encrypted = message.packets.some(
      (p) =>
        p instanceof openpgp.SymEncryptedIntegrityProtectedDataPacket ||
        p instanceof openpgp.AEADEncryptedDataPacket ||
        p instanceof openpgp.SymmetricallyEncryptedDataPacket,
    )

    // only the sender's usable keys (lookup rules, `xmpp:<sender>`) verify signatures
    const senderKeys = await this.#usableKeys(sender, verifyAt, store)
    const verificationKeys = senderKeys.map((k) => k.publicKey)
    const config = { ...OPENPGP_CONFIG, maxDecompressedMessageSize: policy.maxDecompressedBytes }

    let data: Uint8Array
    let signatures: openpgp.DecryptMessageResult['signatures']
    try {
      if (encrypted) {
        const decryptionKeys = await this.#allSecretKeys(store)
        const result = await openpgp.decrypt({
          message,
          decryptionKeys,
          verificationKeys,
          expectSigned: false,
          format: 'binary',
          date: verifyAt,
          config,
        })
        data = result.data as Uint8Array
        signatures = result.signatures
      } else {
        const result = await openpgp.verify({
          message,
          verificationKeys,
          format: 'binary',
          date: verifyAt,
          config,
        })
        data = result.data as Uint8Array
        signatures = result.signatures
      }
    } catch (e) {
      const msg = (e as Error).message
      if (/decompressed/i.test(msg))
        throw new LimitExceededError(
          'OX-SIZE',
          'decompressed bytes',
          policy.maxDecompressedBytes,
          policy.maxDecompressedBytes + 1,
          {
            cause: e,
          },
        )
      throw new DecryptionError('OX-DECRYPT', `cannot decrypt: ${msg}`, { cause: e })
    }
    // settle every verification promise (an unobserved rejection would crash the process)
    const verdicts = await Promise.allSettled(signatures.map((s) => s.verified))
    const sigPackets = await Promise.allSettled(signatures.map((s) => s.signature))
    if (data.length > policy.maxDecompressedBytes)
      throw new LimitExceededError('OX-SIZE', 'plaintext bytes', policy.maxDecompressedBytes, data.length)

    // the signer is the key whose signature verified, named by its full fingerprint (see #signer)
    const signers: CachedKey[] = []
    for (const [i, verdict] of verdicts.entries()) {
      const sig = signatures[i] as openpgp.DecryptMessageResult['signatures'][number]
      const signer = await this.#signer(sig, verdict, sigPackets[i], data, senderKeys, {
        sender,
        ref,
        verifyAt,
        skew,
        config,
        store,
      })
      if (!signers.includes(signer)) signers.push(signer)
      const packet = sigPackets[i]
      const created = packet?.status === 'fulfilled' ? packet.value.packets[0]?.created : undefined
      if (created instanceof Date) checkTime(created, ref, maxAge, skew, 'signature creation time')
    }
    const senderKey: KeyId | undefined = signers[0]?.keyId

    let text: string
    try {
      text = decoder.decode(data)
    } catch (e) {
      throw new DecryptionError('OX-CONTENT', 'the content is not UTF-8', { cause: e })
    }
    const content = parseContent(text, { maxChars: policy.maxDecompressedBytes, maxTo: policy.maxEntries })
    const signed = senderKey !== undefined
    if (content.mode === 'signcrypt' && !(encrypted && signed))
      throw new DecryptionError(
        'OX-SIGNCRYPT',
        `<signcrypt/> must be signed and encrypted (signed: ${signed}, encrypted: ${encrypted})`,
      )
    if (content.mode === 'sign' && (encrypted || !signed))
      throw new DecryptionError(
        'OX-SIGN',
        `<sign/> must be signed and not encrypted (signed: ${signed}, encrypted: ${encrypted})`,
      )
    if (content.mode === 'crypt' && (!encrypted || signed))
      throw new DecryptionError(
        'OX-CRYPT',
        `<crypt/> must be encrypted and not signed (signed: ${signed}, encrypted: ${encrypted})`,
      )
    if (content.mode === 'sign' && options.allowSignedOnly !== true)
      throw new DecryptionError(
        'OX-MODE',
        '<sign/> (not encrypted) is accepted only where allowed (trust messages, TM-14)',
      )
    if (content.mode === 'crypt' && options.allowUnsigned !== true)
      throw new DecryptionError(
        'OX-MODE',
        '<crypt/> (unsigned) is not accepted here: chat uses <signcrypt/> only (XEP-0374 §3.1)',
      )
    if (content.to.length > 0 && !content.to.includes(expectedTo))
      throw new DecryptionError('OX-TO', `no <to/> names ${expectedTo} (found ${content.to.join(', ')})`)
    checkTime(content.time, ref, maxAge, skew, '<time/>')

    // last: remember the signed message once every check passed (a rejected message is not
    // remembered), in the caller's transaction or one of our own
    if (signers.length > 0) {
      const init = this.#basePolicy
      // never shorter than the instance's window: a narrow per-call window prunes nothing early
      const retentionSeconds = Math.max(
        init.maxAgeSeconds + init.maxReferenceAgeSeconds + init.futureSkewSeconds,
        maxAge + policy.maxReferenceAgeSeconds + skew,
      )
      await rememberOnce(
        store,
        content.time,
        replayDigests(
          data,
          signers.map((k) => k.fingerprint),
        ),
        { clock: this.#clock(), retentionMs: retentionSeconds * 1000, maxEntries: policy.maxReplayEntries },
      )
    }

    const base = {
      content: content.element,
      payload: content.payload,
      senderJid: sender,
      ...(senderFullJid === undefined ? {} : { senderFullJid }),
      carrier: NS_OX,
      encrypted,
      mode: content.mode,
      time: content.time,
      to: content.to,
      rpadLength: content.rpad?.length ?? 0,
    }
    return senderKey === undefined ? { ...base, signed: false } : { ...base, signed: true, senderKey }
  }
}

/** What {@link Ox.#signer} needs to know about the message. */
interface SignatureContext {
  readonly sender: BareJid
  readonly ref: Date
  readonly verifyAt: Date
  readonly skew: number
  readonly config: Partial<openpgp.Config>
  readonly store: AccountTrustStore
}

/**
 * Verifies `signature` over `data` against `key` alone (a detached verification over the signed
 * literal data; the signature's type decides text or binary hashing, as in the message).
 */
async function verifyWith(
  data: Uint8Array,
  signature: openpgp.Signature,
  key: PublicKey,
  date: Date,
  config: Partial<openpgp.Config>,
): Promise<void> {
  const message = await openpgp.createMessage({ binary: data })
  const { signatures } = await openpgp.verify({
    message,
    signature,
    verificationKeys: [key],
    format: 'binary',
    date,
    config,
  })
  const [only, ...more] = signatures
  if (only === undefined || more.length > 0) throw new Error('expected exactly one signature')
  await only.verified
}

function checkTime(t: Date, ref: Date, maxAgeSeconds: number, skewSeconds: number, what: string): void {
  const delta = (t.getTime() - ref.getTime()) / 1000
  if (delta < -maxAgeSeconds)
    throw new DecryptionError(
      'OX-TIME',
      `${what} ${t.toISOString()} is older than ${maxAgeSeconds} s (stale or replayed)`,
    )
  if (delta > skewSeconds)
    throw new DecryptionError(
      'OX-TIME',
      `${what} ${t.toISOString()} is more than ${skewSeconds} s in the future`,
    )
}
