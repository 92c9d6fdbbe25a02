/**
 * The shared backend suite on OMEMO 0.3 (`protectsEnvelope: false`: the envelope checks are
 * skipped visibly, and the suite checks no time, recipients or padding are claimed): three
 * accounts with one device each, every bundle and device list imported by every other account.
 * The suite records each listed key at `automatically-trusted` as ATM's `keysDiscovered` would.
 */
import { defineBackendComplianceSuite } from '@vouch/compliance/backend'
import { LEGACY_OMEMO_CAPABILITIES } from '../src/index.ts'
import { party } from './helpers.ts'

defineBackendComplianceSuite({
  name: 'omemo:0.3 (memory store)',
  capabilities: LEGACY_OMEMO_CAPABILITIES,
  async create() {
    const parties = await Promise.all(
      ['alice@example.org', 'bob@example.org', 'mallory@example.net'].map((j) => party(j)),
    )
    for (const a of parties)
      for (const b of parties) {
        if (a === b) continue
        await a.backend.importDeviceList(b.jid, await b.backend.ownDeviceList())
        await a.backend.importBundle(b.jid, b.deviceId, await b.backend.ownBundle())
      }
    const [alice, bob, mallory] = parties as [(typeof parties)[0], (typeof parties)[0], (typeof parties)[0]]
    return { alice, bob, mallory }
  },
})
