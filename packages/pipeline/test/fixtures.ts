/** Shared by the pipeline tests: the two accounts and a live copy from Bob to Alice. */
import type { BareJid, FullJid } from '@vouch/tm-core'
import type { ReceivedCopy } from '../src/index.ts'

export const ALICE = 'alice@example.org' as BareJid
export const BOB = 'bob@example.org' as BareJid

/** A copy from one of Bob's devices (`resource`) to Alice, deduplicated by `sid:<id>`, our clock's time. */
export function copyFromBob(
  id: string,
  encrypted: ReceivedCopy['encrypted'],
  resource = 'phone',
): ReceivedCopy {
  return {
    encrypted,
    from: `${BOB}/${resource}` as FullJid,
    to: ALICE,
    dedupKeys: [`sid:${id}`],
    referenceTime: new Date(),
  }
}
