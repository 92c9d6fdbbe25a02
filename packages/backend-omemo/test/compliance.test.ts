/**
 * The shared backend suite on OMEMO 2: three accounts with one device each, every bundle and
 * device list imported by every other account (as if fetched from PEP), every key recorded at
 * TOAKAFA's level for a new owner (`automatically-trusted`) as ATM's `keysDiscovered` would:
 * the backend itself never writes a level.
 */
import { defineBackendComplianceSuite } from '@vouch/compliance/backend'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import { OMEMO_CAPABILITIES, type OmemoBackend, omemoBackend } from '../src/index.ts'
import { introduce } from './helpers.ts'

const ALICE = 'alice@example.org' as BareJid
const BOB = 'bob@example.org' as BareJid
const MALLORY = 'mallory@example.net' as BareJid

async function account(jid: BareJid) {
  const store = memoryStore().forAccount(jid)
  const backend: OmemoBackend = omemoBackend({ preKeyCount: 25 })({ store })
  await backend.createDevice()
  return { jid, store, backend }
}

defineBackendComplianceSuite({
  name: 'omemo:2 (memory store)',
  capabilities: OMEMO_CAPABILITIES,
  async create() {
    const parties = await Promise.all([ALICE, BOB, MALLORY].map(account))
    for (const a of parties)
      for (const b of parties) {
        if (a === b) continue
        await introduce(a, b.jid, [b.backend])
      }
    const [alice, bob, mallory] = parties as [(typeof parties)[0], (typeof parties)[0], (typeof parties)[0]]
    return { alice, bob, mallory }
  },
})
