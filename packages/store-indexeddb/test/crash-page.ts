/**
 * Runs in a second page of the test's browser context (same origin, so the same IndexedDB), opened
 * by the `crashPage` command of vitest.config.ts, which closes that page at the moment these
 * functions announce by setting `globalThis.__vouchCrashPoint`.
 */
import { indexedDbStore } from '../src/index.ts'
import { ALICE, BOB, CTX, keyIds, OMEMO } from './fixtures.ts'

declare global {
  var __vouchCrashPoint: string | undefined
}

/**
 * A transaction writes keys and backend state, then awaits something that is not an IndexedDB
 * request (WebCrypto, as a backend would) and hangs there: the page is closed midway.
 */
export async function hangMidTransaction(name: string, keys: number): Promise<void> {
  const store = await indexedDbStore({ name })
  void store.forAccount(ALICE).transaction(async (tx) => {
    await tx.addKeys(OMEMO, BOB, keyIds(keys, 1000), CTX)
    await tx.setState('omemo', 'session', new Uint8Array([9, 9, 9]))
    await crypto.subtle.digest('SHA-256', new Uint8Array(32))
    await tx.setOwnKey(OMEMO, keyIds(1, 999)[0] as never)
    globalThis.__vouchCrashPoint = 'midway'
    await new Promise(() => {})
  })
}

/**
 * A transaction writes many keys and returns, so the store starts its one IndexedDB commit; the
 * page is closed as soon as the commit has started.
 */
export async function closeDuringCommit(name: string, keys: number): Promise<void> {
  const store = await indexedDbStore({ name })
  void store.forAccount(ALICE).transaction(async (tx) => {
    await tx.addKeys(OMEMO, BOB, keyIds(keys, 1000), CTX)
    await tx.setState('omemo', 'session', new Uint8Array([9, 9, 9]))
    // the engine hands the rows to IndexedDB right after this function returns
    setTimeout(() => {
      globalThis.__vouchCrashPoint = 'committing'
    }, 0)
  })
}
