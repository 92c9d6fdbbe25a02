/**
 * A second unbounded list in libsignal-protocol-typescript 0.0.16: `SessionLock.queueJobForNumber`
 * pushes every job's promise onto the static `SessionLock._promises` (and every failure onto
 * `SessionLock.errors`) and nothing ever removes them — two promises per message, kept for the
 * life of the process. They serve only `SessionLock.clearQueue()` (a test helper we never call);
 * the job queues themselves (`jobQueue`, per address) clean up after themselves.
 *
 * {@link releaseSessionLockHistory} empties both lists after each of our library calls. It is not a
 * patch of the library's code: it clears two public static fields, in this one place, and
 * `test/bounded-state.test.ts` shows the growth without it.
 */
import { SessionLock } from '@privacyresearch/libsignal-protocol-typescript/lib/session-lock.js'

/** Forgets the settled-job history libsignal's SessionLock keeps forever. */
export function releaseSessionLockHistory(): void {
  SessionLock._promises.length = 0
  SessionLock.errors.length = 0
}

/** How many job promises and errors SessionLock holds (tests and figures). */
export function sessionLockHistory(): { readonly promises: number; readonly errors: number } {
  return { promises: SessionLock._promises.length, errors: SessionLock.errors.length }
}
