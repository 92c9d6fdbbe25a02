/**
 * The shared backend suite on OMEMO 2: three accounts with one device each, every bundle and
 * device list imported by every other account (as if fetched from PEP).
 */
import { defineBackendComplianceSuite } from '@vouch/compliance/backend'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import { OMEMO_CAPABILITIES, type OmemoBackend, omemoBackend } from '../src/index.ts'

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
        await a.backend.importDeviceList(b.jid, await b.backend.ownDeviceList())
        await a.backend.importBundle(
          b.jid,
          (await b.backend.ownDeviceId()) as number,
          await b.backend.ownBundle(),
        )
      }
    const [alice, bob, mallory] = parties as [(typeof parties)[0], (typeof parties)[0], (typeof parties)[0]]
    return { alice, bob, mallory }
  },
})
