/**
 * Model-based properties of ATM (XEP-0450) on the simulator, ≥ 1000 fast-check runs each, small
 * worlds (1 – 2 accounts, 1 – 4 endpoints each), seeded adversarial delivery (reordering,
 * duplicates, lost live copies fetched from the archive) and endpoints that are offline and catch
 * up from MAM.
 *
 * The model: a set of manual decisions — a spanning tree of mutual authentications, then
 * distrusts — determines every endpoint's level for every key, as if every person had made the
 * same decisions by hand on each of their endpoints:
 * - every key someone authenticated is `authenticated` everywhere;
 * - a key distrusted by an endpoint of its own account (ATM-S5) is `manually-distrusted` on every
 *   other endpoint; a contact's key distrusted by D (ATM-S6) is `manually-distrusted` on D's own
 *   account's endpoints — the contact's own endpoints are never told (that is D's opinion);
 * - the rows of distrusted endpoints are only checked for keys nobody distrusted (whether a
 *   distrusted endpoint still hears of another distrust depends on delivery order, by design:
 *   it is no longer told anything).
 */
import type { TrustLevel } from '@vouch/tm-core'
import { NS_ATM_1, NS_OMEMO_2 } from '@vouch/tm-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { TrustMatrix } from '../src/index.ts'
import { accountOf, buildTree, finish, worldArb } from './worlds.ts'

const RUNS = 1000
const TIMEOUT = 120_000

interface Distrust {
  readonly by: string
  readonly victim: string
}

/** The closure of the decisions under the ATM rules (see the file comment). */
function model(labels: readonly string[], distrusts: readonly Distrust[]): TrustMatrix {
  const out: TrustMatrix = {}
  for (const r of labels) {
    const row: Record<string, TrustLevel | 'own'> = {}
    for (const c of labels) {
      if (r === c) {
        row[c] = 'own'
        continue
      }
      const distrusted = distrusts.some(
        (d) =>
          d.victim === c &&
          (d.by === r || accountOf(d.by) === accountOf(c) || accountOf(d.by) === accountOf(r)),
      )
      row[c] = distrusted ? 'manually-distrusted' : 'authenticated'
    }
    out[r] = row
  }
  return out
}

/** Drops the cells the model leaves open: a distrusted endpoint's view of distrusted keys. */
function comparable(m: TrustMatrix, victims: ReadonlySet<string>): TrustMatrix {
  const out: TrustMatrix = {}
  for (const [r, row] of Object.entries(m)) {
    out[r] = Object.fromEntries(Object.entries(row).filter(([c]) => !(victims.has(r) && victims.has(c))))
  }
  return out
}

describe('ATM model-based properties (simulator, fast-check)', () => {
  it(
    'property (a): final trust levels equal the model — manual decisions closed under the ATM rules',
    async () => {
      await fc.assert(
        fc.asyncProperty(worldArb, fc.integer({ min: 0, max: 3 }), async (world, distrustCount) => {
          const b = await buildTree(world)
          try {
            const online = b.labels.filter((l) => !b.offline.includes(l))
            const distrusts: Distrust[] = []
            const victims = new Set<string>()
            // victims and deciders are disjoint; deciders are online (they know everyone)
            for (let i = 0; i < distrustCount && b.labels.length > 1; i++) {
              const victim = b.labels[b.rng.int(b.labels.length)] as string
              const deciders = online.filter((l) => l !== victim && !victims.has(l))
              if (deciders.some((d) => distrusts.some((x) => x.victim === d))) continue
              const by = deciders.filter((d) => !distrusts.some((x) => x.victim === d))[
                b.rng.int(deciders.length)
              ]
              if (by === undefined || distrusts.some((d) => d.by === victim)) continue
              victims.add(victim)
              distrusts.push({ by, victim })
            }
            // issued back to back, with the previous messages still in flight
            for (const d of distrusts) await b.net.distrust(d.by, d.victim)
            await finish(b)
            const actual = comparable(await b.net.matrix(b.labels), victims)
            expect(actual).toEqual(comparable(model(b.labels, distrusts), victims))
          } finally {
            await b.net.close()
          }
        }),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'property (b): an injected key never receives a readable trust message and never becomes authenticated',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          worldArb,
          fc.nat(),
          fc.array(fc.record({ when: fc.nat(), to: fc.nat(), kind: fc.nat({ max: 3 }) }), { maxLength: 4 }),
          async (world, target, forgeries) => {
            const b = await buildTree({ ...world, offline: false })
            const net = b.net
            try {
              const accounts = [...new Set(b.labels.map(accountOf))]
              const victimAccount = accounts[target % accounts.length] as string
              const evil = await net.injectKey(victimAccount)
              // the attacker sends forged trust messages: vouching for itself, distrusting honest keys
              for (const f of forgeries) {
                const to = net.accountJid(accounts[f.to % accounts.length] as string)
                const honest = net.endpoints.filter((e) => !e.injected)
                const h = honest[f.when % honest.length]
                if (h === undefined) continue
                const owners =
                  f.kind === 0
                    ? [{ jid: evil.account, trust: [evil.key], distrust: [] }]
                    : f.kind === 1
                      ? [{ jid: h.account, trust: [], distrust: [h.key] }]
                      : f.kind === 2
                        ? [{ jid: to, trust: [evil.key], distrust: [] }].filter((o) => o.jid === evil.account)
                        : [
                            { jid: evil.account, trust: [evil.key], distrust: [] },
                            {
                              jid: h.account === evil.account ? to : h.account,
                              trust: [],
                              distrust: [h.key],
                            },
                          ].filter((o, i, all) => all.findIndex((x) => x.jid === o.jid) === i)
                if (owners.length === 0) continue
                net.forge(evil.label, to, { usage: NS_ATM_1, encryption: NS_OMEMO_2, keyOwners: owners })
                await net.runFor(f.when % 3_000)
              }
              // honest life goes on: the root's account adds nothing; every honest endpoint re-fetches
              await net.run()
              expect(
                net.reads.filter((r) => r.readerInjected),
                'TM-21: readable by the injected key',
              ).toEqual([])
              for (const e of net.endpoints) {
                if (e.injected) continue
                expect(await net.level(e.label, evil.label), `${e.label} → injected key`).not.toBe(
                  'authenticated',
                )
              }
              // the forgeries change nothing: the honest endpoints still authenticate each other
              expect(await net.converged(b.labels)).toBe(true)
            } finally {
              await net.close()
            }
          },
        ),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'property (c): n endpoints reach full mutual authentication with n − 1 manual (mutual) authentications',
    async () => {
      await fc.assert(
        fc.asyncProperty(worldArb, async (world) => {
          const b = await buildTree(world)
          try {
            await finish(b)
            expect(b.pairs).toHaveLength(b.labels.length - 1)
            expect(await b.net.matrix(b.labels)).toEqual(model(b.labels, []))
          } finally {
            await b.net.close()
          }
        }),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )

  it(
    'property (d): replays, duplicates and reordering never undo a newer decision of the same endpoint (authenticate, then distrust)',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          worldArb.filter((w) => w.accounts.reduce((s, n) => s + n, 0) >= 2),
          fc.nat(),
          fc.array(fc.record({ decider: fc.nat(), gap: fc.nat({ max: 6_000 }) }), {
            minLength: 1,
            maxLength: 4,
          }),
          async (world, pick, decisions) => {
            const b = await buildTree({ ...world, offline: false })
            const net = b.net
            try {
              // the key of `victim` is authenticated everywhere (the tree); then its own account's
              // other endpoints (or, alone in its account, a contact) flip it, ending with a distrust
              const victim = b.labels[pick % b.labels.length] as string
              const others = b.labels.filter((l) => l !== victim)
              const mates = others.filter((l) => accountOf(l) === accountOf(victim))
              // one decider: D-9 orders its decisions by SCE time. With several deciders an older
              // message from one still undoes a newer decision of another: see the engine-bug
              // reproduction in security/stale-trust-message.test.ts
              const pool = mates.length > 0 ? mates : others
              const deciders = [pool[decisions[0]!.decider % pool.length] as string]
              const steps = decisions.length % 2 === 1 ? decisions : decisions.slice(1)
              for (const [i, s] of steps.entries()) {
                const by = deciders[s.decider % deciders.length] as string
                if (i % 2 === 0) await net.distrust(by, victim)
                else await net.authenticate(by, victim)
                await net.runFor(s.gap) // the previous decisions' messages are still in flight
              }
              await net.run()
              const told = (r: string): boolean =>
                mates.length > 0 || deciders.some((d) => d === r || accountOf(d) === accountOf(r))
              for (const r of others)
                expect(await net.level(r, victim), `${r} → ${victim}`).toBe(
                  told(r) ? 'manually-distrusted' : 'authenticated',
                )
            } finally {
              await net.close()
            }
          },
        ),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )
})
