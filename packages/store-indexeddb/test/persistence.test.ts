/**
 * What IndexedDB adds to the engine: the state survives closing and reopening the database, a
 * store transaction commits all or nothing even when the page dies in the middle (the store
 * contract's `transaction()`), and two instances on one database never lose an update.
 */
import { StoreBusyError } from '@vouch/tm-core'
import { deleteDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { commands } from 'vitest/browser'
import { indexedDbStore } from '../src/index.ts'
import { ALICE, BOB, CTX, freshName, keyId, keyIds, OMEMO } from './fixtures.ts'

declare module 'vitest/browser' {
  interface BrowserCommands {
    crashPage(moduleUrl: string, exportName: string, args: unknown[], crashPoint: string): Promise<void>
  }
}

const crashModule = new URL('./crash-page.ts', import.meta.url).href

describe('store-indexeddb persistence', () => {
  it('every table survives close and reopen', async () => {
    const name = freshName('reopen')
    const a = await indexedDbStore({ name })
    const alice = a.forAccount(ALICE)
    await alice.setSecurityPolicy(OMEMO, 'authenticated-only')
    await alice.setOwnKey(OMEMO, keyId(1))
    await alice.addKeys(OMEMO, BOB, keyIds(3, 10), CTX, 'authenticated')
    await alice.setTrustLevels(OMEMO, [{ owner: BOB, keyIds: [keyId(11)], level: 'manually-distrusted' }], {
      provenance: { kind: 'atm', senderJid: ALICE, senderKey: keyId(1) },
      at: CTX.at + 1,
    })
    await alice.addPostponed([
      {
        encryption: OMEMO,
        senderKey: keyId(20),
        senderJid: BOB,
        owner: BOB,
        keyId: keyId(21),
        polarity: 'trust',
        sceTime: 5,
        receivedAt: 6,
      },
    ])
    await alice.setLastApplied(OMEMO, keyId(20), BOB, keyId(21), 7)
    await alice.setState('omemo', 'session:bob', new Uint8Array([1, 2, 3]))
    await alice.removeKeys(OMEMO, BOB, [keyId(12)])
    const dump = async (s: typeof alice) => ({
      policy: await s.getSecurityPolicy(OMEMO),
      own: await s.getOwnKey(OMEMO),
      keys: await s.getKeys(OMEMO),
      once: await s.wasAuthenticatedOnce(OMEMO, BOB),
      postponed: await s.getPostponed(OMEMO),
      applied: await s.getLastApplied(OMEMO, keyId(20), BOB, keyId(21)),
      state: await s.getState('omemo', 'session:bob'),
      list: await s.listState('omemo'),
    })
    const before = await dump(alice)
    await a.close()
    const b = await indexedDbStore({ name })
    const after = await dump(b.forAccount(ALICE))
    expect(after).toEqual(before)
    expect(after.keys.map((k) => k.level)).toEqual(['authenticated', 'manually-distrusted'])
    await b.close()
    await deleteDB(name)
  })

  it('transaction(): a page closed midway (after a non-IndexedDB await) leaves none of its writes', async () => {
    const name = freshName('crash-midway')
    const a = await indexedDbStore({ name })
    await a.forAccount(ALICE).addKeys(OMEMO, BOB, [keyId(1)], CTX)
    await a.close()

    await commands.crashPage(crashModule, 'hangMidTransaction', [name, 50], 'midway')

    const b = await indexedDbStore({ name })
    const alice = b.forAccount(ALICE)
    expect((await alice.getKeys(OMEMO)).map((k) => k.keyId)).toEqual([keyId(1)])
    expect(await alice.getState('omemo', 'session')).toBeUndefined()
    expect(await alice.getOwnKey(OMEMO)).toBeUndefined()
    // and the database is usable after the crash
    await alice.addKeys(OMEMO, BOB, [keyId(2)], CTX)
    expect(await alice.getKeys(OMEMO)).toHaveLength(2)
    await b.close()
    await deleteDB(name)
  })

  it('transaction(): a page closed while the final IndexedDB commit runs leaves all or none of it', async () => {
    const name = freshName('crash-commit')
    const a = await indexedDbStore({ name })
    await a.forAccount(ALICE).addKeys(OMEMO, BOB, [keyId(1)], CTX)
    await a.close()

    const n = 20_000
    await commands.crashPage(crashModule, 'closeDuringCommit', [name, n], 'committing')

    const b = await indexedDbStore({ name })
    const alice = b.forAccount(ALICE)
    const keys = await alice.getKeys(OMEMO)
    const state = await alice.getState('omemo', 'session')
    // all (the commit finished before the page died) or nothing, never a part
    if (keys.length === 1) expect(state).toBeUndefined()
    else {
      expect(keys).toHaveLength(n + 1)
      expect(state).toEqual(new Uint8Array([9, 9, 9]))
    }
    console.info(`closed during commit: ${keys.length === 1 ? 'rolled back' : 'committed'} (${n} keys)`)
    await b.close()
    await deleteDB(name)
  })

  it('two instances on one database: a transaction on a stale state writes nothing (StoreBusyError, retryable); plain writes are never lost', async () => {
    const name = freshName('two-tabs')
    const a = await indexedDbStore({ name })
    const b = await indexedDbStore({ name })
    const aliceA = a.forAccount(ALICE)
    const aliceB = b.forAccount(ALICE)
    await aliceA.addKeys(OMEMO, BOB, [keyId(1)], CTX)
    const err = await aliceB
      .transaction(async (tx) => {
        expect(await tx.getKeys(OMEMO)).toHaveLength(1) // B's state is loaded here
        await aliceA.addKeys(OMEMO, BOB, [keyId(2)], CTX) // A commits meanwhile
        await tx.addKeys(OMEMO, BOB, [keyId(3)], CTX)
      })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreBusyError)
    expect((err as StoreBusyError).retryable).toBe(true)
    // B reloads before its next call: it sees A's write, and its retry goes through
    await aliceB.addKeys(OMEMO, BOB, [keyId(3)], CTX)
    expect((await aliceB.getKeys(OMEMO)).map((k) => k.keyId)).toEqual([keyId(1), keyId(2), keyId(3)])
    // plain writes from both, interleaved: none is lost (a stale plain write runs again, reloaded)
    await Promise.all([
      aliceA.addKeys(OMEMO, BOB, [keyId(4)], CTX),
      aliceB.addKeys(OMEMO, BOB, [keyId(5)], CTX),
      aliceA.setState('omemo', 'a', new Uint8Array([1])),
      aliceB.setState('omemo', 'b', new Uint8Array([2])),
    ])
    await a.close()
    const c = await indexedDbStore({ name })
    expect(await c.forAccount(ALICE).getKeys(OMEMO)).toHaveLength(5)
    expect(await c.forAccount(ALICE).listState('omemo')).toEqual(['a', 'b'])
    await Promise.all([b.close(), c.close()])
    await deleteDB(name)
  })
})
