/**
 * Converse.js 14 in Chromium ↔ Vouch with OMEMO 0.3 (`@vouch/backend-omemo-legacy`), issue 17
 * points 2 and 4:
 *
 * - both versions: a Vouch endpoint runs OMEMO 2 and OMEMO 0.3 and publishes both device lists,
 *   so Converse puts an `<encrypted/>` of each version into every message. Vouch decrypts exactly
 *   one (its preferred backend's): one `message` event per stanza, never two, in either order of
 *   preference; the wire shows both elements;
 * - OMEMO 0.3 only: both directions, sessions started from either side.
 *
 * Runs in CI with Prosody and Chromium (`tooling/debian-packages.txt`); skipped visibly outside
 * CI when either is missing.
 */
import { mkdir } from 'node:fs/promises'
import { NS_OMEMO2 } from '@vouch/backend-omemo'
import { type LegacyOmemoBackend, legacyOmemoBackend, NS_AXOLOTL } from '@vouch/backend-omemo-legacy'
import { nodeLibsignal } from '@vouch/backend-omemo-legacy/node'
import { legacyOmemoKeyDirectory } from '@vouch/backend-omemo-legacy/pep'
import {
  befriend,
  CHROMIUM_INSTALL_HINT,
  type ConverseUser,
  chromiumInstalled,
  eventually,
  launchConverse,
  type StaticServer,
  serveHarness,
  startVouchUser,
  TEST_PASSWORD,
  type VouchUser,
} from '@vouch/converse-tooling'
import {
  PROSODY_INSTALL_HINT,
  type ProsodyServer,
  prosodyInstalled,
  startProsody,
} from '@vouch/prosody-tooling'
import type { BareJid } from '@vouch/tm-core'
import type { Element } from '@xmpp/xml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const HAVE = prosodyInstalled() && chromiumInstalled()
const SKIP = !HAVE && process.env.CI === undefined
if (SKIP)
  console.warn(
    `skipping the Converse.js OMEMO 0.3 test: ${prosodyInstalled() ? '' : PROSODY_INSTALL_HINT} ${chromiumInstalled() ? '' : CHROMIUM_INSTALL_HINT}`,
  )

const ARTIFACTS = new URL('../../converse/artifacts/', import.meta.url)
const { curve, webCrypto } = nodeLibsignal()

interface Both extends VouchUser {
  readonly legacy: LegacyOmemoBackend
  /** the namespaces of the `<encrypted/>` children of every chat message received (markers aside) */
  readonly wire: string[][]
}

/** A Vouch endpoint with OMEMO 2 and OMEMO 0.3 (`legacyFirst`: 0.3 preferred), or 0.3 alone. */
async function vouchBoth(
  server: ProsodyServer,
  user: string,
  mode: 'omemo2-first' | 'legacy-first' | 'legacy-only',
): Promise<Both> {
  let legacy: LegacyOmemoBackend | undefined
  const v = await startVouchUser(server, user, {
    withoutOmemo2: mode === 'legacy-only',
    extra: async (store) => {
      legacy = legacyOmemoBackend({ curve, webCrypto })({ store })
      await legacy.createDevice()
      return {
        backends: [legacy],
        keyDirectories: [legacyOmemoKeyDirectory(legacy)],
        first: mode === 'legacy-first',
      }
    },
  })
  const wire: string[][] = []
  v.xmpp.on('stanza', (s: Element) => {
    // chat messages (with their fallback body); Converse's encrypted chat markers carry none
    if (s.name !== 'message' || s.attrs.type !== 'chat' || s.getChild('body') === undefined) return
    const ns = s.children
      .filter((c): c is Element => typeof c !== 'string' && c.name === 'encrypted')
      .map((c) => String(c.attrs.xmlns))
    if (ns.length > 0) wire.push(ns.sort())
  })
  return { ...v, legacy: legacy as LegacyOmemoBackend, wire }
}

describe.skipIf(SKIP)(
  'Converse.js 14 in Chromium ↔ Vouch over OMEMO 0.3 and both versions (issue 17)',
  { timeout: 150_000 },
  () => {
    let server: ProsodyServer
    let web: StaticServer
    let converse: ConverseUser
    let alice: BareJid
    const log: string[] = []
    const users: VouchUser[] = []
    const dump = (v: VouchUser): string =>
      `\nVouch rejected: ${JSON.stringify(v.rejected)}\nbrowser:\n${log.slice(-40).join('\n')}`

    beforeAll(async () => {
      if (!HAVE) throw new Error(`${PROSODY_INSTALL_HINT}; ${CHROMIUM_INSTALL_HINT} (needed in CI)`)
      await mkdir(ARTIFACTS, { recursive: true })
      server = await startProsody()
      web = await serveHarness()
      alice = `alice@${server.domain}` as BareJid
      await server.register('alice', TEST_PASSWORD)
      converse = await launchConverse({
        origin: web.origin,
        websocketUrl: `ws://127.0.0.1:${server.httpPort}/xmpp-websocket`,
        jid: alice,
        password: TEST_PASSWORD,
        console: log,
      })
      await converse.deviceId()
    }, 90_000)

    afterAll(async () => {
      await converse?.close()
      for (const v of users) await v.stop()
      await web?.close()
      await server?.stop()
    })

    for (const [user, mode, expected] of [
      ['kim', 'omemo2-first', NS_OMEMO2],
      ['lou', 'legacy-first', NS_AXOLOTL],
    ] as const)
      it(`both versions in one stanza: exactly one is decrypted, the preferred one (${mode})`, async () => {
        const v = await vouchBoth(server, user, mode)
        users.push(v)
        await befriend(converse, alice, v)
        // Converse must know both of Vouch's device lists before it sends
        await eventually('Converse to list both of Vouch’s devices', async () => {
          const two = await converse.devices(v.jid, NS_OMEMO2)
          const old = await converse.devices(v.jid, NS_AXOLOTL)
          return two.length > 0 && old.length > 0 ? true : undefined
        })
        const texts = [`one for ${user}`, `two for ${user}`, `three for ${user}`]
        for (const t of texts) await converse.send(v.jid, t)
        await eventually(`${user} to receive ${texts.length} messages${dump(v)}`, () =>
          v.received.length >= texts.length ? true : undefined,
        )
        await new Promise((r) => setTimeout(r, 500)) // a second decryption would show up by now
        expect(v.received.map((m) => m.body)).toEqual(texts)
        expect(v.received.map((m) => m.encryption)).toEqual(texts.map(() => expected))
        expect(v.wire.slice(0, texts.length)).toEqual(texts.map(() => [NS_OMEMO2, NS_AXOLOTL].sort()))
        expect(v.rejected).toEqual([])
        // and back, with Vouch's preferred backend
        await v.vouch.sendChat(alice, `reply from ${user}`)
        await converse.waitForMessages(v.jid, (ms) =>
          ms.some((m) => m.sender === 'them' && m.body === `reply from ${user}`),
        )
        await converse.screenshot(new URL(`both-versions-${mode}.png`, ARTIFACTS).pathname)
      })

    it('OMEMO 0.3 only: Converse starts, several messages each way', async () => {
      const v = await vouchBoth(server, 'max', 'legacy-only')
      users.push(v)
      await befriend(converse, alice, v)
      const texts = ['legacy one', 'legacy two', 'legacy three']
      for (const t of texts) await converse.send(v.jid, t)
      await eventually(`max to receive${dump(v)}`, () =>
        v.received.length >= texts.length ? true : undefined,
      )
      expect(v.received.map((m) => [m.body, m.encryption])).toEqual(texts.map((t) => [t, NS_AXOLOTL]))
      for (const t of ['answer one', 'answer two']) await v.vouch.sendChat(alice, t)
      await converse.waitForMessages(v.jid, (ms) =>
        ['answer one', 'answer two'].every((t) =>
          ms.some((m) => m.sender === 'them' && m.body === t && m.encrypted),
        ),
      )
    })

    it('OMEMO 0.3 only: Vouch starts, several messages each way', async () => {
      const v = await vouchBoth(server, 'ned', 'legacy-only')
      users.push(v)
      await befriend(converse, alice, v)
      expect((await v.vouch.refreshKeys(alice, NS_AXOLOTL)).length).toBeGreaterThan(0)
      // Alice has the chat open before Vouch writes (see the README: a chat that an incoming key
      // exchange opens makes Converse 14 fetch the archive while it still decrypts the live copies)
      await converse.openChat(v.jid)
      // two key exchange messages (the same session, counters 0 and 1) before Converse answered
      const first = ['ned first', 'ned second']
      for (const t of first) await v.vouch.sendChat(alice, t)
      const shown = await converse.waitForMessages(v.jid, (ms) =>
        first.every((t) => ms.some((m) => m.sender === 'them' && m.body === t && m.encrypted)),
      )
      // each once, none shown as its fallback body
      expect(shown.filter((m) => m.sender === 'them').map((m) => m.body)).toEqual(first)
      for (const t of ['back one', 'back two']) await converse.send(v.jid, t)
      await eventually(`ned to receive${dump(v)}`, () => (v.received.length >= 2 ? true : undefined))
      expect(v.received.map((m) => [m.body, m.encryption])).toEqual([
        ['back one', NS_AXOLOTL],
        ['back two', NS_AXOLOTL],
      ])
      for (const t of ['ned third', 'ned fourth']) await v.vouch.sendChat(alice, t)
      await converse.waitForMessages(v.jid, (ms) =>
        ['ned third', 'ned fourth'].every((t) =>
          ms.some((m) => m.sender === 'them' && m.body === t && m.encrypted),
        ),
      )
      await converse.screenshot(new URL('omemo03.png', ARTIFACTS).pathname)
    })
  },
)
