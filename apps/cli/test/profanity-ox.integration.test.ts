/**
 * The README walk-through "Exchange OX messages with a Profanity user", run for real: Alice uses
 * the `vouch` CLI only (an OX account), Carol uses Profanity 0.13.1 (Debian) in tmux
 * (`tooling/profanity`), both on a throwaway Prosody. Carol does what Profanity's manual
 * (`man profanity-ox-setup`) asks of its user — a gpg key with user id `xmpp:carol@localhost`,
 * exported and announced with `/ox announce` (armored: Profanity then publishes Base64 of the
 * armor), `/ox request` of Alice's key and a local signature on it (Profanity only encrypts to
 * keys valid in gpg) — and nothing else by hand on either side.
 *
 * Both directions over OX, making each other contacts (Profanity shows its keys to contacts
 * only), and no silent drop: Carol's first message, sent before Alice may read her keys, is
 * reported by `chat listen`, kept, and read once Carol approves Alice's contact request.
 * Needs profanity, tmux, gnupg and prosody: fails in CI without them, skips visibly elsewhere.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { prosodyInstalled, type ProsodyServer, startProsody } from '@vouch/prosody-tooling'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  PROFANITY_INSTALL_HINT,
  type ProfanityUser,
  profanityInstalled,
  setUpOx,
  startProfanity,
} from '../../../tooling/profanity/src/index.ts'
import { type CliResult, vouch } from './helpers.ts'

const INSTALLED = profanityInstalled() && prosodyInstalled()
const SKIP = !INSTALLED && process.env.CI === undefined
if (SKIP) console.warn(`skipping the Profanity walk-through: ${PROFANITY_INSTALL_HINT} (and prosody)`)

const ALICE = 'alice@localhost'
const CAROL = 'carol@localhost'
const PASSWORD = 'correct horse battery staple'

describe.skipIf(SKIP)('README: exchange OX messages with a Profanity user', { timeout: 90_000 }, () => {
  let server: ProsodyServer
  let carol: ProfanityUser
  let dir: string
  let carolFpr: string
  const previousPassword = process.env.VOUCH_PASSWORD
  /** Alice's `vouch` on her data directory */
  const alice = (...argv: string[]): Promise<CliResult> => vouch([...argv, '--data', join(dir, 'alice')])

  beforeAll(async () => {
    if (!INSTALLED) throw new Error(`${PROFANITY_INSTALL_HINT} (and prosody): the CI image must have them`)
    dir = mkdtempSync(join(tmpdir(), 'vouch-profanity-readme-'))
    process.env.VOUCH_PASSWORD = PASSWORD
    server = await startProsody()
    await server.register('carol', PASSWORD)
    carol = await startProfanity({ jid: CAROL, password: PASSWORD, port: server.port })
  }, 30_000)
  afterAll(async () => {
    if (previousPassword === undefined) delete process.env.VOUCH_PASSWORD
    else process.env.VOUCH_PASSWORD = previousPassword
    await carol?.stop()
    await server?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('both directions over OX, contacts made both ways, no message dropped silently', async () => {
    // Alice: an OX account (her key goes to PEP with the open access model)
    const reg = await alice(
      'account',
      'register',
      ALICE,
      '--encryption',
      'ox',
      '--service',
      server.service,
      '--json',
    )
    expect(reg.stderr).toBe('')
    expect(reg.code).toBe(0)
    const aliceFpr = (JSON.parse(reg.stdout) as { key: string }).key
    expect(aliceFpr).toMatch(/^[0-9A-F]{40}$/)

    // Carol, as Profanity's manual says: a gpg key with user id xmpp:carol@localhost, announced
    carolFpr = await setUpOx(carol, { armor: true })
    // …Alice's key from PEP, checked and locally signed (Profanity encrypts only to valid keys)
    let since = await carol.mark()
    await carol.type(`/ox discover ${ALICE}`)
    await carol.waitFor(new RegExp(aliceFpr), 10_000, since)
    since = await carol.mark()
    await carol.type(`/ox request ${ALICE} ${aliceFpr}`)
    await carol.waitFor(/Public Key imported/, 10_000, since)
    await carol.gpg(['--quick-lsign-key', aliceFpr])

    // Carol writes first; Alice is not her contact yet, so Alice cannot read Carol's key
    await carol.openChat(ALICE)
    await carol.type('/ox start')
    await carol.waitFor(/OX encryption enabled/)
    since = await carol.mark()
    await carol.type('Hello Alice, from Profanity')
    await carol.waitFor(/me: Hello Alice, from Profanity/, 10_000, since)
    const first = await alice('chat', 'listen', '--count', '1', '--timeout', '4')
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(
      /^rejected message from carol@localhost\/prof: OX-SIGNER: .*\(kept: read again once carol@localhost's keys arrive; carol@localhost shows its keys to contacts only: vouch contact add carol@localhost\)$/m,
    )
    expect(first.stderr).toContain('received 0 messages, rejected 1')
    const refused = await alice('trust', 'list', CAROL, '--refresh')
    expect(refused).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'carol@localhost shows its keys to contacts only: vouch contact add carol@localhost\n',
    })

    // Carol adds Alice in Profanity; Alice sees the request and approves it (asked, answered y)
    await carol.openConsole()
    since = await carol.mark()
    await carol.type(`/sub request ${ALICE}`)
    await carol.waitFor(/Sent subscription request to alice@localhost/, 10_000, since)
    await expect(alice('contact', 'list')).resolves.toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`${CAROL} asks to be your contact: vouch contact approve ${CAROL}`),
    })
    const approved = await vouch(['contact', 'approve', '--data', join(dir, 'alice')], 'y\n')
    expect(approved.stderr).toContain(`${CAROL} asks to be your contact`)
    expect(approved).toMatchObject({ code: 0, stdout: `approved ${CAROL}\n` })

    // Alice asks to be Carol's contact; Carol allows it in Profanity; Carol's key is fetched (the
    // armored one Profanity published), and the message that was kept is read
    since = await carol.mark()
    const adding = alice('contact', 'add', CAROL, '--wait', '20')
    await carol.waitFor(/Received authorization request from alice@localhost/, 15_000, since)
    await carol.type(`/sub allow ${ALICE}`)
    const added = await adding
    expect(added.stderr).toBe('')
    expect(added.code).toBe(0)
    expect(added.stdout).toMatch(new RegExp(`^${CAROL} approved: keys ${carolFpr}$`, 'm'))
    expect(added.stdout).toMatch(/carol@localhost \[automatically-trusted\]: Hello Alice, from Profanity$/m)
    await expect(alice('contact', 'list')).resolves.toMatchObject({
      code: 0,
      stdout: `${CAROL} both\n`,
    })

    // Alice → Carol over OX: Profanity decrypts it with gpg and shows it
    await carol.openChat(ALICE)
    since = await carol.mark()
    const sent = await alice('chat', 'send', CAROL, 'Hello Carol, from vouch')
    expect(sent).toMatchObject({ code: 0, stderr: '' })
    await carol.waitFor(/alice@localhost\/vouch: Hello Carol, from vouch/, 15_000, since)

    // Carol → Alice over OX, now read at once: Profanity's ±hhmm <time/> (D-2a) is accepted
    since = await carol.mark()
    await carol.type('Second message, from Profanity')
    await carol.waitFor(/me: Second message, from Profanity/, 10_000, since)
    const second = await alice('chat', 'listen', '--count', '1', '--timeout', '15')
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(
      / carol@localhost \(key [0-9A-F]{16}…, automatically-trusted\): Second message, from Profanity$/m,
    )
    expect(second.stderr).toContain('received 1 message, rejected 0')
  })
})
