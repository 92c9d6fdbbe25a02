/**
 * SCE-1 on OMEMO 2: the protected `<time/>` must lie within the window (policy `maxAgeSeconds`,
 * default one week; `futureSkewSeconds`, default 600 s; both overridable per call) around the
 * reference time. The window is checked once, by `@vouch/sce`'s openEnvelope with tm-core's
 * `outsideTimeWindow`; edges are inclusive.
 */
import type { DecryptOptions } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { expectError } from './helpers.ts'
import { backendPair, body, stanza } from './security/helpers.ts'

const NOW = new Date('2025-03-01T12:00:00Z')
const at = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000)

describe('SCE-1 time window (OMEMO 2)', () => {
  async function outcome(sentAt: Date, options: DecryptOptions = {}): Promise<string> {
    const { alice, bob } = await backendPair()
    const m = await alice.backend.encrypt(body('t'), [bob.jid], { now: sentAt })
    try {
      await bob.backend.decrypt(m.element, stanza(alice.jid, bob.jid), { now: NOW, ...options })
      return 'ok'
    } catch (e) {
      return `${(e as Error).name} ${(e as { rule?: string }).rule}`
    }
  }

  it('SCE-1: default window, one week old and 600 s ahead inclusive', async () => {
    expect(await outcome(at(-7 * 24 * 3600))).toBe('ok')
    expect(await outcome(at(-7 * 24 * 3600 - 1))).toBe('DecryptionError SCE-1')
    expect(await outcome(at(600))).toBe('ok')
    expect(await outcome(at(601))).toBe('DecryptionError SCE-1')
  })

  it('SCE-1: the per-call window overrides each side on its own', async () => {
    expect(await outcome(at(-3600), { maxAgeSeconds: 3600 })).toBe('ok')
    expect(await outcome(at(-3601), { maxAgeSeconds: 3600 })).toBe('DecryptionError SCE-1')
    expect(await outcome(at(-3601), { futureSkewSeconds: 0 })).toBe('ok')
    expect(await outcome(at(1), { futureSkewSeconds: 0 })).toBe('DecryptionError SCE-1')
  })

  it('SCE-1: a rejected message leaves the ratchet as it was (the error names the window)', async () => {
    const { alice, bob } = await backendPair()
    const m = await alice.backend.encrypt(body('late'), [bob.jid], { now: at(-8 * 24 * 3600) })
    const e = await expectError(
      () => bob.backend.decrypt(m.element, stanza(alice.jid, bob.jid), { now: NOW }),
      'DecryptionError',
      'SCE-1',
    )
    expect(e.message).toMatch(/old, over 604800 s/)
    const r = await bob.backend.decrypt(m.element, stanza(alice.jid, bob.jid), {
      now: NOW,
      maxAgeSeconds: 9 * 24 * 3600,
    })
    expect(r.payload[0]?.text()).toBe('late')
  })
})
