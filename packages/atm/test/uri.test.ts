/** URI-3, URI-4, X15: Trust Message URIs need a stated source and the user's confirmation. */
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { UriDecisionSummary } from '../src/index.ts'
import { A1, A2, ALICE, B_DISTRUSTED_1, B_DISTRUSTED_2, B1, BOB, seed } from './helpers.ts'
import { type Endpoint, endpoint, levels } from './stores.ts'

const NS = NS_OMEMO_2
const bobUri = { jid: BOB, encryption: NS, trust: [B1], distrust: [B_DISTRUSTED_1, B_DISTRUSTED_2] }

describe('Trust Message URIs', () => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  it('X15: when the confirmation hook says no, nothing changes and nothing is sent (ConfirmationDeniedError)', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const before = await levels(ep.store)
    const err = await ep.atm
      .applyUri(bobUri, { uriSource: 'link', confirm: async () => false })
      .catch((e: unknown) => e as Error & { rule?: string })
    expect(err).toMatchObject({ name: 'ConfirmationDeniedError', rule: 'URI-4' })
    expect(await levels(ep.store)).toEqual(before)
  })

  it('URI-4: the hook is shown what would change, before anything is stored', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, BOB, [B_DISTRUSTED_2], 'manually-distrusted')
    let shown: UriDecisionSummary | undefined
    let levelAtConfirm: string | undefined
    await ep.atm.applyUri(bobUri, {
      uriSource: 'scan',
      confirm: async (s) => {
        shown = s
        levelAtConfirm = await ep.store.getTrustLevel(NS, BOB, B1)
        return true
      },
    })
    expect(shown).toEqual({
      jid: BOB,
      encryption: NS,
      uriSource: 'scan',
      authenticate: [B1],
      distrust: [B_DISTRUSTED_1],
      skippedOwnKeys: [],
    })
    expect(levelAtConfirm).toBe('undecided')
  })

  it('URI-3: a confirmed URI applies its decisions with the stated source as provenance, and broadcasts them', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    const r = await ep.atm.applyUri(bobUri, { uriSource: 'scan', confirm: async () => true })
    expect((await ep.store.getKey(NS, BOB, B1))?.provenance).toEqual({ kind: 'uri', source: 'scan' })
    expect(await ep.store.getTrustLevel(NS, BOB, B_DISTRUSTED_1)).toBe('manually-distrusted')
    expect(r.outgoing.map((m) => m.to)).toEqual([ALICE, BOB])
  })

  it('X8: an account URI listing our own key (Kaidan’s account QR) skips it and applies the rest', async () => {
    ep = await endpoint({ ownKeys: { [NS]: A2 } })
    let shown: UriDecisionSummary | undefined
    await ep.atm.applyUri(
      { jid: ALICE, encryption: NS, trust: [A1, A2], distrust: [] },
      {
        uriSource: 'scan',
        confirm: async (s) => {
          shown = s
          return true
        },
      },
    )
    expect(shown?.skippedOwnKeys).toEqual([A2])
    expect(await ep.store.getTrustLevel(NS, ALICE, A1)).toBe('authenticated')
    expect(await ep.store.getKey(NS, ALICE, A2)).toBeUndefined()
  })
})
