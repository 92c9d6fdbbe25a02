/**
 * Regression test of an engine bug (fixed in @vouch/atm, "D-9 across senders"): an older trust
 * message from one endpoint undid a newer decision about the same key made on another.
 *
 * D-9 orders decisions per (sender key, owner, key id) only, and D-10 lets an authenticated
 * sender's trust override a manual distrust — but nothing compared the message's SCE time with
 * the time of the key's latest decision. So a message that was merely delayed (Carbons, MAM,
 * reordering) re-authenticated a key that was distrusted after it was sent. The engine now skips
 * an automatic trust (reason `stale`) when the key's current distrust was stored at or after the
 * trust message's SCE time.
 *
 * Input: alice/1 and alice/2 authenticated each other and bob/1 (converged). alice/1 distrusts
 * bob/1, then authenticates it again (time t2); before that authentication message reaches
 * alice/2, a person on alice/2 distrusts bob/1 (time t3 > t2). The t2 message arrives.
 * Expected (and now actual): alice/2 keeps bob/1 manually-distrusted (its own decision is newer).
 * Before the fix: alice/2 held bob/1 authenticated (the t2 message overrode the t3 decision).
 */
import { describe, expect, it } from 'vitest'
import { createNetwork } from '../../src/index.ts'

describe('security: a delayed trust message must not undo a newer decision (cross-endpoint, D-9/D-10)', () => {
  it('D-9, D-10: alice/1’s older authentication of bob/1 does not override alice/2’s newer manual distrust', async () => {
    const net = await createNetwork({ seed: 1 })
    try {
      await net.addEndpoint('alice')
      await net.addEndpoint('alice')
      await net.addEndpoint('bob')
      await net.authenticateMutually('alice/1', 'alice/2')
      await net.authenticateMutually('alice/1', 'bob/1')
      await net.run()
      expect(await net.converged()).toBe(true)

      await net.distrust('alice/1', 'bob/1')
      await net.authenticate('alice/1', 'bob/1') // t2: its message is still in flight …
      await net.distrust('alice/2', 'bob/1') // t3 > t2: … when alice/2 decides
      await net.run()

      expect(await net.level('alice/1', 'bob/1')).toBe('manually-distrusted') // alice/2's message (t3) applied
      expect(await net.level('alice/2', 'bob/1')).toBe('manually-distrusted') // fails: 'authenticated'
    } finally {
      await net.close()
    }
  })
})
