import type {
  AccountTrustStore,
  AddPostponedResult,
  BareJid,
  ChangeContext,
  EncryptionNamespace,
  KeyId,
  KeyQuery,
  KeyRecord,
  LevelChange,
  PostponedDecision,
  PostponedQuery,
  SecurityPolicy,
  TrustLevel,
  TrustStore,
} from '@vouch/tm-core/contracts'
import { mergeInOneCall, postponedResult } from '@vouch/tm-core'
import type { Scope, SqlStoreCore } from './context.ts'
import * as keys from './keys.ts'
import * as lastApplied from './last-applied.ts'
import * as postponed from './postponed.ts'
import * as settings from './settings.ts'
import * as state from './state.ts'
import { TxRunner } from './transactions.ts'

/**
 * A `TrustStore` on any SQL database kysely speaks, given its {@link SqlStoreCore} (the Kysely
 * instance with the store's schema migrated, the table names, the {@link SqlDialect}, limits).
 */
export class SqlTrustStore implements TrustStore {
  readonly #core: SqlStoreCore
  constructor(core: SqlStoreCore) {
    this.#core = core
  }
  forAccount(account: BareJid): AccountTrustStore {
    return new SqlAccountStore(this.#core, account, new TxRunner(this.#core, account, undefined))
  }
  async close(): Promise<void> {
    const core = this.#core
    if (core.closed) return
    core.closed = true
    // Wait for the running transaction or call (kysely's connection mutex), then release.
    await core.db
      .connection()
      .execute(async () => {})
      .catch(() => {})
    await core.destroy?.()
  }
}

/** One account's view, plain or of a transaction: each method runs one query module function. */
class SqlAccountStore implements AccountTrustStore {
  readonly account: BareJid
  readonly #core: SqlStoreCore
  readonly #s: Scope
  readonly #tx: TxRunner

  constructor(core: SqlStoreCore, account: BareJid, tx: TxRunner) {
    this.account = account
    this.#core = core
    this.#s = { core, account }
    this.#tx = tx
  }

  transaction<T>(fn: (tx: AccountTrustStore) => Promise<T>): Promise<T> {
    return this.#tx.transaction((runner) => fn(new SqlAccountStore(this.#core, this.account, runner)))
  }

  // ---- security policy and D-11 ----

  getSecurityPolicy(encryption: EncryptionNamespace): Promise<SecurityPolicy | undefined> {
    if (this.#tx.inTransaction)
      return this.#tx.unit('getSecurityPolicy', (uow, db) => uow.getSecurityPolicy(db, encryption))
    return this.#tx.run('getSecurityPolicy', (db) => settings.getSecurityPolicy(this.#s, db, encryption))
  }
  setSecurityPolicy(encryption: EncryptionNamespace, policy: SecurityPolicy): Promise<void> {
    return this.#tx.write('setSecurityPolicy', (db) =>
      settings.setSecurityPolicy(this.#s, db, encryption, policy),
    )
  }
  resetSecurityPolicy(encryption: EncryptionNamespace): Promise<void> {
    return this.#tx.write('resetSecurityPolicy', (db) =>
      settings.resetSecurityPolicy(this.#s, db, encryption),
    )
  }
  wasAuthenticatedOnce(encryption: EncryptionNamespace, owner: BareJid): Promise<boolean> {
    if (this.#tx.inTransaction)
      return this.#tx.unit('wasAuthenticatedOnce', (uow, db) =>
        uow.wasAuthenticatedOnce(db, encryption, owner),
      )
    return this.#tx.run('wasAuthenticatedOnce', (db) =>
      settings.wasAuthenticatedOnce(this.#s, db, encryption, owner),
    )
  }
  resetAuthenticatedOnce(encryption: EncryptionNamespace, owner: BareJid): Promise<void> {
    return this.#tx.write('resetAuthenticatedOnce', (db) =>
      settings.resetAuthenticatedOnce(this.#s, db, encryption, owner),
    )
  }

  // ---- own key ----

  getOwnKey(encryption: EncryptionNamespace): Promise<KeyId | undefined> {
    if (this.#tx.inTransaction) return this.#tx.unit('getOwnKey', (uow, db) => uow.getOwnKey(db, encryption))
    return this.#tx.run('getOwnKey', (db) => settings.getOwnKey(this.#s, db, encryption))
  }
  setOwnKey(encryption: EncryptionNamespace, keyId: KeyId): Promise<void> {
    return this.#tx.write('setOwnKey', (db) => settings.setOwnKey(this.#s, db, encryption, keyId))
  }
  resetOwnKey(encryption: EncryptionNamespace): Promise<void> {
    return this.#tx.write('resetOwnKey', (db) => settings.resetOwnKey(this.#s, db, encryption))
  }

  // ---- keys and trust levels ----

  addKeys(
    encryption: EncryptionNamespace,
    owner: BareJid,
    keyIds: readonly KeyId[],
    ctx: ChangeContext,
    level: TrustLevel = 'automatically-distrusted',
  ): Promise<readonly KeyRecord[]> {
    if (keyIds.length === 0) return this.#tx.run('addKeys', async () => [])
    return this.#tx.atomic('addKeys', (db) =>
      keys.addKeys(this.#s, db, encryption, owner, keyIds, ctx, level),
    )
  }
  getKey(encryption: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<KeyRecord | undefined> {
    if (this.#tx.inTransaction)
      return this.#tx.unit('getKey', (uow, db) => uow.getKey(db, encryption, owner, keyId))
    return this.#tx.run('getKey', (db) => keys.getKey(this.#s, db, encryption, owner, keyId))
  }
  getTrustLevel(encryption: EncryptionNamespace, owner: BareJid, keyId: KeyId): Promise<TrustLevel> {
    if (this.#tx.inTransaction)
      return this.#tx.unit(
        'getTrustLevel',
        async (uow, db) => (await uow.getKey(db, encryption, owner, keyId))?.level ?? 'undecided',
      )
    return this.#tx.run('getTrustLevel', (db) => keys.getTrustLevel(this.#s, db, encryption, owner, keyId))
  }
  getKeys(encryption: EncryptionNamespace, query: KeyQuery = {}): Promise<readonly KeyRecord[]> {
    if (this.#tx.inTransaction)
      return this.#tx.unit('getKeys', (uow, db) => uow.getKeys(db, encryption, query))
    return this.#tx.run('getKeys', (db) => keys.getKeys(this.#s, db, encryption, query))
  }
  hasKey(encryption: EncryptionNamespace, owner: BareJid, levels?: readonly TrustLevel[]): Promise<boolean> {
    return this.#tx.run('hasKey', (db) => keys.hasKey(this.#s, db, encryption, owner, levels))
  }
  setTrustLevels(
    encryption: EncryptionNamespace,
    changes: readonly LevelChange[],
    ctx: ChangeContext,
  ): Promise<readonly KeyRecord[]> {
    const wanted = keys.wantedLevels(changes)
    if (wanted.size === 0) return this.#tx.run('setTrustLevels', async () => [])
    return this.#tx.unit('setTrustLevels', (uow, db) => uow.setTrustLevels(db, encryption, wanted, ctx))
  }
  changeTrustLevels(
    encryption: EncryptionNamespace,
    owners: readonly BareJid[],
    from: TrustLevel,
    to: TrustLevel,
    ctx: ChangeContext,
  ): Promise<readonly KeyRecord[]> {
    if (owners.length === 0 || from === to) return this.#tx.run('changeTrustLevels', async () => [])
    return this.#tx.unit('changeTrustLevels', (uow, db) =>
      uow.changeTrustLevels(db, encryption, owners, from, to, ctx),
    )
  }
  removeKeys(encryption: EncryptionNamespace, owner: BareJid, keyIds?: readonly KeyId[]): Promise<void> {
    return this.#tx.write('removeKeys', (db) => keys.removeKeys(this.#s, db, encryption, owner, keyIds))
  }
  removeKeysById(encryption: EncryptionNamespace, keyIds: readonly KeyId[]): Promise<void> {
    return this.#tx.write('removeKeysById', (db) => keys.removeKeysById(this.#s, db, encryption, keyIds))
  }
  resetAll(encryption: EncryptionNamespace): Promise<void> {
    return this.#tx.atomic('resetAll', (db) => settings.resetAll(this.#s, db, encryption))
  }

  // ---- postponed decisions ----

  addPostponed(decisions: readonly PostponedDecision[]): Promise<AddPostponedResult> {
    const merged = mergeInOneCall(decisions)
    if (merged.winners.size === 0)
      return this.#tx.run('addPostponed', async () => postponedResult([], merged.ignored, []))
    return this.#tx.atomic('addPostponed', (db) => postponed.addPostponed(this.#s, db, merged))
  }
  getPostponed(
    encryption: EncryptionNamespace,
    query: PostponedQuery = {},
  ): Promise<readonly PostponedDecision[]> {
    return this.#tx.ifPostponed(
      'getPostponed',
      [],
      (db) => postponed.getPostponed(this.#s, db, encryption, query),
      'read',
    )
  }
  removePostponed(
    encryption: EncryptionNamespace,
    keyIds: { readonly trust?: readonly KeyId[]; readonly distrust?: readonly KeyId[] },
  ): Promise<void> {
    return this.#tx.ifPostponed(
      'removePostponed',
      undefined,
      (db) => postponed.removePostponed(this.#s, db, encryption, keyIds),
      'atomic',
    )
  }
  removePostponedBySenders(encryption: EncryptionNamespace, senderKeys?: readonly KeyId[]): Promise<void> {
    return this.#tx.ifPostponed(
      'removePostponedBySenders',
      undefined,
      (db) => postponed.removePostponedBySenders(this.#s, db, encryption, senderKeys),
      'write',
    )
  }

  // ---- D-9 ----

  getLastApplied(
    encryption: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
  ): Promise<number | undefined> {
    if (this.#tx.inTransaction)
      return this.#tx.unit('getLastApplied', (uow, db) =>
        uow.getLastApplied(db, encryption, senderKey, owner, keyId),
      )
    return this.#tx.run('getLastApplied', (db) =>
      lastApplied.getLastApplied(this.#s, db, encryption, senderKey, owner, keyId),
    )
  }
  setLastApplied(
    encryption: EncryptionNamespace,
    senderKey: KeyId,
    owner: BareJid,
    keyId: KeyId,
    sceTime: number,
  ): Promise<void> {
    return this.#tx.unit('setLastApplied', async (uow) =>
      uow.setLastApplied({ encryption, senderKey, owner, keyId, sceTime }),
    )
  }

  // ---- backend state ----

  getState(namespace: string, key: string): Promise<Uint8Array | undefined> {
    return this.#tx.run('getState', (db) => state.getState(this.#s, db, namespace, key))
  }
  setState(namespace: string, key: string, value: Uint8Array): Promise<void> {
    const blob = this.#core.dialect.toBlob(value)
    return this.#tx.write('setState', (db) => state.setState(this.#s, db, namespace, key, blob))
  }
  deleteState(namespace: string, key: string): Promise<void> {
    return this.#tx.write('deleteState', (db) => state.deleteState(this.#s, db, namespace, key))
  }
  listState(namespace: string, prefix?: string): Promise<readonly string[]> {
    return this.#tx.run('listState', (db) => state.listState(this.#s, db, namespace, prefix))
  }
}
