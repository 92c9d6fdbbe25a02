/**
 * Keys and messages as Profanity 0.13.1 (Debian) really wrote them over Prosody
 * (`test/fixtures/profanity-0.13.1/`, captured from a run of `tooling/profanity`):
 *
 * - `carol-pubkey-armored.xml`: the `<pubkey/>` Profanity's `/ox announce` published for
 *   `gpg --armor --export` — Base64 of the ASCII armor, where XEP-0373 §4.1 has the binary key
 *   (leniency OX-ARMOR);
 * - `message.xml`: Profanity's OX message from carol@localhost/prof to alice@localhost, whose
 *   `<signcrypt/>` (`signcrypt.xml`, opened with carol's gpg) has
 *   `<time stamp='2026-12-04T15:49:13+0000'/>`, an offset without the colon (leniency D-2a);
 * - `alice-secretkey.xml`: alice's (a throwaway test account's) key as an XEP-0373 backup, code
 *   below, so the message can be opened here.
 */
import { readFileSync } from 'node:fs'
import type { BareJid, FullJid, PepAccess, PepItem, UnusableKey } from '@vouch/tm-core'
import { parseXml } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  armoredPublicKey,
  buildPubkey,
  buildPublicKeysList,
  findOpenpgpElement,
  generateOxKey,
  NODE_PUBLIC_KEYS,
  parseContent,
  publicKeyDataNode,
  readOxKeys,
  readPubkeyElement,
} from '../src/index.ts'
import { oxKeyDirectory } from '../src/pep.ts'
import { party } from './helpers.ts'

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/profanity-0.13.1/${name}`, import.meta.url), 'utf8').trim()
const CAROL = 'carol@localhost' as BareJid
const ALICE = 'alice@localhost' as BareJid
const CAROL_FPR = '26A2487A1D21786DFE3FE67EFDFDEBA8CB20AE6E'
const BACKUP_CODE = '1234-5678-9ABC-DEFG-HJKL-MNPQ'
const SENT = new Date('2026-12-04T15:49:13Z')

describe("OX-ARMOR: Profanity's armored <pubkey/>", () => {
  it('OX-ARMOR: the <data/> holds Base64 of the armor, and reads as the same key as its binary form', async () => {
    const el = parseXml(fixture('carol-pubkey-armored.xml'))
    const armor = armoredPublicKey(readPubkeyElement(el))
    expect(armor?.startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----')).toBe(true)
    const [fromArmor] = await readOxKeys(el)
    expect(fromArmor?.getFingerprint().toUpperCase()).toBe(CAROL_FPR)
    expect(fromArmor?.getUserIDs()).toEqual(['xmpp:carol@localhost'])
    const [fromBinary] = await readOxKeys(buildPubkey(fromArmor?.write() ?? new Uint8Array()))
    expect(fromBinary?.write()).toEqual(fromArmor?.write())
  })

  it('OX-ARMOR: imported and checked like a binary key (usable, xmpp:carol@localhost), but only for its owner', async () => {
    const alice = await party(ALICE)
    const [r] = await alice.ox.importPublicKey(CAROL, parseXml(fixture('carol-pubkey-armored.xml')))
    expect(r).toMatchObject({ change: 'added', status: { usable: true } })
    expect(r?.info.fingerprint).toBe(CAROL_FPR)
    // the very same checks as a binary key: not carol's key for anybody else
    await expect(
      alice.ox.importPublicKey('mallory@localhost' as BareJid, parseXml(fixture('carol-pubkey-armored.xml'))),
    ).rejects.toMatchObject({ name: 'InvalidKeyIdError', rule: 'OX-UID' })
  })

  it('OX-ARMOR: a damaged armor is OX-KEY, and armor of another block type is not read as a key', async () => {
    const armor = armoredPublicKey(readPubkeyElement(parseXml(fixture('carol-pubkey-armored.xml')))) ?? ''
    const damaged = armor.replace(
      /\n([A-Za-z0-9+/]{20})/,
      (_m, s: string) => `\n${s.split('').reverse().join('')}`,
    )
    expect(damaged).not.toBe(armor)
    const b64 = (text: string): string => Buffer.from(text).toString('base64')
    const pubkey = (text: string) =>
      parseXml(`<pubkey xmlns='urn:xmpp:openpgp:0'><data>${b64(text)}</data></pubkey>`)
    await expect(readOxKeys(pubkey(damaged))).rejects.toMatchObject({
      name: 'InvalidKeyIdError',
      rule: 'OX-KEY',
    })
    const message = armor.replaceAll('PUBLIC KEY BLOCK', 'MESSAGE')
    expect(armoredPublicKey(new TextEncoder().encode(message))).toBeUndefined()
    await expect(readOxKeys(pubkey(message))).rejects.toMatchObject({
      name: 'InvalidKeyIdError',
      rule: 'OX-KEY',
    })
  })

  it('OX-ARMOR is read only: our own <pubkey/> holds the binary key', async () => {
    const alice = await party(ALICE)
    const data = readPubkeyElement(await alice.ox.publicKeyElement())
    expect(armoredPublicKey(data)).toBeUndefined()
    expect((data[0] ?? 0) & 0x80).toBe(0x80) // an OpenPGP packet header
  })
})

describe("D-2a: Profanity's message, ±hhmm in <time/>", () => {
  it("D-2a: Profanity's <signcrypt/> reads, its time the instant the offset names", () => {
    const content = parseContent(fixture('signcrypt.xml'))
    expect(content.mode).toBe('signcrypt')
    expect(content.time).toEqual(SENT)
    expect(content.to).toEqual([ALICE])
    expect(content.payload[0]?.getText()).toBe('Hello from Profanity')
  })

  it("D-2a / OX-ARMOR: Vouch opens Profanity's real message with the armored key from its PEP node", async () => {
    const alice = await party(ALICE)
    await alice.ox.restoreBackup(parseXml(fixture('alice-secretkey.xml')), BACKUP_CODE)
    await alice.ox.importPublicKey(CAROL, parseXml(fixture('carol-pubkey-armored.xml')), { now: SENT })
    const element = findOpenpgpElement(parseXml(fixture('message.xml')))
    if (element === undefined) throw new Error('fixture without <openpgp/>')
    const stanza = { from: 'carol@localhost/prof' as FullJid, to: ALICE }
    const r = await alice.ox.decrypt(element, stanza, { now: new Date(SENT.getTime() + 7_000) })
    expect(r.payload[0]?.getText()).toBe('Hello from Profanity')
    expect(r.time).toEqual(SENT)
    expect(r.senderJid).toBe(CAROL)
    // the window is unchanged: the same message eight days later is OX-TIME
    await expect(
      alice.ox.decrypt(element, stanza, { now: new Date(SENT.getTime() + 8 * 86_400_000) }),
    ).rejects.toMatchObject({ rule: 'OX-TIME' })
  })
})

describe('unusable keys are reported, never dropped silently', () => {
  it('OX-UID / OX-KEY: the directory names each announced key it cannot use, and why', async () => {
    const alice = await party(ALICE)
    const impostor = await generateOxKey('mallory@localhost' as BareJid)
    const impostorFpr = impostor.getFingerprint().toUpperCase()
    const nodes = new Map<string, PepItem[]>([
      [
        NODE_PUBLIC_KEYS,
        [
          {
            id: 'current',
            payload: buildPublicKeysList([
              { fingerprint: CAROL_FPR, date: SENT },
              { fingerprint: impostorFpr, date: SENT },
              { fingerprint: 'B'.repeat(40), date: SENT },
            ]),
          },
        ],
      ],
      [publicKeyDataNode(CAROL_FPR), [{ id: 'x', payload: parseXml(fixture('carol-pubkey-armored.xml')) }]],
      [publicKeyDataNode(impostorFpr), [{ id: 'x', payload: buildPubkey(impostor.toPublic().write()) }]],
    ])
    const pep: PepAccess = {
      publish: async () => undefined,
      fetch: async (_jid, node) => [...(nodes.get(node) ?? [])],
    }
    const reported: UnusableKey[] = []
    const ids = await oxKeyDirectory(alice.ox).refresh(CAROL, pep, { onUnusableKey: (k) => reported.push(k) })
    expect(ids).toHaveLength(1)
    expect(reported.map((k) => [k.owner, k.key, k.reason.split(':')[0]])).toEqual([
      [CAROL, impostorFpr, 'OX-UID'],
      [CAROL, 'B'.repeat(40), 'OX-KEY'],
    ])
    expect(reported[0]?.reason).toContain('xmpp:carol@localhost')
  })
})
