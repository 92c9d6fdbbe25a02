/**
 * Bounded state (issue 12 point 7): libsignal-protocol-typescript 0.0.16 never drops old
 * receiving chains (its `removeOldChains` deletes the wrong property), so a ping-pong session
 * record grows with every ratchet step. Our session store prunes each record it is handed
 * (`pruneSessionRecord`) to the chains the library can still use: the current ones and those of
 * the last ten remote ratchet keys. The first test shows the growth in the raw library (what
 * fails without the pruning); the others show ours stays flat and loses nothing it needs.
 */
import { describe, expect, it, vi } from 'vitest'
import { rawParty, rawSend, rawSession } from '../bench/raw.ts'
import { countChains, pruneSessionRecord } from '../src/prune.ts'
import { sessionLockHistory } from '../src/session-lock.ts'
import { addressing, body, bodyText, curve, expectError, pair } from './helpers.ts'
import { installCurve } from '../src/curve.ts'

const KM = new Uint8Array(32).buffer

// hundreds of ratchet steps: seconds on a loaded 2-core machine
vi.setConfig({ testTimeout: 60_000 })

describe('bounded session records', () => {
  it('the raw library keeps one chain per ratchet step (the growth the pruning removes)', async () => {
    installCurve(curve)
    const a = await rawParty('a@example.org', 1)
    const b = await rawParty('b@example.org', 2)
    await rawSession(a, b)
    for (let i = 0; i < 120; i++) await (i % 2 === 0 ? rawSend(a, b, KM) : rawSend(b, a, KM))
    const raw = a.store.sessions.get('b@example.org.2') as string
    expect(countChains(raw)).toBeGreaterThan(50)
    const pruned = pruneSessionRecord(raw)
    expect(countChains(pruned)).toBeLessThanOrEqual(12)
    expect(pruned.length).toBeLessThan(raw.length / 2)
    // the pruned record is still a working session
    a.store.sessions.set('b@example.org.2', pruned)
    const back = await rawSend(a, b, KM)
    expect(back.byteLength).toBe(32)
  })

  it('ours: at most 12 chains and a flat record size over a 400-message ping-pong', async () => {
    const [alice, bob] = await pair()
    const sizes: number[] = []
    for (let i = 0; i < 400; i++) {
      const [s, r] = i % 2 === 0 ? [alice, bob] : [bob, alice]
      const m = await s.backend.encrypt(body(String(i)), [r.jid])
      await r.backend.decrypt(m.element, addressing(s, r))
      if (i % 100 === 99) sizes.push((await alice.backend.sessionRecord(bob.jid, bob.deviceId))?.length ?? 0)
    }
    const record = (await alice.backend.sessionRecord(bob.jid, bob.deviceId)) as string
    expect(countChains(record)).toBeLessThanOrEqual(12)
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(200)
  })

  it('a message held back over up to ten ratchet steps still decrypts after pruning; older ones are refused', async () => {
    const [alice, bob] = await pair()
    await bob.backend.decrypt(
      (await alice.backend.encrypt(body('start'), [bob.jid])).element,
      addressing(alice, bob),
    )
    const held = await alice.backend.encrypt(body('held 9'), [bob.jid])
    const old = await alice.backend.encrypt(body('held 20'), [bob.jid])
    const ping = async () => {
      const m = await bob.backend.encrypt(body('b'), [alice.jid])
      await alice.backend.decrypt(m.element, addressing(bob, alice))
      const n = await alice.backend.encrypt(body('a'), [bob.jid])
      await bob.backend.decrypt(n.element, addressing(alice, bob))
    }
    for (let i = 0; i < 9; i++) await ping()
    expect(bodyText((await bob.backend.decrypt(held.element, addressing(alice, bob))).payload)).toBe('held 9')
    for (let i = 0; i < 11; i++) await ping()
    await expectError(bob.backend.decrypt(old.element, addressing(alice, bob)), 'DecryptionError')
  })

  it("libsignal's SessionLock keeps every job's promise (raw library); ours leaves it empty after each message", async () => {
    installCurve(curve)
    const a = await rawParty('c@example.org', 1)
    const b = await rawParty('d@example.org', 2)
    await rawSession(a, b)
    const before = sessionLockHistory().promises
    for (let i = 0; i < 50; i++) await (i % 2 === 0 ? rawSend(a, b, KM) : rawSend(b, a, KM))
    expect(sessionLockHistory().promises - before).toBeGreaterThanOrEqual(100)
    const [alice, bob] = await pair()
    for (let i = 0; i < 50; i++) {
      const [s, r] = i % 2 === 0 ? [alice, bob] : [bob, alice]
      const m = await s.backend.encrypt(body(String(i)), [r.jid])
      await r.backend.decrypt(m.element, addressing(s, r))
    }
    expect(sessionLockHistory()).toEqual({ promises: 0, errors: 0 })
  })
})
