/**
 * X17 over a real Prosody with OMEMO 2 (`urn:xmpp:omemo:2`, one key per device) carrying the
 * trust messages: Alice's A1, A2, A3 and Bob's B1, each its own OMEMO device with its own store,
 * device lists and bundles in PEP (`omemoKeyDirectory`), Carbons, MAM. The XEP-0450 examples
 * 1 – 8 in the order of the simulator's golden table (`tooling/simulator/test/xep0450-story.test.ts`):
 * every manual step sends exactly the spec's messages, each encrypted (on the wire, in the
 * `<header/>`) for exactly its allowed keys (TM-15/TM-21); at the end, the levels on every
 * endpoint. B1 is offline while A1 distrusts A3 (Example 6), A2 while A1 distrusts B1 (Example 8);
 * both catch up when back (A2 from MAM only).
 */
import { NS_OMEMO2, type OmemoBackend, omemoBackend, parseEncrypted } from '@vouch/backend-omemo'
import type { ProsodyServer } from '@vouch/prosody-tooling'
import { sqliteStore } from '@vouch/store-sqlite'
import type { AccountTrustStore, BareJid, KeyId, TrustStore } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import type { Element } from '@xmpp/xml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type VouchXmpp, type VouchXmppEvents, vouchXmpp } from '../src/binding.ts'
import { createClient, startClient } from '../src/connect.ts'
import { readOutbox } from '../src/state.ts'
import { omemoKeyDirectory } from '@vouch/backend-omemo/pep'
import { eventually, jidOf, PASSWORD, SKIP_INTEGRATION, startTestServer } from './helpers.ts'

type Name = 'A1' | 'A2' | 'A3' | 'B1'
const NAMES: readonly Name[] = ['A1', 'A2', 'A3', 'B1']

interface OmemoEndpoint {
  readonly name: Name
  readonly jid: BareJid
  readonly xmpp: Client
  readonly trustStore: TrustStore
  readonly store: AccountTrustStore
  readonly omemo: OmemoBackend
  readonly vouch: VouchXmpp
  stop(): Promise<void>
}

/** One endpoint: its own SQLite store, OMEMO 2 device (made once, kept in the store) and binding. */
async function omemoEndpoint(
  server: ProsodyServer,
  name: Name,
  init: { readonly trustStore?: TrustStore; readonly start?: boolean } = {},
): Promise<OmemoEndpoint> {
  const jid = jidOf(server, name === 'B1' ? 'bob' : 'alice')
  const trustStore = init.trustStore ?? (await sqliteStore({ database: ':memory:' }))
  const store = trustStore.forAccount(jid)
  const omemo = omemoBackend()({ store })
  if ((await omemo.ownDeviceId()) === undefined) await omemo.createDevice()
  const xmpp = createClient({ service: server.service, jid, password: PASSWORD, resource: name })
  const vouch = vouchXmpp(xmpp, { store, backends: [omemo], keyDirectories: [omemoKeyDirectory(omemo)] })
  const ep: OmemoEndpoint = {
    name,
    jid,
    xmpp,
    trustStore,
    store,
    omemo,
    vouch,
    async stop() {
      vouch.close()
      await xmpp.stop().catch(() => undefined)
    },
  }
  if (init.start !== false) {
    const synced = vouch.synced()
    await startClient(xmpp)
    await synced
  }
  return ep
}

interface GoldenMessage {
  readonly example: string
  readonly to: 'alice' | 'bob'
  readonly owners: readonly { jid: 'alice' | 'bob'; trust?: readonly Name[]; distrust?: readonly Name[] }[]
  /** the keys the message may be encrypted for (TM-21) */
  readonly allowed: readonly Name[]
}

/** The simulator's golden table (XEP-0450 examples 1 – 8), with the same step order. */
const STORY: readonly {
  readonly by: Name
  readonly action: 'authenticate' | 'distrust'
  readonly target: Name
  readonly messages: readonly GoldenMessage[]
}[] = [
  { by: 'A1', action: 'authenticate', target: 'A2', messages: [] },
  {
    by: 'A1',
    action: 'authenticate',
    target: 'B1',
    messages: [
      {
        example: 'Example 1 (ATM-S1)',
        to: 'alice',
        owners: [{ jid: 'bob', trust: ['B1'] }],
        allowed: ['A2'],
      },
      {
        example: 'Example 2 (ATM-S2)',
        to: 'bob',
        owners: [{ jid: 'alice', trust: ['A2'] }],
        allowed: ['B1'],
      },
    ],
  },
  { by: 'A2', action: 'authenticate', target: 'A1', messages: [] },
  { by: 'B1', action: 'authenticate', target: 'A1', messages: [] },
  {
    by: 'A2',
    action: 'authenticate',
    target: 'A3',
    messages: [
      {
        example: 'Example 3 (ATM-S3)',
        to: 'bob',
        owners: [{ jid: 'alice', trust: ['A3'] }],
        allowed: ['A1', 'B1'],
      },
      {
        example: 'Example 5 (ATM-S4)',
        to: 'alice',
        owners: [
          { jid: 'bob', trust: ['B1'] },
          { jid: 'alice', trust: ['A1'] },
        ],
        allowed: ['A3'],
      },
    ],
  },
  {
    by: 'A1',
    action: 'distrust',
    target: 'A3',
    messages: [
      {
        example: 'Example 6 (ATM-S5)',
        to: 'bob',
        owners: [{ jid: 'alice', distrust: ['A3'] }],
        allowed: ['A2', 'B1'],
      },
    ],
  },
  {
    by: 'A1',
    action: 'distrust',
    target: 'B1',
    messages: [
      {
        example: 'Example 8 (ATM-S6)',
        to: 'alice',
        owners: [{ jid: 'bob', distrust: ['B1'] }],
        allowed: ['A2'],
      },
    ],
  },
]

/** The simulator's final levels: row endpoint → column endpoint's key. */
const FINAL: Record<Name, Partial<Record<Name, string>>> = {
  A1: { A2: 'authenticated', A3: 'manually-distrusted', B1: 'manually-distrusted' },
  A2: { A1: 'authenticated', A3: 'manually-distrusted', B1: 'manually-distrusted' },
  A3: { A1: 'automatically-trusted', A2: 'automatically-trusted', B1: 'automatically-trusted' },
  B1: { A1: 'authenticated', A2: 'authenticated', A3: 'manually-distrusted' },
}

/**
 * Endpoints offline during a step (index into STORY), what they must apply when back, and how
 * the missed message may reach them: B1 (all of Bob's endpoints offline) gets Example 6 from
 * offline storage or the archive, whichever comes first; A2 (Alice's A1 and A3 online) gets
 * Example 8 only from the archive (XEP-0313 catch-up).
 */
const OFFLINE: Partial<Record<Name, { step: number; target: Name; level: string; from: readonly string[] }>> =
  {
    B1: { step: 5, target: 'A3', level: 'manually-distrusted', from: ['live', 'archive'] },
    A2: { step: 6, target: 'B1', level: 'manually-distrusted', from: ['archive'] },
  }

/** What left an endpoint on the wire: an OMEMO 2 message, its recipient and header device ids. */
interface WireMessage {
  readonly id: string
  readonly to: string
  readonly rids: readonly number[]
  readonly payload: boolean
}

describe.skipIf(SKIP_INTEGRATION)(
  'X17: the XEP-0450 story over Prosody (OMEMO 2)',
  { timeout: 120_000 },
  () => {
    let server: ProsodyServer
    const ep = {} as Record<Name, OmemoEndpoint>
    const key = {} as Record<Name, KeyId>
    const device = {} as Record<Name, number>
    const wire: Record<Name, WireMessage[]> = { A1: [], A2: [], A3: [], B1: [] }
    const sent: Record<Name, VouchXmppEvents['trust-message-sent'][]> = { A1: [], A2: [], A3: [], B1: [] }
    const handled: Record<Name, VouchXmppEvents['trust-message'][]> = { A1: [], A2: [], A3: [], B1: [] }
    const stale: OmemoEndpoint[] = []
    const started = Date.now()
    const jid = (who: 'alice' | 'bob'): BareJid => jidOf(server, who)
    const owner = (n: Name): BareJid => jid(n === 'B1' ? 'bob' : 'alice')
    const levelOf = (viewer: Name, of: Name): Promise<string> =>
      ep[viewer].store.getTrustLevel(NS_OMEMO2, owner(of), key[of])

    function watch(e: OmemoEndpoint): void {
      e.xmpp.on('send', (s: Element) => {
        const enc = s.name === 'message' ? s.getChild('encrypted', NS_OMEMO2) : undefined
        if (enc === undefined) return
        const rids = [...parseEncrypted(enc).keys.values()].flat().map((k) => k.rid)
        wire[e.name].push({
          id: String(s.attrs.id),
          to: String(s.attrs.to),
          rids: rids.sort((a, b) => a - b),
          payload: enc.getChild('payload') !== undefined,
        })
      })
      e.vouch.on('trust-message-sent', (m) => sent[e.name].push(m))
      e.vouch.on('trust-message', (m) => handled[e.name].push(m))
    }

    beforeAll(async () => {
      server = await startTestServer()
      await server.register('alice', PASSWORD)
      await server.register('bob', PASSWORD)
      // one after the other: each publishes its device into its account's list
      for (const n of NAMES) {
        ep[n] = await omemoEndpoint(server, n)
        key[n] = (await ep[n].omemo.ownKeys())[0] as KeyId
        device[n] = (await ep[n].omemo.ownDeviceId()) as number
        watch(ep[n])
      }
      for (const n of NAMES) {
        await ep[n].vouch.refreshKeys(jid('alice'))
        await ep[n].vouch.refreshKeys(jid('bob'))
      }
    }, 120_000)

    afterAll(async () => {
      for (const e of [...Object.values(ep), ...stale]) await e.stop()
      await server?.stop()
      console.info(`XEP-0450 story over Prosody (OMEMO 2): ${Date.now() - started} ms wall time`)
    })

    it('XEP-0384 + D-6: every endpoint found every other device in PEP, keyed by its Ed25519 identity key, and trusts it automatically (TOAK-1)', async () => {
      expect(new Set(NAMES.map((n) => key[n])).size).toBe(4)
      expect(new Set(NAMES.map((n) => device[n])).size).toBe(4)
      for (const viewer of NAMES) {
        for (const of of NAMES) {
          if (of === viewer) continue
          expect(await levelOf(viewer, of), `${viewer} sees ${of}`).toBe('automatically-trusted')
        }
      }
      const aliceDevices = await ep.B1.omemo.devices(jid('alice'))
      expect(
        aliceDevices
          .filter((d) => d.active)
          .map((d) => d.deviceId)
          .sort(),
      ).toEqual([device.A1, device.A2, device.A3].sort())
    })

    it('X17 / examples 1 – 8 over OMEMO 2: every step sends exactly the spec’s trust messages, each encrypted only for its allowed keys (TM-15, TM-21); B1 offline during Example 6 and A2 during Example 8 catch up (MAM)', async () => {
      for (const [i, step] of STORY.entries()) {
        const by = ep[step.by]
        const wireBefore = wire[step.by].length
        const sentBefore = sent[step.by].length
        const handledBefore = Object.fromEntries(NAMES.map((n) => [n, handled[n].length])) as Record<
          Name,
          number
        >
        const offline = (Object.keys(OFFLINE) as Name[]).find((n) => OFFLINE[n]?.step === i)
        if (offline !== undefined) await ep[offline].stop()
        const target = step.target
        const result = await by.vouch[step.action](NS_OMEMO2, owner(target), [key[target]])
        const label = `step ${i + 1}: ${step.by} ${step.action}s ${step.target}`
        // the engine's messages, as the golden table has them
        expect(
          result.outgoing.map((o) => ({
            to: o.to,
            owners: o.message.keyOwners.map((k) => ({
              jid: k.jid,
              ...(k.trust.length > 0 ? { trust: [...k.trust] } : {}),
              ...(k.distrust.length > 0 ? { distrust: [...k.distrust] } : {}),
            })),
            allowed: o.allowedKeys.map((k) => k.keyId).sort(),
          })),
          label,
        ).toEqual(
          step.messages.map((g) => ({
            to: jid(g.to),
            owners: g.owners.map((o) => ({
              jid: jid(o.jid),
              ...(o.trust === undefined ? {} : { trust: o.trust.map((n) => key[n]) }),
              ...(o.distrust === undefined ? {} : { distrust: o.distrust.map((n) => key[n]) }),
            })),
            allowed: g.allowed.map((n) => key[n]).sort(),
          })),
        )
        await eventually(
          () => sent[step.by].length - sentBefore === step.messages.length,
          10_000,
          `${label}: sent`,
        )
        const sentNow = sent[step.by].slice(sentBefore)
        for (const [j, g] of step.messages.entries()) {
          const m = sentNow[j]
          expect(m?.to, g.example).toBe(jid(g.to))
          // TM-21, as the backend reported it …
          expect(m?.recipients.map((r) => r.keyId).sort(), `${g.example}: recipients`).toEqual(
            g.allowed.map((n) => key[n]).sort(),
          )
          // … and on the wire: the <header/> holds a <key/> for exactly the allowed devices
          const onWire = wire[step.by].slice(wireBefore).find((w) => w.id === m?.id)
          expect(onWire?.to, `${g.example}: stanza`).toBe(jid(g.to))
          expect(onWire?.rids, `${g.example}: <key rid/> on the wire`).toEqual(
            g.allowed.map((n) => device[n]).sort((a, b) => a - b),
          )
        }
        // every reader handled its messages before the next step (B1 later, from MAM)
        for (const reader of NAMES) {
          if (reader === offline) continue
          const expected = step.messages.filter((g) => g.allowed.includes(reader)).length
          await eventually(
            () => handled[reader].length - handledBefore[reader] >= expected,
            10_000,
            `${label}: ${expected} trust message(s) read by ${reader}`,
          )
        }
        await settle()
        // … and nobody else read one (TM-21: the others got copies they cannot decrypt)
        for (const reader of NAMES) {
          if (reader === offline) continue
          const expected = step.messages.filter((g) => g.allowed.includes(reader)).length
          expect(handled[reader].length - handledBefore[reader], `${label}: read by ${reader}`).toBe(expected)
        }
        if (offline !== undefined) {
          const { target: of, level, from } = OFFLINE[offline] as NonNullable<(typeof OFFLINE)[Name]>
          // back on its store (same OMEMO device), it reads the message it missed exactly once
          stale.push(ep[offline])
          const again = await omemoEndpoint(server, offline, {
            trustStore: ep[offline].trustStore,
            start: false,
          })
          expect(await again.omemo.ownDeviceId()).toBe(device[offline])
          const before = handled[offline].length
          ep[offline] = again
          watch(again)
          const synced = again.vouch.synced()
          expect(await levelOf(offline, of), `${offline} before catching up`).not.toBe(level)
          await startClient(again.xmpp)
          await synced
          await again.vouch.idle()
          const caught = handled[offline].slice(before)
          expect(
            caught.map((h) => h.outcome),
            `${offline} caught up`,
          ).toEqual(['applied'])
          expect(from, `${offline} read it from`).toContain(caught[0]?.source)
          expect(await levelOf(offline, of), `${offline} after catching up`).toBe(level)
        }
      }
    })

    /** Lets the last stanzas arrive and every binding finish its queue. */
    async function settle(): Promise<void> {
      await new Promise((r) => setTimeout(r, 300))
      for (const n of NAMES) await ep[n].vouch.idle()
    }

    it('X17: the final trust levels on every endpoint equal the simulator’s', async () => {
      await settle()
      const actual: Record<string, Record<string, string>> = {}
      for (const r of NAMES) {
        actual[r] = {}
        for (const c of NAMES) if (c !== r) (actual[r] as Record<string, string>)[c] = await levelOf(r, c)
      }
      expect(actual).toEqual(FINAL)
      // A3 keeps Example 5 for later (ATM-P1): A2 vouched for A1 and B1
      const postponed = await ep.A3.store.getPostponed(NS_OMEMO2)
      expect(postponed.map((p) => [p.owner, p.keyId, p.polarity, p.senderKey])).toEqual(
        expect.arrayContaining([
          [jid('alice'), key.A1, 'trust', key.A2],
          [jid('bob'), key.B1, 'trust', key.A2],
        ]),
      )
    })

    it('TM-21 on the receiving side: every trust message was applied or postponed only by endpoints it was encrypted for; Example 8 never reached B1', async () => {
      // A3 read only Example 5 (postponed: it never authenticated A2)
      expect(handled.A3.map((h) => h.outcome)).toEqual(['postponed'])
      // B1 read Examples 2, 3 and 6
      expect(handled.B1).toHaveLength(3)
      // every trust message A1 and A2 sent is on the wire exactly once per send, as an OMEMO 2 message
      for (const n of ['A1', 'A2'] as const)
        for (const s of sent[n]) expect(wire[n].filter((w) => w.id === s.id)).toHaveLength(1)
      expect(await readOutbox(ep.A1.store)).toEqual([])
      expect(await readOutbox(ep.A2.store)).toEqual([])
    })

    it('XEP-0384: A3 answered A2’s key exchange (Example 5) with an empty message and republished its bundle without the used pre key', async () => {
      // A3 never reconnected: only the binding's after-message work can have done this
      const empty = wire.A3.filter((w) => w.to === jid('alice') && !w.payload)
      expect(empty.map((w) => w.rids)).toContainEqual([device.A2])
      expect(wire.A3.filter((w) => w.payload)).toEqual([]) // A3 sent no trust message
      const items = await ep.A1.vouch.pep.fetch(jid('alice'), 'urn:xmpp:omemo:2:bundles', {
        id: String(device.A3),
      })
      const pks = items[0]?.payload?.getChild('prekeys')?.getChildren('pk') ?? []
      const ids = pks.map((p) => Number(p.attrs.id)).sort((a, b) => a - b)
      const own = (await ep.A3.omemo.ownBundle()).preKeys.map((k) => k.id).sort((a, b) => a - b)
      expect(ids).toEqual(own)
      expect(ids).toHaveLength(100)
      expect(ids.at(-1)).toBeGreaterThan(100) // pre keys 1 … 100 at first; a used one was replaced
    })
  },
)
