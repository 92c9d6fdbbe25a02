/**
 * The README walk-through "Chat with a Profanity user over OMEMO 0.3", run for real: Alice uses
 * the `vouch` CLI only (an OMEMO 0.3 account, with the optional GPL plugin
 * `@vouch/backend-omemo-legacy`), Carol uses Profanity 0.13.1 (Debian, libsignal-protocol-c) in
 * tmux (`tooling/profanity`), both on a throwaway Prosody. They become contacts (Profanity shows
 * its OMEMO device list and bundle to contacts only), compare fingerprints once — Alice types the
 * one Profanity shows (`/omemo fingerprint`, `413a0689-0e125b62-…`) into `vouch trust
 * authenticate`, Carol trusts the one `vouch device list` shows — and write both ways, Carol
 * starting the session. Needs profanity, tmux and prosody: fails in CI without them, skips
 * visibly elsewhere.
 */
import { createClient, pepPublish, startClient } from '@vouch/xmpp'
import { buildDeviceList, NODE_DEVICELIST } from '@vouch/backend-omemo-legacy'
import type { BareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  PROFANITY_INSTALL_HINT,
  type ProfanityUser,
  profanityInstalled,
  startProfanity,
} from '../../../tooling/profanity/src/index.ts'
import { prosodyDevices } from './prosody-devices.ts'

const SKIP = !profanityInstalled() && process.env.CI === undefined
if (SKIP) console.warn(`skipping the Profanity OMEMO 0.3 walk-through: ${PROFANITY_INSTALL_HINT}`)

const ALICE = 'alice@localhost'
const CAROL = 'carol@localhost' as BareJid
const PASSWORD = 'correct horse battery staple'

describe.skipIf(SKIP)('README: chat with a Profanity user over OMEMO 0.3', { timeout: 120_000 }, () => {
  const { server, on, json, spawn, listen } = prosodyDevices('profanity-omemo03', PASSWORD)

  it('PEP-ACCESS + XEP-0384 v0.3: Profanity writes first (kept until Alice may read its keys), contacts both ways, fingerprints compared once (Profanity’s form typed into vouch), messages both ways', async () => {
    if (!profanityInstalled()) throw new Error(`${PROFANITY_INSTALL_HINT}: the CI image must have them`)
    const svc = ['--service', server().service]
    await server().register('carol', PASSWORD)
    // Profanity 0.13.1 publishes its device only into a device list node that exists: an account
    // that used OMEMO before has one; a fresh test account gets the empty list another client of
    // Carol's would have left (tooling/profanity README)
    const setup = createClient({
      service: server().service,
      jid: CAROL,
      password: PASSWORD,
      resource: 'setup',
    })
    await startClient(setup)
    await pepPublish(setup, NODE_DEVICELIST, 'current', buildDeviceList([]))
    await setup.stop()
    let carol: ProfanityUser | undefined
    try {
      carol = await startProfanity({ jid: CAROL, password: PASSWORD, port: server().port })
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
      await carol.type('/omemo gen')
      const gen = await carol.waitFor(
        /OMEMO cr[yi]?p?tographic materials generated\. Your Device ID is (\d+)/i,
        30_000,
      )
      const carolDevice = Number(gen[1])
      let since = await carol.mark()
      await carol.type('/omemo fingerprint')
      const fp = (await carol.waitFor(/Your OMEMO fingerprint: ([0-9a-f-]+)/, 10_000, since))[1] as string

      // Carol turns OMEMO on for Alice (Alice's nodes are open), compares Alice's fingerprint with
      // the one `vouch device list` shows, trusts it, and writes first: a key exchange
      const [aliceDevice] = await json('alice', 'device', 'list')
      await carol.openChat(ALICE)
      await carol.type('/omemo start')
      let shown: string | undefined
      for (let i = 0; i < 40 && shown === undefined; i++) {
        since = await carol.mark()
        await carol.type(`/omemo fingerprint ${ALICE}`)
        await new Promise((r) => setTimeout(r, 500))
        const screen = (await carol.screen()).split('\n').slice(since).join('\n')
        shown = /alice@localhost's OMEMO fingerprint: ([0-9a-f-]+)/.exec(screen)?.[1]
      }
      expect(shown?.replaceAll('-', '').toUpperCase()).toBe(aliceDevice.key)
      since = await carol.mark()
      await carol.type(`/omemo trust ${ALICE} ${shown}`)
      await carol.waitFor(/alice@localhost's OMEMO fingerprint: [0-9a-f-]+ \(trusted\)/, 10_000, since)
      since = await carol.mark()
      await carol.type('Hello Alice, from Profanity')
      await carol.waitFor(/me: Hello Alice, from Profanity/, 10_000, since)

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
      const carolKey = fp.replaceAll('-', '').toUpperCase()
      await expect(on('alice', 'trust', 'authenticate', CAROL, fp)).resolves.toBe(
        `${CAROL} ${carolKey} authenticated\n`,
      )

      // contacts, both ways (as in the OX walk-through): Carol asks, Alice approves and asks back;
      // Carol's device arrives and the kept message is read
      await carol.openConsole()
      since = await carol.mark()
      await carol.type(`/sub request ${ALICE}`)
      await carol.waitFor(/Sent subscription request to alice@localhost/, 10_000, since)
      const approved = await spawn('alice', ['contact', 'approve'], 'y\n')
      expect(approved).toMatchObject({ code: 0, stdout: `approved ${CAROL}\n` })
      since = await carol.mark()
      const adding = spawn('alice', ['contact', 'add', CAROL, '--wait', '20'])
      await carol.waitFor(/Received authorization request from alice@localhost/, 15_000, since)
      await carol.type(`/sub allow ${ALICE}`)
      const added = await adding
      expect(added.stderr).toBe('')
      expect(added.code).toBe(0)
      // the key Vouch read from Carol's bundle is the one Profanity shows her (and Alice authenticated)
      expect(added.stdout).toMatch(new RegExp(`^${CAROL} approved: keys ${carolKey}$`, 'm'))
      expect(added.stdout).toMatch(/^\S+Z carol@localhost \[authenticated\]: Hello Alice, from Profanity$/m)

      // Alice answers on the session Profanity started; Profanity shows it
      await carol.openChat(ALICE)
      since = await carol.mark()
      await expect(on('alice', 'chat', 'send', CAROL, 'Hello Carol, from vouch')).resolves.toMatch(
        /^sent \S+ in OMEMO 0\.3 to 1 device of carol@localhost\n$/,
      )
      await carol.waitFor(/alice@localhost\/laptop: Hello Carol, from vouch/, 15_000, since)

      // and Carol's next message is read at once, from the key Alice authenticated
      since = await carol.mark()
      await carol.type('Second, on the session')
      await carol.waitFor(/me: Second, on the session/, 10_000, since)
      const second = await listen('alice', 10, 1)
      expect(second.messages).toEqual([
        expect.objectContaining({
          from: `${CAROL}/prof`,
          body: 'Second, on the session',
          device: carolDevice,
          senderKey: carolKey,
          trust: 'authenticated',
          encryption: 'eu.siacs.conversations.axolotl',
        }),
      ])
      expect(second.rejected).toEqual([])
    } finally {
      await carol?.stop()
    }
  })
})
