/**
 * The OX encryption backend: XEP-0373 v0.7.0 / XEP-0374 v0.2.0 on OpenPGP.js, behind the
 * `EncryptionBackend` contract of `@vouch/tm-core`. This module is the composition: key
 * management here, the key material in `state.ts`, sending in `encrypt.ts`, receiving in
 * `decrypt.ts`.
 *
 * Key ids live in the trust store under `urn:xmpp:openpgp:0` (D-6: the 20 fingerprint bytes), but
 * the backend never writes a trust level: imports store key material and report the key ids
 * (`OxImportResult.info.keyId`, usable ones in `keysOf`); the caller hands them to ATM's
 * `keysDiscovered`, which applies the security policy (TOAKAFA). The replay memory lives in its
 * own namespace, `ox-replay` (see `replay.ts`).
 */
import type {
  AbortOptions,
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
  KeyId,
  StanzaAddressing,
} from '@vouch/tm-core'
import { InvalidKeyIdError, randomBytes, toBareJid } from '@vouch/tm-core'
import type { Key, PrivateKey, PublicKey } from 'openpgp'
import { decryptBackup, encryptBackup, generateBackupCode } from './backup.ts'
import { NS_OX, OX_STATE_NAMESPACE, xmppUserId } from './constants.ts'
import { decryptContent } from './decrypt.ts'
import { encryptContent, rpadText } from './encrypt.ts'
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
import { buildPubkey, buildSecretKey, parseSecretKey } from './xep0373-pep.ts'
import type { OxPolicy } from './policy.ts'
import { resolvePolicy } from './policy.ts'
import type { OxKnownKey } from './state.ts'
import { OxState, sameBytes } from './state.ts'

export type { OxKnownKey } from './state.ts'

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

/**
 * What {@link OxBackend.importPublicKey} did with one key. The backend stores key material only:
 * hand the key ids of usable keys (`status.usable`) to ATM's `keysDiscovered`, which gives a new
 * key its level under the security policy.
 */
export interface OxImportResult {
  readonly owner: BareJid
  /** the key, with its id (`info.keyId`, D-6) */
  readonly info: OxKeyInfo
  /** `added`: new; `updated`: merged with new packets (e.g. a revocation); `unchanged` */
  readonly change: 'added' | 'updated' | 'unchanged'
  /** the lookup rules at import time: only a usable key is ever encrypted to or verified with */
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
   * stored copy. Stores key material only, never a trust level: hand the usable keys' ids to
   * ATM's `keysDiscovered` (TOAKAFA and the other security policies live there).
   * @throws InvalidKeyIdError  OX-KEY (not a key), OX-V4 (not v4), OX-UID (no `xmpp:<owner>`)
   */
  importPublicKey(
    owner: BareJid,
    input: KeyInput,
    options?: { readonly now?: Date },
  ): Promise<OxImportResult[]>
  /** Every key we hold for `owner` (usable or not). */
  knownKeys(owner: BareJid, options?: { readonly now?: Date }): Promise<OxKnownKey[]>
  /**
   * Forgets one of `owner`'s public keys: the key material leaves the keyring (no longer in
   * `keysOf`/`knownKeys`, never encrypted to, verifies nothing). Its trust record is left to ATM
   * and the store (ATM is the only writer of trust): the level stays, so a re-import brings the
   * key back at the level it had, like an OMEMO device that leaves its device list and returns.
   */
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

const encoder = new TextEncoder()

class Ox implements OxBackend {
  readonly namespace = NS_OX
  readonly capabilities = OX_CAPABILITIES
  readonly account: BareJid
  readonly #state: OxState
  readonly #random: (n: number) => Uint8Array
  readonly #clock: () => Date
  /** `init.policy` over the defaults, resolved once (per-call overrides go on top) */
  readonly #basePolicy: OxPolicy
  readonly #rpad: { readonly min: number; readonly max: number }

  constructor(deps: BackendDeps, init: OxInit, rpad: { readonly min: number; readonly max: number }) {
    this.account = deps.store.account
    this.#state = new OxState(deps.store, this.account)
    this.#random = deps.random ?? randomBytes
    this.#clock = deps.now ?? (() => new Date())
    this.#basePolicy = resolvePolicy(init.policy)
    this.#rpad = rpad
  }

  // ---------------------------------------------------------------- own key

  async generateOwnKey(
    options: { readonly date?: Date; readonly replace?: boolean } = {},
  ): Promise<OxKeyInfo> {
    if (options.replace !== true && (await this.#state.ownFingerprint()) !== undefined)
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
    const current = await this.#state.ownFingerprint()
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
    const state = this.#state
    return state.store.transaction(async (tx) => {
      for (const other of others) {
        const otherKey = `secret:${fingerprintOf(other)}`
        const stored = (await state.load(otherKey, 'private', tx)) as PrivateKey | undefined
        await state.save(otherKey, stored === undefined ? other : await stored.update(other), tx)
      }
      const existing = (await state.load(stateKey, 'private', tx)) as PrivateKey | undefined
      const merged = existing === undefined ? key : await existing.update(key)
      await state.save(stateKey, merged, tx)
      await tx.setState(OX_STATE_NAMESPACE, 'own', encoder.encode(fpr))
      await tx.setOwnKey(NS_OX, keyIdOf(merged))
      return keyInfo(merged)
    })
  }

  async ownKeyInfo(): Promise<OxKeyInfo | undefined> {
    const own = await this.#state.ownPrivate()
    return own === undefined ? undefined : keyInfo(own)
  }

  async ownKeys(_options?: AbortOptions): Promise<readonly KeyId[]> {
    const own = await this.#state.ownPrivate()
    return own === undefined ? [] : [keyIdOf(own)]
  }

  async exportPublicKey(): Promise<Uint8Array> {
    return minimalPublicKey(await this.#state.requireOwn(), this.account).write()
  }

  async exportArmoredPublicKey(): Promise<string> {
    return minimalPublicKey(await this.#state.requireOwn(), this.account).armor()
  }

  async publicKeyElement(): Promise<Element> {
    return buildPubkey(await this.exportPublicKey())
  }

  // ---------------------------------------------------------------- other keys

  async importPublicKey(
    ownerInput: BareJid,
    input: KeyInput,
    options: { readonly now?: Date } = {},
  ): Promise<OxImportResult[]> {
    const owner = toBareJid(ownerInput, 'OX-UID')
    const now = options.now ?? this.#clock()
    const state = this.#state
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
    return state.store.transaction(async (tx) => {
      const results: OxImportResult[] = []
      const ownFpr = await state.ownFingerprint(tx)
      for (const incoming of keys) {
        const fpr = fingerprintOf(incoming)
        if (owner === this.account && fpr === ownFpr) {
          // an update of our own key (e.g. a revocation made elsewhere): merge into the secret key
          const own = await state.requireOwn(tx)
          const merged = await own.update(incoming, now)
          const change = sameBytes(merged.write(), own.write()) ? 'unchanged' : 'updated'
          if (change === 'updated') await state.save(`secret:${fpr}`, merged, tx)
          results.push({ owner, info: keyInfo(merged), change, status: await keyStatus(merged, owner, now) })
          continue
        }
        const stateKey = `key:${owner}:${fpr}`
        const existing = await state.load(stateKey, 'public', tx)
        let merged: PublicKey = incoming
        let change: OxImportResult['change'] = 'added'
        if (existing !== undefined) {
          merged = await (existing as PublicKey).update(incoming, now)
          change = sameBytes(merged.write(), existing.write()) ? 'unchanged' : 'updated'
        }
        if (change !== 'unchanged') await state.save(stateKey, merged, tx)
        results.push({ owner, info: keyInfo(merged), change, status: await keyStatus(merged, owner, now) })
      }
      return results
    })
  }

  async knownKeys(ownerInput: BareJid, options: { readonly now?: Date } = {}): Promise<OxKnownKey[]> {
    return this.#state.knownKeys(toBareJid(ownerInput, 'OX-UID'), options.now ?? this.#clock())
  }

  async removePublicKey(ownerInput: BareJid, keyId: KeyId): Promise<void> {
    const owner = toBareJid(ownerInput, 'OX-UID')
    const stateKey = `key:${owner}:${keyIdToFingerprint(keyId)}`
    // the key material only: its trust record is ATM's (as an OMEMO device that leaves its list)
    await this.#state.store.deleteState(OX_STATE_NAMESPACE, stateKey)
    this.#state.forget(stateKey)
  }

  /** The usable keys of `owner`, from the backend state (whatever their trust level). */
  async keysOf(ownerInput: BareJid, _options?: AbortOptions): Promise<readonly KeyId[]> {
    const owner = toBareJid(ownerInput, 'OX-UID')
    return (await this.#state.usableKeys(owner, this.#clock())).map((k) => k.keyId)
  }

  // ---------------------------------------------------------------- backup

  async createBackup(options: { readonly code?: string } = {}): Promise<OxBackup> {
    const state = this.#state
    await state.requireOwn()
    const code = options.code ?? generateBackupCode(this.#random)
    const own = await state.ownFingerprint()
    const keys = await state.allSecretKeys()
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

  async encrypt(
    payload: Element | readonly Element[],
    to: readonly BareJid[],
    options: OxEncryptOptions = {},
  ): Promise<EncryptResult> {
    const policy =
      options.policy === undefined && options.acceptedLevels === undefined
        ? this.#basePolicy
        : resolvePolicy(
            this.#basePolicy,
            options.policy,
            options.acceptedLevels === undefined ? undefined : { acceptedLevels: options.acceptedLevels },
          )
    const mode = options.mode ?? 'signcrypt'
    return encryptContent(this.#state, {
      payload,
      to,
      mode,
      acceptedLevels: policy.acceptedLevels,
      now: options.now ?? this.#clock(),
      rpad: this.#rpadText(),
      onlyKeys: options.onlyKeys,
    })
  }

  #rpadText(): string {
    return rpadText(this.#random, this.#rpad.min, this.#rpad.max)
  }

  async decrypt(
    el: Element,
    stanza: StanzaAddressing,
    options: OxDecryptOptions = {},
  ): Promise<DecryptedContent> {
    const policy =
      options.policy === undefined ? this.#basePolicy : resolvePolicy(this.#basePolicy, options.policy)
    return decryptContent(this.#state, el, stanza, {
      policy,
      basePolicy: this.#basePolicy,
      maxAgeSeconds: options.maxAgeSeconds ?? policy.maxAgeSeconds,
      futureSkewSeconds: options.futureSkewSeconds ?? policy.futureSkewSeconds,
      ref: options.now ?? this.#clock(),
      clock: this.#clock(),
      expectedTo: options.expectedTo,
      allowSignedOnly: options.allowSignedOnly === true,
      allowUnsigned: options.allowUnsigned === true,
      // every read and write for this message goes through the caller's transaction, when given
      store: options.store ?? this.#state.store,
    })
  }
}
