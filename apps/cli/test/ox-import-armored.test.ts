/**
 * OX-ARMOR through the CLI: `vouch ox import` of the `<pubkey/>` Profanity 0.13.1 really
 * published (Base64 of the armored key in `<data/>`) imports the key, checked like a binary one —
 * it used to say `OX-KEY: not an OpenPGP key`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { vouch } from './helpers.ts'

const PUBKEY = fileURLToPath(
  new URL(
    '../../../packages/backend-ox/test/fixtures/profanity-0.13.1/carol-pubkey-armored.xml',
    import.meta.url,
  ),
)
const dir = mkdtempSync(join(tmpdir(), 'vouch-ox-armor-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('vouch ox import: a <pubkey/> as Profanity publishes it', () => {
  it('OX-ARMOR: imports the armored key inside <pubkey><data/>, for its owner only', async () => {
    const args = ['--data', dir, '--jid', 'alice@localhost', '--json']
    expect((await vouch(['ox', 'keygen', ...args])).code).toBe(0)
    const ok = await vouch(['ox', 'import', PUBKEY, '--owner', 'carol@localhost', ...args])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject([
      { owner: 'carol@localhost', fingerprint: '26A2487A1D21786DFE3FE67EFDFDEBA8CB20AE6E', usable: true },
    ])
    const other = await vouch(['ox', 'import', PUBKEY, '--owner', 'mallory@localhost', ...args])
    expect(other.code).toBe(2)
    expect(other.stderr).toMatch(/^OX-UID: /)
  })
})
