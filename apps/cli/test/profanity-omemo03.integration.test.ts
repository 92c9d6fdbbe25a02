/**
 * The README walk-through "Chat with a Profanity user over OMEMO 0.3", run for real: Alice uses
 * the `vouch` CLI only (OMEMO 0.3 accounts, with the optional GPL plugin
 * `@vouch/backend-omemo-legacy`), Carol uses Profanity 0.13.1 (Debian, libsignal-protocol-c) in
 * tmux (`tooling/profanity`), both on a throwaway Prosody.
 *
 * 1. Carol writes first; Alice cannot read Carol's keys yet (Profanity shows them to contacts
 *    only): the message is reported and kept. Alice authenticates Carol's device with the
 *    fingerprint as Profanity shows it (`413a0689-0e125b62-…`), they become contacts, the kept
 *    message is read, and they write both ways.
 * 2. Issue 12 point 3 with a real pure OMEMO 0.3 client (no ATM): Frank's laptop and phone run
 *    both OMEMO versions; the laptop authenticates Grace's Profanity device once, ATM tells the
 *    phone over OMEMO 2 (ATM-S1/R1 about an OMEMO 0.3 key), and the phone reads Grace's messages
 *    as authenticated without ever comparing her fingerprint.
 *
 * Needs profanity, tmux and prosody: fails in CI without them, skips visibly elsewhere.
 */
import { buildDeviceList, NODE_DEVICELIST } from '@vouch/backend-omemo-legacy'
import type { ProsodyServer } from '@vouch/prosody-tooling'
import type { BareJid } from '@vouch/tm-core'
import { createClient, pepPublish, startClient } from '@vouch/xmpp'
import { describe, expect, it } from 'vitest'
import {
  PROFANITY_INSTALL_HINT,
  type ProfanityUser,
  profanityInstalled,
  startProfanity,
} from '../../../tooling/profanity/src/index.ts'
import { addPhone, type Out, prosodyDevices } from './prosody-devices.ts'

const SKIP = !profanityInstalled() && process.env.CI === undefined
if (SKIP) console.warn(`skipping the Profanity OMEMO 0.3 walk-through: ${PROFANITY_INSTALL_HINT}`)

const PASSWORD = 'correct horse battery staple'
const NS_AXOLOTL = 'eu.siacs.conversations.axolotl'

/**
 * A Profanity user with OMEMO 0.3 keys: the account registered, the empty device list another
 * client of theirs would have left (Profanity 0.13.1 adds itself only to a list that exists:
 * tooling/profanity README), Profanity started, `/omemo gen`; its device id and the fingerprint it
 * shows (`/omemo fingerprint`).
 */
async function profanityWithOmemo(
  server: ProsodyServer,
  jid: BareJid,
): Promise<{ readonly user: ProfanityUser; readonly device: number; readonly fingerprint: string }> {
  await server.register(jid.slice(0, jid.indexOf('@')), PASSWORD)
  const setup = createClient({ service: server.service, jid, password: PASSWORD, resource: 'setup' })
  await startClient(setup)
  await pepPublish(setup, NODE_DEVICELIST, 'current', buildDeviceList([]))
  await setup.stop()
  const user = await startProfanity({ jid, password: PASSWORD, port: server.port })
  try {
    await user.type('/omemo gen')
    const gen = await user.waitFor(
      /OMEMO cr[yi]?p?tographic materials generated\. Your Device ID is (\d+)/i,
      30_000,
    )
    const since = await user.mark()
    await user.type('/omemo fingerprint')
    const fingerprint = (
      await user.waitFor(/Your OMEMO fingerprint: ([0-9a-f-]+)/, 10_000, since)
    )[1] as string
    return { user, device: Number(gen[1]), fingerprint }
  } catch (e) {
    await user.stop()
    throw e
  }
}

/**
 * `user` turns OMEMO on in the chat with `jid` (`/omemo start`: Profanity fetches the device list
 * and bundles), waits until it shows `count` fingerprints for `jid`, and trusts each
 * (`/omemo trust`). Resolves with them as Profanity shows them.
 */
async function trustShown(user: ProfanityUser, jid: string, count: number): Promise<string[]> {
  await user.openChat(jid)
  await user.type('/omemo start')
  const pattern = new RegExp(`^.* ${jid.replace(/[.]/g, '\\.')}'s OMEMO fingerprint: ([0-9a-f-]+)$`, 'gm')
  let shown: string[] = []
  for (let i = 0; i < 40 && shown.length < count; i++) {
    const since = await user.mark()
    await user.type(`/omemo fingerprint ${jid}`)
    await new Promise((r) => setTimeout(r, 500))
    const screen = (await user.screen()).split('\n').slice(since).join('\n')
    shown = [...new Set([...screen.matchAll(pattern)].map((m) => m[1] as string))]
  }
  expect(shown, `${jid}'s fingerprints in Profanity`).toHaveLength(count)
  for (const fp of shown) {
    const since = await user.mark()
    await user.type(`/omemo trust ${jid} ${fp}`)
    await user.waitFor(new RegExp(`OMEMO fingerprint: ${fp} \\(trusted\\)`), 10_000, since)
  }
  return shown
}

/** Contacts both ways, Profanity's user asking first; `device` approves and asks back. */
async function contactsBothWays(
  user: ProfanityUser,
  vouchJid: string,
  device: string,
  spawn: ReturnType<typeof prosodyDevices>['spawn'],
): Promise<string> {
  await user.openConsole()
  let since = await user.mark()
  await user.type(`/sub request ${vouchJid}`)
  await user.waitFor(new RegExp(`Sent subscription request to ${vouchJid}`), 10_000, since)
  const approved = await spawn(device, ['contact', 'approve'], 'y\n')
  expect(approved).toMatchObject({ code: 0, stdout: `approved ${user.jid}\n` })
  since = await user.mark()
  const adding = spawn(device, ['contact', 'add', user.jid, '--wait', '20'])
  await user.waitFor(new RegExp(`Received authorization request from ${vouchJid}`), 15_000, since)
  await user.type(`/sub allow ${vouchJid}`)
  const added = await adding
  expect(added.stderr).toBe('')
  expect(added.code).toBe(0)
  return added.stdout
}

/** Profanity's display of a key (groups of 8 joined by `-`) as the CLI prints keys. */
const hexOf = (fingerprint: string): string => fingerprint.replaceAll('-', '').toUpperCase()

describe.skipIf(SKIP)('README: chat with a Profanity user over OMEMO 0.3', { timeout: 150_000 }, () => {
  const { server, on, json, spawn, listen, levels } = prosodyDevices('profanity-omemo03', PASSWORD)

  it('PEP-ACCESS + XEP-0384 v0.3: Profanity writes first (kept until Alice may read its keys), fingerprints compared once (Profanity’s form typed into vouch), contacts both ways, messages both ways', async () => {
    if (!profanityInstalled()) throw new Error(`${PROFANITY_INSTALL_HINT}: the CI image must have them`)
    const ALICE = 'alice@localhost'
    const CAROL = 'carol@localhost' as BareJid
    const svc = ['--service', server().service]
    const carol = await profanityWithOmemo(server(), CAROL)
    try {
      const reg = await json(
        'alice',
        'account',
        'register',
        ALICE,
        ...svc,
        '--encryption',
        'omemo03',
        '--resource',
        'laptop',
      )
      expect(reg).toMatchObject({ jid: ALICE, encryption: 'omemo03' })
      const carolKey = hexOf(carol.fingerprint)

      // Carol turns OMEMO on for Alice (Alice's nodes are open), compares Alice's fingerprint with
      // the one `vouch device list` shows, trusts it, and writes first: a key exchange
      const [aliceDevice] = await json('alice', 'device', 'list')
      const [shown] = await trustShown(carol.user, ALICE, 1)
      expect(hexOf(shown as string)).toBe(aliceDevice.key)
      let since = await carol.user.mark()
      await carol.user.type('Hello Alice, from Profanity')
      await carol.user.waitFor(/me: Hello Alice, from Profanity/, 10_000, since)

      // Alice cannot read Carol's device list yet (contacts only): reported, never dropped, kept
      const first = await spawn('alice', ['chat', 'listen', '--count', '1', '--timeout', '4'])
      expect(first.code, first.stderr).toBe(0)
      expect(first.stdout).toMatch(
        /^rejected message from carol@localhost\/prof: OMEMO03-UNKNOWN-DEVICE: .*\(kept: read again once carol@localhost's keys arrive; carol@localhost shows its keys to contacts only: vouch contact add carol@localhost\)$/m,
      )
      expect(first.stderr).toContain('received 0 messages, rejected 1')
      await expect(spawn('alice', ['trust', 'list', CAROL, '--refresh'])).resolves.toMatchObject({
        code: 2,
        stdout: '',
        stderr: `${CAROL} shows its keys to contacts only: vouch contact add ${CAROL}\n`,
      })

      // Alice authenticates Carol's device with the fingerprint as Profanity shows it (compared
      // in person: no need to be contacts first)
      await expect(on('alice', 'trust', 'authenticate', CAROL, carol.fingerprint)).resolves.toBe(
        `${CAROL} ${carolKey} authenticated\n`,
      )

      // contacts, both ways (as in the OX walk-through): Carol's device arrives (the key Profanity
      // shows, which Alice authenticated) and the kept message is read
      const added = await contactsBothWays(carol.user, ALICE, 'alice', spawn)
      expect(added).toMatch(new RegExp(`^${CAROL} approved: keys ${carolKey}$`, 'm'))
      expect(added).toMatch(/^\S+Z carol@localhost \[authenticated\]: Hello Alice, from Profanity$/m)

      // Alice answers on the session Profanity started; Profanity shows it
      await carol.user.openChat(ALICE)
      since = await carol.user.mark()
      await expect(on('alice', 'chat', 'send', CAROL, 'Hello Carol, from vouch')).resolves.toMatch(
        /^sent \S+ in OMEMO 0\.3 to 1 device of carol@localhost\n$/,
      )
      await carol.user.waitFor(/alice@localhost\/laptop: Hello Carol, from vouch/, 15_000, since)

      // and Carol's next message is read at once, from the key Alice authenticated
      since = await carol.user.mark()
      await carol.user.type('Second, on the session')
      await carol.user.waitFor(/me: Second, on the session/, 10_000, since)
      const second = await listen('alice', 10, 1)
      expect(second.messages).toEqual([
        expect.objectContaining({
          from: `${CAROL}/prof`,
          body: 'Second, on the session',
          device: carol.device,
          senderKey: carolKey,
          trust: 'authenticated',
          encryption: NS_AXOLOTL,
        }),
      ])
      expect(second.rejected).toEqual([])
    } finally {
      await carol.user.stop()
    }
  })

  it('issue 12 §3, ATM-S1/R1 + D-12 with a real OMEMO 0.3 client: the laptop authenticates a Profanity device once; the phone follows by a trust message over OMEMO 2 and reads her messages as authenticated', async () => {
    const FRANK = 'frank@localhost'
    const GRACE = 'grace@localhost' as BareJid
    const svc = ['--service', server().service]
    const grace = await profanityWithOmemo(server(), GRACE)
    try {
      // Frank's laptop and phone, both versions on each; each authenticated the other (scans)
      const laptop = await json(
        'laptop',
        'account',
        'register',
        FRANK,
        ...svc,
        '--encryption',
        'omemo2,omemo03',
        '--resource',
        'laptop',
      )
      const laptopUri = (await json('laptop', 'uri', 'show')).uri
      const phone = await json('phone', ...addPhone(FRANK, svc, '--uri', laptopUri, '--yes'))
      const phone03 = await json('phone', 'device', 'enable', 'omemo03')
      await on('laptop', 'uri', 'use', (await json('phone', 'uri', 'show')).uri, '--yes', '--source', 'scan')
      expect(await levels('laptop', FRANK)).toMatchObject({
        [phone.key]: 'authenticated',
        [phone03.omemo03Key]: 'authenticated',
      })

      // contacts; the laptop authenticates Grace's device with the fingerprint Profanity shows
      const graceKey = hexOf(grace.fingerprint)
      expect(await contactsBothWays(grace.user, FRANK, 'laptop', spawn)).toContain(`keys ${graceKey}`)
      const decided = await json('laptop', 'trust', 'authenticate', GRACE, grace.fingerprint)
      expect(decided.changes).toEqual([{ owner: GRACE, key: graceKey, level: 'authenticated' }])
      // ATM-S1: one trust message about Grace's OMEMO 0.3 key, to the phone, carried by OMEMO 2
      expect(decided.sent).toBeGreaterThan(0)

      // the phone never compared Grace's fingerprint: it follows the laptop (ATM-R1)
      expect(await levels('phone', GRACE)).toEqual({ [graceKey]: 'authenticated' })

      // Grace trusts both of Frank's OMEMO 0.3 devices and writes; the phone reads it, authenticated
      const shown = await trustShown(grace.user, FRANK, 2)
      const frank03 = ((await json('laptop', 'device', 'list')) as Out[])
        .filter((d) => d.protocol === 'OMEMO 0.3')
        .map((d) => d.key)
        .sort()
      expect(shown.map(hexOf).sort()).toEqual(frank03)
      expect(frank03).toContain(laptop.omemo03Key)
      const since = await grace.user.mark()
      await grace.user.type('Hello Frank, on both your devices')
      await grace.user.waitFor(/me: Hello Frank, on both your devices/, 10_000, since)
      for (const device of ['phone', 'laptop']) {
        const heard = await listen(device, 10, 1)
        expect(heard.messages, device).toEqual([
          expect.objectContaining({
            from: `${GRACE}/prof`,
            body: 'Hello Frank, on both your devices',
            device: grace.device,
            senderKey: graceKey,
            trust: 'authenticated',
            encryption: NS_AXOLOTL,
          }),
        ])
      }
    } finally {
      await grace.user.stop()
    }
  })
})
