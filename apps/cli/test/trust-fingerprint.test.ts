/**
 * `vouch trust authenticate|distrust JID KEY…` takes a key as the other person's client shows it
 * (`parseDisplayedFingerprint` of `@vouch/uri`, rules FPR-1 … FPR-3): Profanity's
 * `413a0689-0e125b62-…`, the groups of 8 of Conversations, Dino and Gajim (quoted or pasted
 * unquoted), GnuPG's groups of 4, `05` in front of an OMEMO 0.3 key. A fingerprint that is not
 * one is one line, exit 2, before anything goes online.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseKeyIdHex } from '@vouch/tm-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keysFromWords } from '../src/online/actions.ts'
import { vouch } from './helpers.ts'

// Profanity 0.13.1's `/omemo fingerprint`, read from a run of it
const PROFANITY = '413a0689-0e125b62-400e3ed9-8d5bca91-76b13fb3-95372518-cf815e9f-9d963112'
const HEX = PROFANITY.replaceAll('-', '')
const KEY = parseKeyIdHex(HEX)
const OTHER = 'b423f5088de9a924d51b31581723d850c7cc67d0a4fe6b267c3d301ff56d2413'
const GPG = '1F2E 3D4C 5B6A 7988 0F1E  2D3C 4B5A 6978 8796 A5B4'

describe('trust authenticate: keys as clients show them', () => {
  it('FPR-1: Profanity’s form, Conversations’ groups quoted or as separate words, Gajim’s upper case: one key', () => {
    for (const enc of ['omemo03', 'omemo2,omemo03', 'omemo2'] as const) {
      expect(keysFromWords([PROFANITY], enc)).toEqual([KEY])
      expect(keysFromWords([HEX.replace(/(.{8})(?!$)/g, '$1 ')], enc)).toEqual([KEY])
      expect(keysFromWords(HEX.match(/.{8}/g) as string[], enc)).toEqual([KEY])
      expect(keysFromWords((HEX.toUpperCase().match(/.{8}/g) as string[]).slice(), enc)).toEqual([KEY])
    }
  })

  it('FPR-3: an OMEMO 0.3 key with the 05 type byte in front, as one word or with 05 as a group of its own', () => {
    expect(keysFromWords([`05${HEX}`], 'omemo03')).toEqual([KEY])
    expect(keysFromWords(['05', ...(HEX.match(/.{8}/g) as string[])], 'omemo2,omemo03')).toEqual([KEY])
    expect(() => keysFromWords([`05${HEX}`], 'omemo2')).toThrow(expect.objectContaining({ rule: 'FPR-3' }))
  })

  it('FPR-2: two whole keys are two keys; whole and partial words mixed, or groups that do not add up to a key, are refused', () => {
    expect(keysFromWords([PROFANITY, OTHER], 'omemo03')).toEqual([KEY, parseKeyIdHex(OTHER)])
    expect(() => keysFromWords([PROFANITY, '413a0689'], 'omemo03')).toThrow(
      expect.objectContaining({ name: 'InvalidKeyIdError', rule: 'FPR-2' }),
    )
    expect(() => keysFromWords((HEX.match(/.{8}/g) as string[]).slice(1), 'omemo03')).toThrow(
      expect.objectContaining({ rule: 'FPR-2' }),
    )
  })

  it('FPR-1: GnuPG’s fingerprint in groups of 4, pasted unquoted, names the OX key', () => {
    expect(keysFromWords(GPG.split(/\s+/), 'ox')).toEqual([
      parseKeyIdHex(GPG.replace(/\s/g, '').toLowerCase()),
    ])
  })

  describe('from the command line', () => {
    let dir: string
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vouch-fpr-'))
      // an OMEMO 0.3 account whose server does not answer: a bad key must fail before connecting
      await writeFile(
        join(dir, 'accounts.json'),
        JSON.stringify([
          {
            jid: 'alice@localhost',
            service: 'xmpp://127.0.0.1:1',
            resource: 'laptop',
            encryption: 'omemo03',
          },
        ]),
      )
    })
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    for (const [words, rule] of [
      [['413a0689-0e125b62-zz'], 'FPR-1'],
      [[PROFANITY.slice(0, -1)], 'FPR-2'],
      [[`06${HEX}`], 'FPR-3'],
    ] as const)
      it(`${rule}: a bad fingerprint is one line naming the rule, exit 2, and nothing goes online`, async () => {
        const r = await vouch(['trust', 'authenticate', 'carol@localhost', ...words, '--data', dir])
        expect(r.code, r.stderr).toBe(2)
        expect(r.stdout).toBe('')
        expect(r.stderr.trim().split('\n')).toHaveLength(1)
        expect(r.stderr).toContain(rule)
        expect(r.stderr).not.toMatch(/connect|ECONNREFUSED/i)
      })
  })
})
