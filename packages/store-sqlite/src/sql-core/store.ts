import type * as C from '@vouch/tm-core/contracts'
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
export class SqlTrustStore implements C.TrustStore {
  readonly #core: SqlStoreCore
  constructor(core: SqlStoreCore) {
    this.#core = core
  }
  forAccount(account: C.BareJid): C.AccountTrustStore {
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
class SqlAccountStore implements C.AccountTrustStore {
  readonly account: C.BareJid
  readonly #core: SqlStoreCore
  readonly #s: Scope
  readonly #tx: TxRunner

  constructor(core: SqlStoreCore, account: C.BareJid, tx: TxRunner) {
    this.account = account
    this.#core = core
    this.#s = { core, account }
    this.#tx = tx
  }

  transaction<T>(fn: (tx: C.AccountTrustStore) => Promise<T>): Promise<T> {
    return this.#tx.transaction((runner) => fn(new SqlAccountStore(this.#core, this.account, runner)))
  }

  // ---- security policy and D-11 ----

  getSecurityPolicy(encryption: C.EncryptionNamespace): Promise<C.SecurityPolicy | undefined> {
    if (this.#tx.inTransaction)
      return this.#tx.unit('getSecurityPolicy', (uow, db) => uow.getSecurityPolicy(db, encryption))
    return this.#tx.run('getSecurityPolicy', (db) => settings.getSecurityPolicy(this.#s, db, encryption))
  }
  setSecurityPolicy(encryption: C.EncryptionNamespace, policy: C.SecurityPolicy): Promise<void> {
    return this.#tx.write('setSecurityPolicy', (db) =>
      settings.setSecurityPolicy(this.#s, db, encryption, policy),
    )
  }
  resetSecurityPolicy(encryption: C.EncryptionNamespace): Promise<void> {
    return this.#tx.write('resetSecurityPolicy', (db) =>
      settings.resetSecurityPolicy(this.#s, db, encryption),
    )
  }
  wasAuthenticatedOnce(encryption: C.EncryptionNamespace, owner: C.BareJid): Promise<boolean> {
    if (this.#tx.inTransaction)
      return this.#tx.unit('wasAuthenticatedOnce', (uow, db) =>
        uow.wasAuthenticatedOnce(db, encryption, owner),
      )
    return this.#tx.run('wasAuthenticatedOnce', (db) =>
      settings.wasAuthenticatedOnce(this.#s, db, encryption, owner),
    )
  }
  resetAuthenticatedOnce(encryption: C.EncryptionNamespace, owner: C.BareJid): Promise<void> {
    return this.#tx.write('resetAuthenticatedOnce', (db) =>
      settings.resetAuthenticatedOnce(this.#s, db, encryption, owner),
    )
  }

  // ---- own key ----

  getOwnKey(encryption: C.EncryptionNamespace): Promise<C.KeyId | undefined> {
    if (this.#tx.inTransaction) return this.#tx.unit('getOwnKey', (uow, db) => uow.getOwnKey(db, encryption))
    return this.#tx.run('getOwnKey', (db) => settings.getOwnKey(this.#s, db, encryption))
  }
  setOwnKey(encryption: C.EncryptionNamespace, keyId: C.KeyId): Promise<void> {
    return this.#tx.write('setOwnKey', (db) => settings.setOwnKey(this.#s, db, encryption, keyId))
  }
  resetOwnKey(encryption: C.EncryptionNamespace): Promise<void> {
    return this.#tx.write('resetOwnKey', (db) => settings.resetOwnKey(this.#s, db, encryption))
  }

  // ---- keys and trust levels ----

  addKeys(
    encryption: C.EncryptionNamespace,
    owner: C.BareJid,
    keyIds: readonly C.KeyId[],
    ctx: C.ChangeContext,
    level: C.TrustLevel = 'automatically-distrusted',
  ): Promise<readonly C.KeyRecord[]> {
    if (keyIds.length === 0) return this.#tx.run('addKeys', async () => [])
    return this.#tx.atomic('addKeys', (db) =>
      keys.addKeys(this.#s, db, encryption, owner, keyIds, ctx, level),
    )
  }
  getKey(
    encryption: C.EncryptionNamespace,
    owner: C.BareJid,
    keyId: C.KeyId,
  ): Promise<C.KeyRecord | undefined> {
    if (this.#tx.inTransaction)
      return this.#tx.unit('getKey', (uow, db) => uow.getKey(db, encryption, owner, keyId))
    return this.#tx.run('getKey', (db) => keys.getKey(this.#s, db, encryption, owner, keyId))
  }
  getTrustLevel(encryption: C.EncryptionNamespace, owner: C.BareJid, keyId: C.KeyId): Promise<C.TrustLevel> {
    if (this.#tx.inTransaction)
      return this.#tx.unit(
        'getTrustLevel',
        async (uow, db) => (await uow.getKey(db, encryption, owner, keyId))?.level ?? 'undecided',
      )
    return this.#tx.run('getTrustLevel', (db) => keys.getTrustLevel(this.#s, db, encryption, owner, keyId))
  }
  getKeys(encryption: C.EncryptionNamespace, query: C.KeyQuery = {}): Promise<readonly C.KeyRecord[]> {
    if (this.#tx.inTransaction)
      return this.#tx.unit('getKeys', (uow, db) => uow.getKeys(db, encryption, query))
    return this.#tx.run('getKeys', (db) => keys.getKeys(this.#s, db, encryption, query))
  }
  hasKey(
    encryption: C.EncryptionNamespace,
    owner: C.BareJid,
    levels?: readonly C.TrustLevel[],
  ): Promise<boolean> {
    return this.#tx.run('hasKey', (db) => keys.hasKey(this.#s, db, encryption, owner, levels))
  }
  setTrustLevels(
    encryption: C.EncryptionNamespace,
    changes: readonly C.LevelChange[],
    ctx: C.ChangeContext,
  ): Promise<readonly C.KeyRecord[]> {
    const wanted = keys.wantedLevels(changes)
    if (wanted.size === 0) return this.#tx.run('setTrustLevels', async () => [])
    return this.#tx.unit('setTrustLevels', (uow, db) => uow.setTrustLevels(db, encryption, wanted, ctx))
  }
  changeTrustLevels(
    encryption: C.EncryptionNamespace,
    owners: readonly C.BareJid[],
    from: C.TrustLevel,
    to: C.TrustLevel,
    ctx: C.ChangeContext,
  ): Promise<readonly C.KeyRecord[]> {
    if (owners.length === 0 || from === to) return this.#tx.run('changeTrustLevels', async () => [])
    return this.#tx.unit('changeTrustLevels', (uow, db) =>
      uow.changeTrustLevels(db, encryption, owners, from, to, ctx),
    )
  }
  removeKeys(
    encryption: C.EncryptionNamespace,
    owner: C.BareJid,
    keyIds?: readonly C.KeyId[],
  ): Promise<void> {
    return this.#tx.write('removeKeys', (db) => keys.removeKeys(this.#s, db, encryption, owner, keyIds))
  }
  removeKeysById(encryption: C.EncryptionNamespace, keyIds: readonly C.KeyId[]): Promise<void> {
    return this.#tx.write('removeKeysById', (db) => keys.removeKeysById(this.#s, db, encryption, keyIds))
  }
  resetAll(encryption: C.EncryptionNamespace): Promise<void> {
    return this.#tx.atomic('resetAll', (db) => settings.resetAll(this.#s, db, encryption))
  }

  // ---- postponed decisions ----

  addPostponed(decisions: readonly C.PostponedDecision[]): Promise<C.AddPostponedResult> {
    const merged = mergeInOneCall(decisions)
    if (merged.winners.size === 0)
      return this.#tx.run('addPostponed', async () => postponedResult([], merged.ignored, []))
    return this.#tx.atomic('addPostponed', (db) => postponed.addPostponed(this.#s, db, merged))
  }
  getPostponed(
    encryption: C.EncryptionNamespace,
    query: C.PostponedQuery = {},
  ): Promise<readonly C.PostponedDecision[]> {
    return this.#tx.ifPostponed(
      'getPostponed',
      [],
      (db) => postponed.getPostponed(this.#s, db, encryption, query),
      'read',
    )
  }
  removePostponed(
    encryption: C.EncryptionNamespace,
    keyIds: { readonly trust?: readonly C.KeyId[]; readonly distrust?: readonly C.KeyId[] },
  ): Promise<void> {
    return this.#tx.ifPostponed(
      'removePostponed',
      undefined,
      (db) => postponed.removePostponed(this.#s, db, encryption, keyIds),
      'atomic',
    )
  }
  removePostponedBySenders(
    encryption: C.EncryptionNamespace,
    senderKeys?: readonly C.KeyId[],
  ): Promise<void> {
    return this.#tx.ifPostponed(
      'removePostponedBySenders',
      undefined,
      (db) => postponed.removePostponedBySenders(this.#s, db, encryption, senderKeys),
      'write',
    )
  }

  // ---- D-9 ----

  getLastApplied(
    encryption: C.EncryptionNamespace,
    senderKey: C.KeyId,
    owner: C.BareJid,
    keyId: C.KeyId,
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
    encryption: C.EncryptionNamespace,
    senderKey: C.KeyId,
    owner: C.BareJid,
    keyId: C.KeyId,
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
