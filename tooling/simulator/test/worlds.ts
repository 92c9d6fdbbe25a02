/**
 * Small simulated worlds for the model-based properties: 1 – 2 accounts with 1 – 4 endpoints,
 * a spanning tree of mutual manual authentications grown from one root, seeded adversarial
 * delivery and endpoints that go offline and catch up from the archive.
 */
import fc from 'fast-check'
import type { AdversaryOptions, Network, Rng } from '../src/index.ts'
import { createNetwork, createRng } from '../src/index.ts'

export interface World {
  /** endpoints per account (accounts `a`, `b`) */
  readonly accounts: readonly number[]
  /** drives the tree, the offline choice and the network */
  readonly seed: number
  readonly adversary: AdversaryOptions
  /** may tree leaves go offline after joining (and catch up at the end)? */
  readonly offline: boolean
}

const ACCOUNT_NAMES = ['a', 'b'] as const

export const worldArb: fc.Arbitrary<World> = fc.record({
  accounts: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  adversary: fc.record({
    reorder: fc.boolean(),
    duplicate: fc.constantFrom(0, 0.3, 1),
    dropToArchive: fc.constantFrom(0, 0.3),
    maxDelay: fc.constantFrom(50, 5_000),
  }),
  offline: fc.boolean(),
})

export function labelsOf(world: World): string[] {
  return world.accounts.flatMap((n, i) => Array.from({ length: n }, (_, j) => `${ACCOUNT_NAMES[i]}/${j + 1}`))
}

export const accountOf = (label: string): string => label.split('/')[0] as string

/**
 * A spanning tree grown from a random root: each next endpoint X (random order) is authenticated
 * mutually with an endpoint Y already in the tree, of X's own account if one is there already,
 * else of any account (the one cross-account pair). That is the shape XEP-0450 can spread: a
 * contact vouches only for its own keys, so X's own account must reach X through its own
 * endpoints. Returns [Y, X] pairs, n − 1 of them.
 */
export function growingTree(labels: readonly string[], rng: Rng): [string, string][] {
  const order = rng.shuffle(labels)
  const tree: string[] = order.slice(0, 1)
  const pairs: [string, string][] = []
  for (const x of order.slice(1)) {
    const mates = tree.filter((t) => accountOf(t) === accountOf(x))
    const candidates = mates.length > 0 ? mates : tree
    pairs.push([candidates[rng.int(candidates.length)] as string, x])
    tree.push(x)
  }
  return pairs
}

export interface BuiltWorld {
  readonly net: Network
  readonly labels: readonly string[]
  readonly pairs: readonly [string, string][]
  readonly offline: readonly string[]
  readonly rng: Rng
}

/**
 * Builds the world and runs the tree: after each pair the network settles (the "all keys"
 * message ATM-S4 snapshots what its sender knows, so a pair made before the previous pair's
 * messages arrived can miss keys); chosen leaves go offline right after joining.
 */
export async function buildTree(world: World): Promise<BuiltWorld> {
  const rng = createRng(world.seed)
  const net = await createNetwork({ seed: world.seed, adversary: world.adversary })
  const labels = labelsOf(world)
  for (const l of labels) await net.addEndpoint(accountOf(l), { resource: l.split('/')[1] as string })
  const pairs = growingTree(labels, rng)
  const inner = new Set(pairs.map(([y]) => y))
  const offline = world.offline ? labels.filter((l) => !inner.has(l) && rng.chance(0.5)) : []
  for (const [y, x] of pairs) {
    await net.authenticateMutually(y, x)
    await net.run()
    if (offline.includes(x)) await net.setOnline(x, false)
  }
  return { net, labels, pairs, offline, rng }
}

/** Brings the offline endpoints back (MAM catch-up) and delivers everything. */
export async function finish(b: BuiltWorld): Promise<void> {
  await b.net.run()
  for (const o of b.offline) await b.net.setOnline(o, true)
  await b.net.run()
}
