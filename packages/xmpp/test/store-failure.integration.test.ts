/**
 * Nothing accepted is ever lost: when the store fails while a received trust message is being
 * applied, the message is not recorded as processed and the archive pointer is held back, so
 * the next MAM catch-up applies it. (Bad input, by contrast, is recorded and reported as
 * `rejected`: see the story tests.)
 */
import { NS_OX } from '@vouch/backend-ox'
import type { ProsodyServer } from '@vouch/prosody-tooling'
import type { AccountTrustStore, KeyId } from '@vouch/tm-core'
import { StoreError } from '@vouch/tm-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Endpoint,
  endpoint,
  eventually,
  PASSWORD,
  SKIP_INTEGRATION,
  startTestServer,
} from './helpers.ts'
import { sqliteStore } from '@vouch/store-sqlite'

/**
 * A store whose next `setTrustLevels` to `authenticated` (inside or outside a transaction) fails
 * once when armed.
 */
function failingOnce(inner: AccountTrustStore): { store: AccountTrustStore; arm(): void; fired(): boolean } {
  let armed = false
  let fired = false
  const wrap = (s: AccountTrustStore): AccountTrustStore =>
    new Proxy(s, {
      get(target, prop) {
        if (prop === 'setTrustLevels')
          return async (...args: Parameters<AccountTrustStore['setTrustLevels']>) => {
            // only the ATM application of the received decision (an authentication) fails
            if (armed && args[1].some((c) => c.level === 'authenticated')) {
              armed = false
              fired = true
              throw new StoreError('injected: disk full')
            }
            return target.setTrustLevels(...args)
          }
        if (prop === 'transaction')
          return <T>(fn: (tx: AccountTrustStore) => Promise<T>) => target.transaction((tx) => fn(wrap(tx)))
        const value: unknown = Reflect.get(target, prop)
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
  return {
    store: wrap(inner),
    arm: () => {
      armed = true
    },
    fired: () => fired,
  }
}

describe.skipIf(SKIP_INTEGRATION)(
  'store failure while applying a trust message (XEP-0313 replay)',
  { timeout: 60_000 },
  () => {
    let server: ProsodyServer
    let a1: Endpoint
    let a2: Endpoint
    let b1: Endpoint
    let bobKey: KeyId
    const failing = { arm: () => {}, fired: () => false }

    beforeAll(async () => {
      server = await startTestServer()
      await server.register('alice', PASSWORD)
      await server.register('bob', PASSWORD)
      a1 = await endpoint({ server, user: 'alice', resource: 'A1' })
      // A2's store fails once, on demand, while applying a decision
      const trustStore = await sqliteStore({ database: ':memory:' })
      const wrapped = failingOnce(trustStore.forAccount(`alice@${server.domain}` as never))
      Object.assign(failing, { arm: wrapped.arm, fired: wrapped.fired })
      const proxyStore = { forAccount: () => wrapped.store, close: () => trustStore.close() }
      a2 = await endpoint({ server, user: 'alice', resource: 'A2', sameKeyAs: a1, trustStore: proxyStore })
      b1 = await endpoint({ server, user: 'bob', resource: 'B1' })
      bobKey = (await b1.ox.ownKeys())[0] as KeyId
      for (const e of [a1, a2]) await e.vouch.refreshKeys(b1.jid)
    }, 60_000)
    afterAll(async () => {
      for (const e of [a1, a2, b1]) await e?.stop()
      await server?.stop()
    })

    it('ATM-R1 under a store failure: the decision is not lost; the next catch-up applies it', async () => {
      const errors: Error[] = []
      const rejected: unknown[] = []
      a2.vouch.on('error', (e) => errors.push(e as Error))
      a2.vouch.on('rejected', (r) => rejected.push(r))
      failing.arm()
      await a1.vouch.applyUri(
        {
          jid: b1.jid,
          encryption: NS_OX,
          trust: [bobKey],
          distrust: [],
        },
        { uriSource: 'scan', confirm: async () => true },
      )
      await eventually(() => failing.fired(), 15_000, 'the injected store failure')
      await eventually(() => errors.some((e) => e.name === 'StoreError'), 15_000, 'the error event')
      expect(rejected).toEqual([])

      // A2 did not record the message as processed: another copy of it (the carbon, or the
      // archived one read by a catch-up) still applies it
      await a2.vouch.catchUp()
      await eventually(
        async () => (await a2.store.getTrustLevel(NS_OX, b1.jid, bobKey)) === 'authenticated',
        15_000,
        'A2 to authenticate Bob after the catch-up',
      )
    })
  },
)
