/**
 * Converse.js 14 (npm `converse.js@14.0.0`, its prebuilt `dist/`) in Debian's headless Chromium,
 * driven by `playwright-core`, against Vouch endpoints (`@vouch/xmpp` + `@vouch/backend-omemo`)
 * over the loopback Prosody (Converse over WebSocket, Vouch over TCP), OMEMO 2 both ways:
 *
 * - issue 17 point 1: Converse's SCE envelope (`<rpad/>`, `<from/>`, no `<time/>`, no `<to/>`) is
 *   accepted, and the app learns which affixes it had;
 * - point 2: sessions started from either side, several messages each way, Converse's device
 *   authenticated once on the Vouch side (after comparing the fingerprint Converse shows for
 *   itself), Vouch's device marked trusted on the Converse side through its device list (what
 *   the fingerprint toggle in Converse's contact details does); screenshots of the Converse
 *   window in `tooling/converse/artifacts/` (gitignored);
 * - point 3: several fresh Vouch devices (one per Vouch account), each with a session started by
 *   Converse: libomemo.js verifies the signed pre key through the Curve25519 form of the
 *   identity key (XEdDSA), which fails for a key with the sign bit set.
 *
 * The steps are those of the root README's "Chat with a Converse.js user"; a fifth check, the
 * negative control, makes one Vouch device the old way (sign bit set) and rotates it.
 *
 * Runs in CI (Prosody and Chromium are in `tooling/debian-packages.txt`); skipped visibly outside
 * CI when either is missing. About 20–30 s.
 */
import { mkdir } from 'node:fs/promises'
import { NS_OMEMO2, xeddsaCompatible } from '@vouch/backend-omemo'
import {
  PROSODY_INSTALL_HINT,
  type ProsodyServer,
  prosodyInstalled,
  startProsody,
} from '@vouch/prosody-tooling'
import type { BareJid, KeyId } from '@vouch/tm-core'
import { keyIdToBytes } from '@vouch/tm-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  CHROMIUM_INSTALL_HINT,
  type ConverseUser,
  chromiumInstalled,
  launchConverse,
  type StaticServer,
  serveHarness,
} from '../src/index.ts'
import { befriend, eventually, startVouchUser, TEST_PASSWORD, type VouchUser } from '../src/vouch.ts'

/**
 * The negative control only: makes the next Vouch device the way Vouch made half of them before
 * issue 17 (a standard key pair whose Ed25519 key has the sign bit set). Every other device is
 * made by the real `generateIdentity`.
 */
const signBit = vi.hoisted(() => ({ forceSet: false }))
vi.mock('../../../packages/backend-omemo/src/x3dh.ts', async (original) => {
  const x3dh = await original<typeof import('../../../packages/backend-omemo/src/x3dh.ts')>()
  return {
    ...x3dh,
    generateIdentity: async (...args: Parameters<typeof x3dh.generateIdentity>) => {
      if (!signBit.forceSet) return x3dh.generateIdentity(...args)
      const [p, random] = args
      for (;;) {
        const identity = await x3dh.identityFromSeed(p, random(32))
        if (!x3dh.xeddsaCompatible(identity.edPub)) return identity
      }
    },
  }
})

const HAVE = prosodyInstalled() && chromiumInstalled()
const SKIP = !HAVE && process.env.CI === undefined
if (SKIP)
  console.warn(
    `skipping the Converse.js test: ${prosodyInstalled() ? '' : PROSODY_INSTALL_HINT} ${chromiumInstalled() ? '' : CHROMIUM_INSTALL_HINT}`,
  )

const ARTIFACTS = new URL('../artifacts/', import.meta.url)
const PASSWORD = TEST_PASSWORD
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

describe.skipIf(SKIP)(
  'Converse.js 14 in Chromium ↔ Vouch over OMEMO 2 (issue 17)',
  { timeout: 150_000 },
  () => {
    let server: ProsodyServer
    let web: StaticServer
    let converse: ConverseUser
    let alice: BareJid
    let converseDevice: number
    const browserLog: string[] = []
    const vouchUsers: VouchUser[] = []

    beforeAll(async () => {
      if (!HAVE)
        throw new Error(
          `${PROSODY_INSTALL_HINT}; ${CHROMIUM_INSTALL_HINT} (the Converse.js test needs both in CI)`,
        )
      await mkdir(ARTIFACTS, { recursive: true })
      server = await startProsody()
      web = await serveHarness()
      alice = `alice@${server.domain}` as BareJid
      await server.register('alice', PASSWORD)
      converse = await launchConverse({
        origin: web.origin,
        websocketUrl: `ws://127.0.0.1:${server.httpPort}/xmpp-websocket`,
        jid: alice,
        password: PASSWORD,
        console: browserLog,
      })
      converseDevice = await converse.deviceId()
    }, 90_000)

    afterAll(async () => {
      await converse?.close()
      for (const v of vouchUsers) await v.stop()
      await web?.close()
      await server?.stop()
    })

    const dump = (v?: VouchUser): string =>
      `\nVouch rejected: ${JSON.stringify(v?.rejected)}\nbrowser:\n${browserLog.slice(-40).join('\n')}`

    it('Converse starts the session: several messages each way, devices authenticated on both sides', async () => {
      const bob = await startVouchUser(server, 'bob')
      vouchUsers.push(bob)
      expect(await bob.omemo.ownDeviceXeddsaCompatible()).toBe(true)
      await befriend(converse, alice, bob)

      // Converse → Vouch: Converse fetches Vouch's bundle, verifies it (XEdDSA) and starts the session
      const fromConverse = ['Hi Bob, this is Converse', 'second message', 'third, with ünïcode ✓']
      for (const text of fromConverse) await converse.send(bob.jid, text)
      await eventually(`Vouch to receive ${fromConverse.length} messages${dump(bob)}`, () =>
        bob.received.length >= fromConverse.length ? true : undefined,
      ).catch((e) => {
        throw new Error(`${e.message}${dump(bob)}`)
      })
      expect(bob.received.map((m) => m.body)).toEqual(fromConverse)
      for (const m of bob.received) {
        expect(m.encryption).toBe(NS_OMEMO2)
        expect(m.peer).toBe(alice)
        // TOAKAFA: Bob has authenticated no key of Alice yet
        expect(m.trustLevel).toBe('automatically-trusted')
        // XEP-0384's SCE profile as Converse sends it: <rpad/> and <from/>, no <time/>, no <to/>
        expect(m.affixes).toEqual({ rpad: true, time: false, from: true, to: false })
      }
      expect(bob.rejected).toEqual([])

      // Vouch authenticates Converse's device once: the fingerprint Converse shows for its own device
      const ownInConverse = (await converse.devices(alice)).find((d) => d.id === String(converseDevice))
      expect(ownInConverse?.fingerprint).toMatch(/^[0-9a-f]{64}$/)
      const aliceDevices = await bob.omemo.devices(alice)
      const seen = aliceDevices.find((d) => d.deviceId === converseDevice)
      expect(seen?.keyId).toBeDefined()
      expect(hex(keyIdToBytes(seen?.keyId as KeyId))).toBe(ownInConverse?.fingerprint)
      await bob.vouch.authenticate(NS_OMEMO2, alice, [seen?.keyId as KeyId])

      // Converse marks Vouch's device trusted, after comparing the fingerprint Vouch shows for itself
      const bobDevice = (await bob.omemo.ownDeviceId()) as number
      const bobKey = (await bob.omemo.ownKeys())[0] as KeyId
      const inConverse = await eventually('Converse to list Vouch’s device', async () =>
        (await converse.devices(bob.jid)).find((d) => d.id === String(bobDevice)),
      )
      expect(inConverse.fingerprint).toBe(hex(keyIdToBytes(bobKey)))
      await converse.setTrust(bob.jid, bobDevice, 1)
      expect((await converse.devices(bob.jid)).find((d) => d.id === String(bobDevice))?.trusted).toBe(1)

      // Vouch → Converse, over the session Converse started
      const fromVouch = ['Hello Converse, Vouch here', 'your device is authenticated', 'last one 👋']
      for (const text of fromVouch) await bob.vouch.sendChat(alice, text)
      const ms = await converse.waitForMessages(bob.jid, (ms) =>
        fromVouch.every((t) => ms.some((m) => m.sender === 'them' && m.body === t)),
      )
      expect(ms.filter((m) => m.sender === 'them').every((m) => m.encrypted && m.error === null)).toBe(true)

      // and Converse again: now Vouch reports the sender key as authenticated
      await converse.send(bob.jid, 'after authentication')
      const last = await eventually('the message after authentication', () =>
        bob.received.find((m) => m.body === 'after authentication'),
      )
      expect(last.trustLevel).toBe('authenticated')
      await converse.screenshot(new URL('converse-starts.png', ARTIFACTS).pathname)
    })

    it('Vouch starts the session: several messages each way', async () => {
      const carol = await startVouchUser(server, 'carol')
      vouchUsers.push(carol)
      await befriend(converse, alice, carol)
      // Vouch fetches Converse's device list and bundle, and starts the session
      const keys = await carol.vouch.refreshKeys(alice, NS_OMEMO2)
      expect(keys.length).toBeGreaterThan(0)
      const fromVouch = ['Carol (Vouch) starts', 'a second one', 'and a third']
      for (const text of fromVouch) await carol.vouch.sendChat(alice, text)
      await converse.waitForMessages(carol.jid, (ms) =>
        fromVouch.every((t) => ms.some((m) => m.sender === 'them' && m.body === t && m.encrypted)),
      )
      const replies = ['Converse answers', 'twice', 'thrice']
      for (const text of replies) await converse.send(carol.jid, text)
      await eventually(`Carol to receive the replies${dump(carol)}`, () =>
        carol.received.length >= replies.length ? true : undefined,
      )
      expect(carol.received.map((m) => m.body)).toEqual(replies)
      expect(carol.rejected).toEqual([])
      await converse.screenshot(new URL('vouch-starts.png', ARTIFACTS).pathname)
    })

    it('XEP-0384 §6: Vouch replaces its session with Converse’s device by hand; Converse takes the new key exchange, and messages go both ways on the new session', async () => {
      const heidi = await startVouchUser(server, 'heidi')
      vouchUsers.push(heidi)
      await befriend(converse, alice, heidi)
      await heidi.vouch.refreshKeys(alice, NS_OMEMO2)
      await heidi.vouch.sendChat(alice, 'before the reset')
      await converse.waitForMessages(heidi.jid, (ms) =>
        ms.some((m) => m.sender === 'them' && m.body === 'before the reset' && m.encrypted),
      )
      await converse.send(heidi.jid, 'Converse, before the reset')
      await eventually(`heidi to receive before the reset${dump(heidi)}`, () =>
        heidi.received.find((m) => m.body === 'Converse, before the reset'),
      )
      // the user asks for new sessions with Alice's devices (Converse's among them)
      const replaced = await heidi.vouch.replaceSessions(NS_OMEMO2, alice)
      const devices = await heidi.omemo.devices(alice)
      const converseKey = devices.find((d) => d.deviceId === converseDevice)?.keyId
      expect(replaced.map((k) => k.keyId)).toContain(converseKey)
      await heidi.vouch.sendChat(alice, 'after the reset')
      const ms = await converse.waitForMessages(heidi.jid, (ms) =>
        ms.some((m) => m.sender === 'them' && m.body === 'after the reset'),
      )
      expect(ms.find((m) => m.body === 'after the reset')).toMatchObject({ encrypted: true, error: null })
      await converse.send(heidi.jid, 'Converse, after the reset')
      await eventually(`heidi to receive after the reset${dump(heidi)}`, () =>
        heidi.received.find((m) => m.body === 'Converse, after the reset'),
      )
      expect(heidi.rejected).toEqual([])
    })

    it('fresh Vouch devices (sign bit clear) are all reachable: Converse starts a session with each', async () => {
      for (const name of ['dave', 'erin', 'frank']) {
        const v = await startVouchUser(server, name)
        vouchUsers.push(v)
        const bundle = await v.omemo.ownBundle()
        expect(xeddsaCompatible(bundle.ik)).toBe(true)
        await befriend(converse, alice, v)
        await converse.send(v.jid, `hello ${name}`)
        const got = await eventually(`${name} to receive Converse's message${dump(v)}`, () =>
          v.received.find((m) => m.body === `hello ${name}`),
        )
        expect(got.encryption).toBe(NS_OMEMO2)
        await v.vouch.sendChat(alice, `hello Converse, from ${name}`)
        await converse.waitForMessages(v.jid, (ms) =>
          ms.some((m) => m.sender === 'them' && m.body === `hello Converse, from ${name}`),
        )
      }
      expect(browserLog.filter((l) => /Invalid signature|Could not build an OMEMO session/.test(l))).toEqual(
        [],
      )
      await converse.screenshot(new URL('fresh-devices.png', ARTIFACTS).pathname)
    })

    it('negative control: a device with the sign bit set (as Vouch made half of them before) is unreachable from Converse until it rotates', async () => {
      signBit.forceSet = true
      const grace = await startVouchUser(server, 'grace').finally(() => {
        signBit.forceSet = false
      })
      vouchUsers.push(grace)
      expect(await grace.omemo.ownDeviceXeddsaCompatible()).toBe(false)
      await befriend(converse, alice, grace)
      const from = browserLog.length
      await converse.send(grace.jid, 'hello grace').catch(() => undefined)
      await eventually('Converse to fail the session', () =>
        browserLog.slice(from).some((l) => /Invalid signature/.test(l)) ? true : undefined,
      )
      await new Promise((r) => setTimeout(r, 1000))
      expect(grace.received).toEqual([])
      await converse.screenshot(new URL('sign-bit-set.png', ARTIFACTS).pathname)

      // rotation, as the README says: a new device (sign bit clear), the old one leaves the list
      const old = (await grace.omemo.ownDeviceId()) as number
      const rotated = await grace.omemo.createDevice({ replace: true })
      expect(await grace.omemo.ownDeviceXeddsaCompatible()).toBe(true)
      await grace.vouch.publishKeys()
      await eventually('Converse to see the rotated device list', async () => {
        const ids = (await converse.devices(grace.jid)).filter((d) => d.active !== false).map((d) => d.id)
        return ids.includes(String(rotated.deviceId)) && !ids.includes(String(old)) ? true : undefined
      })
      await converse.send(grace.jid, 'hello again, grace')
      await eventually(`grace to receive after rotating${dump(grace)}`, () =>
        grace.received.find((m) => m.body === 'hello again, grace'),
      )
    })
  },
)
