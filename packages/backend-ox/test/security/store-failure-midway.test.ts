/**
 * Fault: the store fails in the middle of an import (a full disk, a lost connection). Imports
 * are all-or-nothing: a keyring import (`importPublicKey`) and a backup restore
 * (`restoreBackup`, extra secret keys included) write in one transaction, so when the n-th write
 * throws a `StoreError`, the call rejects with it and the store holds exactly what it held
 * before, for every n, on both store implementations.
 */
import type { AccountTrustStore, TrustStore } from '@vouch/tm-core'
import { StoreError } from '@vouch/tm-core'
import { memoryStore } from '@vouch/store-memory'
import { sqliteStore } from '@vouch/store-sqlite'
import { createHash } from 'node:crypto'
import * as openpgp from 'openpgp'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { OxBackup } from '../../src/index.ts'
import { NS_OX, OX_STATE_NAMESPACE, oxBackend } from '../../src/index.ts'
import { ALICE, BOB, party, rejectionOf } from '../helpers.ts'

const WRITE = /^(?:set|add|remove|reset|delete|change)[A-Z]/

interface Faults {
  /** writes seen so far (through the store and its transactions) */
  writes: number
  /** the write (1-based, counted with `writes`) that throws; `Infinity` for none */
  failAt: number
}

/** `store` whose write number `faults.failAt` throws a `StoreError` (inside transactions too). */
function faulty(store: AccountTrustStore, faults: Faults): AccountTrustStore {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      if (prop === 'transaction')
        return <T>(fn: (tx: AccountTrustStore) => Promise<T>): Promise<T> =>
          target.transaction((tx) => fn(faulty(tx, faults)))
      if (typeof prop === 'string' && WRITE.test(prop))
        return async (...args: unknown[]): Promise<unknown> => {
          faults.writes++
          if (faults.writes === faults.failAt)
            throw new StoreError(`injected failure of write ${faults.writes} (${prop})`)
          return Reflect.apply(value, target, args)
        }
      return (value as (...args: unknown[]) => unknown).bind(target)
    },
  })
}

/** Everything OX keeps in the account: its state (a hash of the bytes), its keys and its own key. */
async function snapshot(store: AccountTrustStore): Promise<unknown> {
  const state: Record<string, string> = {}
  for (const k of await store.listState(OX_STATE_NAMESPACE))
    state[k] = createHash('sha256')
      .update((await store.getState(OX_STATE_NAMESPACE, k)) ?? new Uint8Array())
      .digest('hex')
  return { state, keys: await store.getKeys(NS_OX), own: await store.getOwnKey(NS_OX) }
}

const opened: TrustStore[] = []
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close()
})

const stores: ReadonlyArray<readonly [string, () => Promise<TrustStore>]> = [
  ['memory', async () => memoryStore()],
  ['sqlite', async () => sqliteStore({ database: ':memory:' })],
]

async function account(open: () => Promise<TrustStore>): Promise<AccountTrustStore> {
  const s = await open()
  opened.push(s)
  return s.forAccount(ALICE)
}

const secretKeyStates = (s: AccountTrustStore) => s.listState(OX_STATE_NAMESPACE, 'secret:')
const contactKeyStates = (s: AccountTrustStore) => s.listState(OX_STATE_NAMESPACE, `key:${BOB}:`)

let bobKeyring: Uint8Array
let backup: OxBackup
beforeAll(async () => {
  const bobKey = async () =>
    (
      await openpgp.generateKey({
        type: 'ecc',
        curve: 'curve25519Legacy',
        userIDs: [{ name: `xmpp:${BOB}` }],
        format: 'object',
      })
    ).publicKey.write()
  bobKeyring = new Uint8Array(Buffer.concat([await bobKey(), await bobKey(), await bobKey()]))
  // a backup of two secret keys: the current one and the one it replaced
  const old = await party(ALICE)
  await old.ox.generateOwnKey({ replace: true })
  backup = await old.ox.createBackup()
})

describe.each(stores)('a store failing midway (%s store)', (_name, open) => {
  it('importPublicKey: a keyring of three keys stores none of them, whichever write fails', async () => {
    // the same import without a fault: how many writes it makes, and that it stores all three
    const clean: Faults = { writes: 0, failAt: Number.POSITIVE_INFINITY }
    const cleanStore = await account(open)
    const results = await oxBackend()({ store: faulty(cleanStore, clean) }).importPublicKey(BOB, bobKeyring)
    expect(results.map((r) => r.change)).toEqual(['added', 'added', 'added'])
    expect(await contactKeyStates(cleanStore)).toHaveLength(3)
    // key material only: the levels are ATM's (keysDiscovered), in the caller's own transaction
    expect(await cleanStore.getKeys(NS_OX)).toEqual([])
    expect(clean.writes).toBeGreaterThanOrEqual(3) // a state per key

    for (let n = 1; n <= clean.writes; n++) {
      const store = await account(open)
      const faults: Faults = { writes: 0, failAt: Number.POSITIVE_INFINITY }
      const ox = oxBackend()({ store: faulty(store, faults) })
      await ox.generateOwnKey()
      const before = await snapshot(store)
      faults.failAt = faults.writes + n
      expect(await rejectionOf(ox.importPublicKey(BOB, bobKeyring)), `write ${n}`).toMatchObject({
        name: 'StoreError',
      })
      expect(await snapshot(store), `write ${n}`).toEqual(before)
      expect(await ox.knownKeys(BOB), `write ${n}`).toEqual([])
      expect(await ox.keysOf(BOB), `write ${n}`).toEqual([])
    }
  })

  it('restoreBackup: neither the extra secret keys nor the current one are stored, whichever write fails', async () => {
    const clean: Faults = { writes: 0, failAt: Number.POSITIVE_INFINITY }
    const cleanStore = await account(open)
    await oxBackend()({ store: faulty(cleanStore, clean) }).restoreBackup(backup.bytes, backup.code)
    expect(await secretKeyStates(cleanStore)).toHaveLength(2)
    expect(await cleanStore.getOwnKey(NS_OX)).toBeDefined()
    expect(clean.writes).toBeGreaterThanOrEqual(4) // the extra key, the current one, `own`, the own key id

    for (let n = 1; n <= clean.writes; n++) {
      const store = await account(open)
      const faults: Faults = { writes: 0, failAt: n }
      const ox = oxBackend()({ store: faulty(store, faults) })
      expect(await rejectionOf(ox.restoreBackup(backup.bytes, backup.code)), `write ${n}`).toMatchObject({
        name: 'StoreError',
      })
      expect(await snapshot(store), `write ${n}`).toEqual({ state: {}, keys: [], own: undefined })
      expect(await ox.ownKeyInfo(), `write ${n}`).toBeUndefined()
    }
  })
})
