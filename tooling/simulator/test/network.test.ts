/**
 * The simulator's own delivery model: Carbons, MAM catch-up, virtual time, seeded adversary,
 * stand-in encryption (TM-21 bookkeeping), outboxes and pluggable stores.
 */
import { memoryStore } from '@vouch/store-memory'
import type { TrustStore } from '@vouch/tm-core'
import { NS_ATM_1, NS_OMEMO_2 } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import type { Network, NetworkInit } from '../src/index.ts'
import { createNetwork, createRng, parseAccounts, runSpanningScenario, spanningPairs } from '../src/index.ts'

const opened: Network[] = []
afterEach(async () => {
  for (const n of opened.splice(0)) await n.close()
})

async function world(spec: string, init: NetworkInit = {}): Promise<Network> {
  const net = await createNetwork(init)
  opened.push(net)
  for (const a of parseAccounts(spec)) for (let i = 0; i < a.endpoints; i++) await net.addEndpoint(a.name)
  return net
}

describe('simulator: delivery model', () => {
  it('PRNG: the same seed gives the same stream, another seed another', () => {
    const a = createRng(7)
    const b = createRng(7)
    const xs = Array.from({ length: 5 }, () => a.int(1000))
    expect(Array.from({ length: 5 }, () => b.int(1000))).toEqual(xs)
    expect(Array.from({ length: 5 }, () => createRng(8).int(1000))).not.toEqual(xs)
  })

  it('keys discovered: every endpoint fetched the device lists of its account and its contacts (TOAKAFA)', async () => {
    const net = await world('alice:2,bob:1')
    expect(await net.matrix()).toEqual({
      'alice/1': { 'alice/1': 'own', 'alice/2': 'automatically-trusted', 'bob/1': 'automatically-trusted' },
      'alice/2': { 'alice/1': 'automatically-trusted', 'alice/2': 'own', 'bob/1': 'automatically-trusted' },
      'bob/1': { 'alice/1': 'automatically-trusted', 'alice/2': 'automatically-trusted', 'bob/1': 'own' },
    })
  })

  it('Carbons: a message to a bare JID reaches every endpoint of that account and the sender’s other endpoints, never the sender', async () => {
    const net = await world('alice:3,bob:2')
    await net.authenticateMutually('alice/1', 'alice/2')
    await net.authenticate('alice/1', 'bob/1') // ATM-S1 to alice, ATM-S2 to bob
    await net.run()
    const toBob = net.messages.find((m) => m.to === net.accountJid('bob'))
    expect(toBob).toBeDefined()
    const reached = net.deliveries.filter((d) => d.messageId === toBob?.id).map((d) => d.to)
    expect(reached.sort()).toEqual(['alice/2', 'alice/3', 'bob/1', 'bob/2'])
  })

  it('stand-in encryption: only the allowed keys read a message; the others count as unreadable', async () => {
    const net = await world('alice:3,bob:2')
    await net.authenticateMutually('alice/1', 'alice/2')
    await net.authenticate('alice/1', 'bob/1')
    await net.run()
    for (const m of net.messages) {
      const readers = net.reads.filter((r) => r.messageId === m.id).map((r) => r.reader)
      expect(readers.sort()).toEqual(m.allowedKeys.map((k) => net.keyLabel(k.owner, k.keyId)).sort())
    }
    expect(net.stats.unreadable).toBe(net.deliveries.filter((d) => !d.readable).length)
    expect(net.stats.unreadable).toBeGreaterThan(0)
  })

  it('MAM: an offline endpoint receives nothing live and catches up from the archive when it comes online', async () => {
    const net = await world('alice:3')
    await net.authenticateMutually('alice/1', 'alice/2')
    await net.setOnline('alice/2', false)
    await net.authenticateMutually('alice/1', 'alice/3')
    await net.run()
    expect(net.deliveries.filter((d) => d.to === 'alice/2')).toEqual([])
    expect(await net.level('alice/2', 'alice/3')).not.toBe('authenticated')
    await net.setOnline('alice/2', true)
    await net.run()
    expect(net.deliveries.filter((d) => d.to === 'alice/2').map((d) => d.via)).toEqual(['archive', 'archive'])
    expect(await net.level('alice/2', 'alice/3')).toBe('authenticated')
  })

  it('outbox: a decision made offline is sent when the endpoint reconnects', async () => {
    const net = await world('alice:3')
    await net.authenticateMutually('alice/1', 'alice/2')
    await net.setOnline('alice/1', false)
    await net.authenticate('alice/1', 'alice/3')
    await net.run()
    expect(net.deliveries).toEqual([])
    await net.setOnline('alice/1', true)
    await net.run()
    expect(await net.level('alice/2', 'alice/3')).toBe('authenticated')
  })

  it('adversary: a lost live copy is delivered later from the archive (MAM), and the world still converges', async () => {
    const net = await world('alice:2,bob:1', { seed: 5, adversary: { dropToArchive: 1, reorder: true } })
    await net.authenticateMutually('alice/1', 'alice/2')
    await net.authenticateMutually('alice/1', 'bob/1')
    await net.run()
    expect(net.deliveries.length).toBeGreaterThan(0)
    expect(net.deliveries.every((d) => d.via === 'archive')).toBe(true)
    expect(await net.converged()).toBe(true)
  })

  it('adversary: duplicates reach the engine and are ignored as replays (D-9, X5)', async () => {
    const net = await world('alice:2,bob:1', { seed: 5, adversary: { duplicate: 1, reorder: true } })
    await net.authenticateMutually('alice/1', 'alice/2')
    await net.authenticateMutually('alice/1', 'bob/1')
    await net.run()
    const replays = net.deliveries.filter((d) => d.readable && d.via === 'replay')
    expect(replays.length).toBeGreaterThan(0)
    expect(replays.some((d) => d.outcome === 'ignored' && d.reason === 'replay')).toBe(true)
    expect(await net.converged()).toBe(true)
  })

  it('adversary: runs are reproducible from the seed, and the seed changes the delivery order', async () => {
    const order = async (seed: number) => {
      const r = await runSpanningScenario({
        accounts: parseAccounts('alice:4,bob:2'),
        seed,
        adversary: { reorder: true, duplicate: 0.5 },
        settleEachPair: false,
      })
      opened.push(r.network)
      return r.network.deliveries.map((d) => `${d.messageId}>${d.to}:${d.via}`)
    }
    const a = await order(11)
    expect(await order(11)).toEqual(a)
    expect(await order(12)).not.toEqual(a)
  })

  it('property (b) control: once a person authenticates an injected key, it reads trust messages (the detector is live)', async () => {
    const net = await world('alice:2')
    const evil = await net.injectKey('alice')
    await net.authenticateMutually('alice/1', 'alice/2')
    await net.authenticate('alice/1', evil.label) // a person is fooled
    await net.run()
    expect(net.reads.filter((r) => r.readerInjected).length).toBeGreaterThan(0)
    expect(await net.level('alice/2', evil.label)).toBe('authenticated')
  })

  it('an injected key’s forged trust messages are postponed, never applied (ATM-P1)', async () => {
    const net = await world('alice:2')
    const evil = await net.injectKey('alice')
    await net.authenticateMutually('alice/1', 'alice/2')
    net.forge(evil.label, evil.account, {
      usage: NS_ATM_1,
      encryption: NS_OMEMO_2,
      keyOwners: [{ jid: evil.account, trust: [evil.key], distrust: [net.endpoint('alice/2').key] }],
    })
    await net.run()
    expect(net.deliveries.filter((d) => d.readable).map((d) => d.outcome)).toEqual(['postponed', 'postponed'])
    expect(await net.level('alice/1', 'alice/2')).toBe('authenticated')
    expect(await net.level('alice/1', evil.label)).not.toBe('authenticated')
  })

  it('pluggable stores: the factory makes one store per endpoint', async () => {
    const made: string[] = []
    const store = (e: { label: string }): TrustStore => {
      made.push(e.label)
      return memoryStore()
    }
    await world('alice:2,bob:1', { store })
    expect(made).toEqual(['alice/1', 'alice/2', 'bob/1'])
  })

  it('default scenario: n − 1 pairs for two accounts, n − k + k(k−1)/2 for k accounts', () => {
    expect(spanningPairs(parseAccounts('alice:3,bob:2'))).toEqual([
      ['alice/1', 'alice/2'],
      ['alice/1', 'alice/3'],
      ['alice/1', 'bob/1'],
      ['bob/1', 'bob/2'],
    ])
    expect(spanningPairs(parseAccounts('a:2,b:2,c:2'))).toHaveLength(6 - 3 + 3)
  })

  it.each(['alice:1', 'alice:2', 'alice:3,bob:1', 'alice:4,bob:4', 'alice:2,bob:2,carol:2'])(
    'default scenario converges: %s',
    async (spec) => {
      const r = await runSpanningScenario({
        accounts: parseAccounts(spec),
        adversary: { reorder: true, duplicate: 0.3 },
      })
      opened.push(r.network)
      expect(r.converged).toBe(true)
    },
  )
})
