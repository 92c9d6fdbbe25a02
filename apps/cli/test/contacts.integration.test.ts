/**
 * `vouch contact` and contacts-only keys between two Vouch users over a throwaway Prosody, through
 * the CLI only: Alice chooses `--key-access presence` (her OX key for contacts only), Bob cannot
 * read it — a clear line and exit 2, never `StanzaError: forbidden` — until Alice approves his
 * request (asked; declining approves nothing), and no longer once he removed her.
 * Needs prosody: fails in CI without it, skips visibly elsewhere.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { prosodyInstalled, type ProsodyServer, startProsody } from '@vouch/prosody-tooling'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, vouch } from './helpers.ts'

const SKIP = !prosodyInstalled() && process.env.CI === undefined
const ALICE = 'alice@localhost'
const BOB = 'bob@localhost'
const NOT_VISIBLE = `${ALICE} shows its keys to contacts only: vouch contact add ${ALICE}\n`

describe.skipIf(SKIP)(
  'vouch contact: contacts-only keys (PEP access model presence)',
  { timeout: 60_000 },
  () => {
    let server: ProsodyServer
    let dir: string
    const previousPassword = process.env.VOUCH_PASSWORD
    const as =
      (who: string) =>
      (argv: readonly string[], stdin = ''): Promise<CliResult> =>
        vouch([...argv, '--data', join(dir, who)], stdin)
    const alice = as('alice')
    const bob = as('bob')

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vouch-contacts-'))
      process.env.VOUCH_PASSWORD = 'correct horse battery staple'
      server = await startProsody()
    }, 30_000)
    afterAll(async () => {
      if (previousPassword === undefined) delete process.env.VOUCH_PASSWORD
      else process.env.VOUCH_PASSWORD = previousPassword
      await server?.stop()
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    })

    it('PEP-ACCESS / RFC 6121: keys for contacts only, readable once the request is approved, not after removal', async () => {
      const svc = ['--service', server.service, '--encryption', 'ox']
      await expect(
        vouch([
          'account',
          'register',
          'carol@localhost',
          ...svc.slice(0, 2),
          '--key-access',
          'presence',
          '--data',
          join(dir, 'carol'),
        ]),
      ).resolves.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('--key-access presence is for OX accounts'),
      })
      const reg = await alice(['account', 'register', ALICE, ...svc, '--key-access', 'presence', '--json'])
      expect(reg).toMatchObject({ code: 0, stderr: '' })
      const aliceKey = (JSON.parse(reg.stdout) as { key: string }).key
      expect((await bob(['account', 'register', BOB, ...svc])).code).toBe(0)

      // Bob is not Alice's contact: one clear line, exit 2
      await expect(bob(['trust', 'list', ALICE, '--refresh'])).resolves.toEqual({
        code: 2,
        stdout: '',
        stderr: NOT_VISIBLE,
      })
      await expect(bob(['chat', 'send', ALICE, 'hi'])).resolves.toEqual({
        code: 2,
        stdout: '',
        stderr: NOT_VISIBLE,
      })

      // URI-4: Alice's code scanned before Bob may read her keys: applied only when confirmed
      // again, and the warning says why the keys could not be checked (not a hard failure)
      const aliceUri = (JSON.parse((await alice(['uri', 'show', '--json'])).stdout) as { uri: string }).uri
      const scanned = await bob(['uri', 'use', aliceUri, '--yes'])
      expect(scanned.code).toBe(2)
      expect(scanned.stderr).toBe(
        `URI-4: ${aliceKey} is not among the keys ${ALICE} publishes (which this device cannot read: ${NOT_VISIBLE.trim()}): check the code with ${ALICE}, or pass --allow-unpublished\n`,
      )

      // Bob asks; Alice (offline meanwhile) sees the request, declines once, then approves
      await expect(bob(['contact', 'add', ALICE])).resolves.toMatchObject({
        code: 0,
        stdout: `asked ${ALICE} to be your contact; once approved, its keys are fetched (vouch trust list ${ALICE} --refresh)\n`,
      })
      await expect(bob(['contact', 'list'])).resolves.toMatchObject({
        code: 0,
        stdout: `${ALICE} none (asked)\n`,
      })
      await expect(bob(['trust', 'list', ALICE, '--refresh'])).resolves.toMatchObject({
        code: 2,
        stderr: `${ALICE} shows its keys to contacts only and has not approved your contact request yet: wait for it (vouch contact list)\n`,
      })
      await expect(alice(['contact', 'list'])).resolves.toMatchObject({
        code: 0,
        stdout: `${BOB} asks to be your contact: vouch contact approve ${BOB}\n`,
      })
      const declined = await alice(['contact', 'approve'], 'n\n')
      expect(declined).toMatchObject({ code: 0, stdout: 'nothing approved\n' })
      expect(declined.stderr).toContain(`${BOB} asks to be your contact`)
      await expect(alice(['contact', 'approve', '--yes'])).resolves.toMatchObject({
        code: 0,
        stdout: `approved ${BOB}\n`,
      })

      // now Bob reads Alice's key, and can write to her
      const listed = await bob(['trust', 'list', ALICE, '--refresh'])
      expect(listed).toMatchObject({ code: 0, stderr: '' })
      expect(listed.stdout).toMatch(new RegExp(`^${ALICE} ${aliceKey} [a-z-]+$`, 'm'))
      await expect(bob(['contact', 'list'])).resolves.toMatchObject({ code: 0, stdout: `${ALICE} to\n` })
      await expect(bob(['chat', 'send', ALICE, 'hi'])).resolves.toMatchObject({ code: 0, stderr: '' })

      // removed: the subscription ends, the keys are hidden again
      await expect(bob(['contact', 'remove', ALICE])).resolves.toMatchObject({
        code: 0,
        stdout: `removed ${ALICE}\n`,
      })
      await expect(bob(['trust', 'list', ALICE, '--refresh'])).resolves.toEqual({
        code: 2,
        stdout: '',
        stderr: NOT_VISIBLE,
      })

      // Alice listens with --approve-contacts: Bob's new request is approved without asking
      const listening = alice(['chat', 'listen', '--approve-contacts', '--timeout', '6'])
      const again = await bob(['contact', 'add', ALICE, '--wait', '5'])
      expect(again).toMatchObject({ code: 0, stdout: `${ALICE} approved: keys ${aliceKey}\n` })
      const listened = await listening
      expect(listened.code).toBe(0)
      expect(listened.stderr).toContain(`approved ${BOB} as a contact (--approve-contacts)`)
    })
  },
)
