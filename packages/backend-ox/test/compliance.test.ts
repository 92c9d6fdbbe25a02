/**
 * The shared backend suite on OX. Keys are generated once per file (key generation dominates);
 * each test gets fresh stores with every key imported, as if fetched from PEP.
 */
import { defineBackendComplianceSuite } from '@vouch/compliance/backend'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import type { PrivateKey } from 'openpgp'
import { beforeAll } from 'vitest'
import { generateOxKey, OX_CAPABILITIES, oxBackend } from '../src/index.ts'
import { ALICE, BOB, MALLORY } from './helpers.ts'

const keys = new Map<BareJid, PrivateKey>()
beforeAll(async () => {
  const back = new Date(Date.now() - 365 * 24 * 3600 * 1000)
  for (const jid of [ALICE, BOB, MALLORY]) keys.set(jid, await generateOxKey(jid, { date: back }))
})

async function account(jid: BareJid) {
  const store = memoryStore().forAccount(jid)
  const backend = oxBackend()({ store })
  await backend.importOwnKey(keys.get(jid) as PrivateKey)
  return { jid, store, backend }
}

defineBackendComplianceSuite({
  name: 'ox (openpgp.js, memory store)',
  capabilities: OX_CAPABILITIES,
  async create() {
    const parties = await Promise.all([ALICE, BOB, MALLORY].map(account))
    for (const a of parties)
      for (const b of parties)
        if (a !== b) await a.backend.importPublicKey(b.jid, await b.backend.exportPublicKey())
    const [alice, bob, mallory] = parties as [(typeof parties)[0], (typeof parties)[0], (typeof parties)[0]]
    return { alice, bob, mallory }
  },
})
