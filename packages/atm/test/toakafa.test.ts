/** TOAK-1 … TOAK-3, D-11, X11, QXmpp 3: how new keys are stored. */
import { NS_OMEMO_2 } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  A1,
  ALICE_LAPTOP,
  A2,
  ALICE,
  B1,
  B2,
  B3,
  BOB,
  C1,
  CAROL,
  omemoKey,
  seed,
  trustMessage,
} from './helpers.ts'
import { type Endpoint, endpoint, receive, STORES } from './stores.ts'

const NS = NS_OMEMO_2

describe.each(STORES)('TOAKAFA ($name store)', (factory) => {
  let ep: Endpoint
  afterEach(async () => ep.close())

  it('TOAK-1: new keys of an owner never authenticated are automatically trusted', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    const r = await ep.atm.keysDiscovered(NS, BOB, [B1, B2])
    expect(r.added.map((k) => [k.keyId, k.level, k.provenance])).toEqual(
      [B1, B2].sort().map((id) => [id, 'automatically-trusted', { kind: 'policy', policy: 'toakafa' }]),
    )
  })

  it('TOAK-2: after the first authentication, keys not authenticated by then are no longer trusted', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await ep.atm.keysDiscovered(NS, BOB, [B1, B2])
    await ep.atm.keysDiscovered(NS, CAROL, [C1])
    await ep.atm.authenticate(NS, BOB, [B1])
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('automatically-distrusted')
    expect(await ep.store.getTrustLevel(NS, CAROL, C1)).toBe('automatically-trusted') // per owner
  })

  it('TOAK-2: an automatic authentication (received) demotes the owner’s automatically trusted keys too', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, ALICE, [A2], 'authenticated')
    await ep.atm.keysDiscovered(NS, BOB, [B1, B2])
    await receive(ep.atm, {
      from: ALICE_LAPTOP,
      key: A2,
      message: trustMessage(NS, [{ jid: BOB, trust: [B1] }]),
    })
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('automatically-distrusted')
  })

  it('TOAK-3: keys that appear after the first authentication are not automatically trusted', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await ep.atm.authenticate(NS, BOB, [B1])
    const r = await ep.atm.keysDiscovered(NS, BOB, [B3])
    expect(r.added.map((k) => k.level)).toEqual(['automatically-distrusted'])
  })

  it('X11: TOAKAFA stays sticky after the authenticated key is distrusted (D-11); resetToakafa re-enables it', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await ep.atm.authenticate(NS, BOB, [B1])
    await ep.atm.distrust(NS, BOB, [B1])
    expect(await ep.store.hasKey(NS, BOB, ['authenticated'])).toBe(false)
    await ep.atm.keysDiscovered(NS, BOB, [B2])
    expect(await ep.store.getTrustLevel(NS, BOB, B2)).toBe('automatically-distrusted')
    await ep.atm.resetToakafa(NS, BOB)
    await ep.atm.keysDiscovered(NS, BOB, [B3])
    expect(await ep.store.getTrustLevel(NS, BOB, B3)).toBe('automatically-trusted')
  })

  it('QXmpp 3: the demotion moves automatically-trusted keys only; authenticated and manually-trusted stay', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    const [auto1, auto2, manual] = [omemoKey('auto1'), omemoKey('auto2'), omemoKey('manual')]
    await seed(ep.store, NS, BOB, [auto1, auto2], 'automatically-trusted')
    await seed(ep.store, NS, BOB, [manual], 'manually-trusted')
    await seed(ep.store, NS, BOB, [B1], 'authenticated')
    await ep.atm.authenticate(NS, BOB, [B2])
    expect(await ep.store.getTrustLevel(NS, BOB, auto1)).toBe('automatically-distrusted')
    expect(await ep.store.getTrustLevel(NS, BOB, auto2)).toBe('automatically-distrusted')
    expect(await ep.store.getTrustLevel(NS, BOB, manual)).toBe('manually-trusted')
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('authenticated')
  })

  it('authenticated-only: new keys are never automatically trusted', async () => {
    ep = await endpoint({
      store: factory,
      ownKeys: { [NS]: A1 },
      policy: { securityPolicy: 'authenticated-only' },
    })
    const r = await ep.atm.keysDiscovered(NS, BOB, [B1])
    expect(r.added.map((k) => k.level)).toEqual(['automatically-distrusted'])
  })

  it('the store’s per-encryption policy applies unless the engine is given one explicitly', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await ep.store.setSecurityPolicy(NS, 'authenticated-only')
    await ep.atm.keysDiscovered(NS, BOB, [B1])
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('automatically-distrusted')
  })

  it('policy.securityPolicy is only the explicit one; effectiveSecurityPolicy reports what the engine applies', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    expect(ep.atm.policy.securityPolicy).toBeUndefined()
    expect(await ep.atm.effectiveSecurityPolicy(NS)).toBe('toakafa')
    await ep.store.setSecurityPolicy(NS, 'authenticated-only')
    expect(ep.atm.policy.securityPolicy).toBeUndefined()
    expect(await ep.atm.effectiveSecurityPolicy(NS)).toBe('authenticated-only')
    const r = await ep.atm.keysDiscovered(NS, BOB, [B1])
    expect(r.added.map((k) => k.provenance)).toEqual([{ kind: 'policy', policy: 'authenticated-only' }])
  })

  it('an explicit policy.securityPolicy is reported and wins over the store’s', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 }, policy: { securityPolicy: 'toakafa' } })
    await ep.store.setSecurityPolicy(NS, 'authenticated-only')
    expect(ep.atm.policy.securityPolicy).toBe('toakafa')
    expect(await ep.atm.effectiveSecurityPolicy(NS)).toBe('toakafa')
    const r = await ep.atm.keysDiscovered(NS, BOB, [B1])
    expect(r.added.map((k) => k.level)).toEqual(['automatically-trusted'])
  })

  it('keysDiscovered keeps the level of keys already decided (ATM-P2) and emits level-changed for new ones', async () => {
    ep = await endpoint({ store: factory, ownKeys: { [NS]: A1 } })
    await seed(ep.store, NS, BOB, [B1], 'manually-distrusted')
    const seen: string[] = []
    ep.atm.on('level-changed', (e) => seen.push(`${e.key.keyId} ${e.from}→${e.to}`))
    await ep.atm.keysDiscovered(NS, BOB, [B1, B2])
    expect(await ep.store.getTrustLevel(NS, BOB, B1)).toBe('manually-distrusted')
    expect(seen).toEqual([`${B2} undecided→automatically-trusted`])
  })
})
