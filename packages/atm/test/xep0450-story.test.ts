/**
 * X17 (single-process version): the XEP-0450 §Use Cases story with A1, A2, A3 and B1, each an
 * engine with its own memory store. Every outgoing message is routed by hand to exactly the
 * endpoints whose key is in `allowedKeys` (what the E2EE layer would let decrypt it).
 */
import type { BareJid, FullJid, KeyId } from '@vouch/tm-core'
import { NS_OMEMO_2, parseFullJid } from '@vouch/tm-core'
import { memoryStore } from '@vouch/store-memory'
import { describe, expect, it } from 'vitest'
import type { Atm, DecisionResult } from '../src/index.ts'
import { createAtm } from '../src/index.ts'
import { A1, A2, A3, ALICE, B1, BOB, OMEMO } from './helpers.ts'

const NS = NS_OMEMO_2

interface Node {
  readonly name: string
  readonly jid: FullJid
  readonly account: BareJid
  readonly key: KeyId
  readonly atm: Atm
  readonly level: (owner: BareJid, key: KeyId) => Promise<string>
}

async function node(name: string, account: BareJid, key: KeyId, t: () => number): Promise<Node> {
  const store = memoryStore().forAccount(account)
  await store.setOwnKey(NS, key)
  const atm = createAtm({
    account,
    store,
    backends: [OMEMO],
    now: t,
    ownFullJid: parseFullJid(`${account}/${name}`),
  })
  return {
    name,
    jid: parseFullJid(`${account}/${name}`),
    account,
    key,
    atm,
    level: (o, k) => store.getTrustLevel(NS, o, k),
  }
}

describe('X17: the XEP-0450 story, end to end in one process', () => {
  it('X17: examples 1–8 of XEP-0450 (authenticate B1, A3; distrust A3, B1) converge on every endpoint', async () => {
    let clock = 1_000
    const now = () => clock
    const a1 = await node('a1', ALICE, A1, now)
    const a2 = await node('a2', ALICE, A2, now)
    const a3 = await node('a3', ALICE, A3, now)
    const b1 = await node('b1', BOB, B1, now)
    const nodes = [a1, a2, a3, b1]
    const log: string[] = []

    /** Delivers `r.outgoing` from `from` to every endpoint allowed to decrypt it. */
    async function route(from: Node, r: DecisionResult): Promise<void> {
      for (const m of r.outgoing) {
        clock += 1
        for (const to of nodes) {
          if (to === from) continue
          if (!m.allowedKeys.some((k) => k.owner === to.account && k.keyId === to.key)) continue
          const res = await to.atm.handleTrustMessage({
            message: m.message,
            senderJid: from.jid,
            senderKey: from.key,
            carrier: NS,
            encrypted: true,
            sceTime: clock,
          })
          expect(res.outgoing).toEqual([]) // D-5
          log.push(`${from.name}→${to.name} ${res.outcome}`)
        }
      }
    }

    // A1 has already authenticated A2's key (and A2 will authenticate A1 later).
    await route(a1, await a1.atm.authenticate(NS, ALICE, [A2]))

    // Examples 1, 2: A1 authenticates B1 → B1's key to A2 (ATM-S1), A2's key to B1 (ATM-S2).
    await route(a1, await a1.atm.authenticate(NS, BOB, [B1]))
    expect(log).toEqual(['a1→a2 postponed', 'a1→b1 postponed'])

    // B1 authenticates A1 (mutual initial authentication) → applies A2 from A1 (ATM-R2 at B1).
    await route(b1, await b1.atm.authenticate(NS, ALICE, [A1]))
    expect(await b1.level(ALICE, A2)).toBe('authenticated')

    // A2 authenticates A1 → applies B1 from A1 (ATM-R1 at A2).
    await route(a2, await a2.atm.authenticate(NS, ALICE, [A1]))
    expect(await a2.level(BOB, B1)).toBe('authenticated')

    // Examples 3, 4, 5: A2 authenticates A3 → A3's key to B1 and A1 (ATM-S3), all keys to A3 (ATM-S4).
    log.length = 0
    const s3 = await a2.atm.authenticate(NS, ALICE, [A3])
    expect(s3.outgoing.map((m) => m.to)).toEqual([BOB, ALICE])
    await route(a2, s3)
    expect(log).toEqual(['a2→a1 applied', 'a2→b1 applied', 'a2→a3 postponed'])
    expect(await a1.level(ALICE, A3)).toBe('authenticated') // ATM-R3
    expect(await b1.level(ALICE, A3)).toBe('authenticated') // ATM-R2
    // A3 authenticates A2 → applies A1 and B1 from A2
    await route(a3, await a3.atm.authenticate(NS, ALICE, [A2]))
    expect(await a3.level(ALICE, A1)).toBe('authenticated')
    expect(await a3.level(BOB, B1)).toBe('authenticated')

    // Examples 6, 7: A1 distrusts A3 → distrust message to A2 and B1 (ATM-S5), never to A3.
    log.length = 0
    await route(a1, await a1.atm.distrust(NS, ALICE, [A3]))
    expect(log).toEqual(['a1→a2 applied', 'a1→b1 applied'])
    expect(await a2.level(ALICE, A3)).toBe('manually-distrusted') // ATM-R4
    expect(await b1.level(ALICE, A3)).toBe('manually-distrusted') // ATM-R5

    // Example 8: A1 distrusts B1 → distrust message to A2 only (ATM-S6).
    log.length = 0
    await route(a1, await a1.atm.distrust(NS, BOB, [B1]))
    expect(log).toEqual(['a1→a2 applied'])
    expect(await a2.level(BOB, B1)).toBe('manually-distrusted') // ATM-R6
    expect(await a1.level(BOB, B1)).toBe('manually-distrusted')
  })
})
