import { readFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixture, vouch } from './helpers.ts'

// TM-ATM.md §2.6: the example keys in both encodings
const A2 = 'aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ='
const A3 = 'IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA='
const B1 = 'YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8='
const BX = 'tCP1CI3pqSTVGzFYFyPYUMfMZ9Ck/msmfD0wH/VtJBM='
const BY = '2fhJtrgoMJxfLI3084/YkYh9paqiSiLFDVL2m0qAgX4='
const EXAMPLE_OWNERS = [
  { jid: 'alice@example.org', trust: [A2, A3], distrust: [] },
  { jid: 'bob@example.com', trust: [B1], distrust: [BX, BY] },
]
const SPEC_URI =
  'xmpp:bob@example.com?trust-message;encryption=urn:xmpp:omemo:2;trust=623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f;distrust=b423f5088de9a924d51b31581723d850c7cc67d0a4fe6b267c3d301ff56d2413;distrust=d9f849b6b828309c5f2c8df4f38fd891887da5aaa24a22c50d52f69b4a80817e'

/** Bad input: exit code 2, one line on stderr starting with the rule id, nothing on stdout. */
function expectRejected(r: { code: number; stdout: string; stderr: string }, rule: string): void {
  expect(r.code).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(r.stderr.startsWith(`${rule}: `)).toBe(true)
}

describe('vouch tm', () => {
  it('tm parse: the XEP-0434 v0.6.0 example trust message → JSON with Base64 ids', async () => {
    const r = await vouch(['tm', 'parse', fixture('xep0434-v0.6.0-trust-message.xml')])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({
      namespace: 'urn:xmpp:tm:1',
      usage: 'urn:xmpp:atm:1',
      encryption: 'urn:xmpp:omemo:2',
      keyOwners: EXAMPLE_OWNERS,
    })
  })
  it('tm parse: reads standard input with - and an SCE envelope holding the message (TM-16)', async () => {
    const r = await vouch(['tm', 'parse', '-'], readFileSync(fixture('xep0434-v0.6.0-envelope.xml'), 'utf8'))
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).keyOwners).toEqual(EXAMPLE_OWNERS)
  })
  it('tm parse --legacy: the early-draft hex message gives the same Base64 ids (§2.6)', async () => {
    const r = await vouch(['tm', 'parse', '--legacy', fixture('early-draft-hex.xml')])
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout)
    expect(json.namespace).toBe('urn:xmpp:trust-messages:0')
    expect(json.keyOwners).toEqual(EXAMPLE_OWNERS)
  })
  it("tm parse --legacy TM-5: the first draft's Listing 5, without a usage attribute, reads with the usage its namespace implies (urn:xmpp:atm:0)", async () => {
    const r = await vouch(['tm', 'parse', '--legacy', fixture('early-draft-listing-5.xml')])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      namespace: 'urn:xmpp:trust-messages:0',
      usage: 'urn:xmpp:atm:0',
      encryption: 'eu.siacs.conversations.axolotl',
      keyOwners: EXAMPLE_OWNERS,
    })
  })
  it('TM-4: without --legacy the early draft is rejected', async () => {
    expectRejected(await vouch(['tm', 'parse', fixture('early-draft-hex.xml')]), 'TM-4')
  })
  it('TM-8: a full JID as key owner exits 2 naming the rule', async () => {
    const xml = readFileSync(fixture('xep0434-v0.6.0-trust-message.xml'), 'utf8').replace(
      "jid='bob@example.com'",
      "jid='bob@example.com/phone'",
    )
    expectRejected(await vouch(['tm', 'parse'], xml), 'TM-8')
  })
  it('malformed XML exits 2 with one line', async () => {
    expectRejected(await vouch(['tm', 'parse'], '<trust-message xmlns="urn:xmpp:tm:1">'), 'XML')
  })
  it('tm build: JSON → XML that parses back to the same JSON (trust before distrust, D-1)', async () => {
    const json = { usage: 'urn:xmpp:atm:1', encryption: 'urn:xmpp:omemo:2', keyOwners: EXAMPLE_OWNERS }
    const built = await vouch(['tm', 'build'], JSON.stringify(json))
    expect(built.code).toBe(0)
    expect(built.stdout).toContain('<trust-message xmlns="urn:xmpp:tm:1"')
    const back = await vouch(['tm', 'parse'], built.stdout)
    expect(JSON.parse(back.stdout)).toEqual({ namespace: 'urn:xmpp:tm:1', ...json })
  })
  it('TM-10: tm build rejects a key id that is not Base64', async () => {
    const json = {
      usage: 'urn:xmpp:atm:1',
      encryption: 'urn:xmpp:omemo:2',
      keyOwners: [{ jid: 'a@b', trust: ['%%%'], distrust: [] }],
    }
    expectRejected(await vouch(['tm', 'build'], JSON.stringify(json)), 'TM-10')
  })
  it('tm build rejects input that is not JSON', async () => {
    expectRejected(await vouch(['tm', 'build'], '{nope'), 'JSON')
  })
})

describe('vouch uri', () => {
  it('X14: uri parse of the spec example → JSON with lower-case hex ids', async () => {
    const upper = SPEC_URI.replace(/=([0-9a-f]{64})/g, (_m, hex: string) => `=${hex.toUpperCase()}`)
    const r = await vouch(['uri', 'parse', upper])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      jid: 'bob@example.com',
      encryption: 'urn:xmpp:omemo:2',
      trust: ['623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f'],
      distrust: [
        'b423f5088de9a924d51b31581723d850c7cc67d0a4fe6b267c3d301ff56d2413',
        'd9f849b6b828309c5f2c8df4f38fd891887da5aaa24a22c50d52f69b4a80817e',
      ],
    })
  })
  it('uri build: JSON → the spec URI', async () => {
    const parsed = await vouch(['uri', 'parse', SPEC_URI])
    const built = await vouch(['uri', 'build', '-'], parsed.stdout)
    expect(built.code).toBe(0)
    expect(built.stdout.trim()).toBe(SPEC_URI)
  })
  it('URI-5: a full JID as path exits 2', async () => {
    expectRejected(
      await vouch(['uri', 'parse', SPEC_URI.replace('bob@example.com', 'bob@example.com/phone')]),
      'URI-5',
    )
  })
  it('URI-6: encryption not first exits 2', async () => {
    expectRejected(
      await vouch([
        'uri',
        'parse',
        'xmpp:bob@example.com?trust-message;trust=00ff;encryption=urn:xmpp:omemo:2',
      ]),
      'URI-6',
    )
  })
  it('URI-2: uri qr prints a terminal QR code, an SVG, and writes a PNG', async () => {
    const text = await vouch(['uri', 'qr', SPEC_URI])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/[█▀▄]/)
    const svg = await vouch(['uri', 'qr', SPEC_URI, '--format', 'svg'])
    expect(svg.stdout).toContain('<svg')
    const dir = mkdtempSync(join(tmpdir(), 'vouch-cli-'))
    const png = await vouch(['uri', 'qr', SPEC_URI, '--format', 'png', '--out', join(dir, 'q.png')])
    expect(png.code).toBe(0)
    expect(readFileSync(join(dir, 'q.png')).subarray(1, 4).toString()).toBe('PNG')
  })
  it('uri qr refuses an invalid URI', async () => {
    expectRejected(
      await vouch(['uri', 'qr', 'xmpp:bob@example.com?trust-message;encryption=x;trust=abc']),
      'URI-8',
    )
  })
})

describe('vouch sce', () => {
  const open = (extra: string[]) =>
    vouch(['sce', 'open', fixture('xep0434-v0.6.0-envelope.xml'), '--now', '2020-01-01T00:01:00Z', ...extra])
  /** the envelope for its right stanza (Alice's notebook to Carol), opened at `now` */
  const openAt = (now: string, extra: string[] = []) =>
    vouch([
      'sce',
      'open',
      fixture('xep0434-v0.6.0-envelope.xml'),
      '--stanza-from',
      'alice@example.org/notebook',
      '--stanza-to',
      'carol@example.com',
      '--now',
      now,
      ...extra,
    ])
  it('SCE-1 … SCE-3: opens the XEP-0434 envelope for the right stanza', async () => {
    const r = await open(['--stanza-from', 'alice@example.org/notebook', '--stanza-to', 'carol@example.com'])
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout)
    expect(json).toMatchObject({
      time: '2020-01-01T00:00:00.000Z',
      from: 'alice@example.org',
      to: 'carol@example.com',
      rpadLength: 56,
    })
    expect(json.content).toContain('<trust-message')
  })
  it('SCE-3: a stanza from someone else exits 2', async () => {
    expectRejected(
      await open(['--stanza-from', 'mallory@example.org/x', '--stanza-to', 'carol@example.com']),
      'SCE-3',
    )
  })
  it('SCE-2: a stanza to someone else exits 2', async () => {
    expectRejected(
      await open(['--stanza-from', 'alice@example.org/notebook', '--stanza-to', 'bob@example.com']),
      'SCE-2',
    )
  })
  it('SCE-1: outside --margin exits 2', async () => {
    expectRejected(await openAt('2020-01-01T00:10:00Z', ['--margin', '60']), 'SCE-1')
  })
  it('D-2: a --now without a zone is UTC, whatever the local time zone', async () => {
    const r = await openAt('2020-01-01T00:01:00', ['--margin', '60'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ time: '2020-01-01T00:00:00.000Z' })
  })
  it('XEP-0082: a --now that is not a DateTime exits 2', async () => {
    for (const now of ['Jan 1 2020', '2020-01-01', '1577836800000']) {
      const r = await openAt(now)
      expect(r.code, now).toBe(2)
      expect(r.stdout, now).toBe('')
      expect(r.stderr, now).toMatch(/^--now must be an XEP-0082 DateTime, not "[^\n]*\n$/)
    }
  })
  it('a missing required option exits 2', async () => {
    const r = await vouch(['sce', 'open', fixture('xep0434-v0.6.0-envelope.xml')])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
  })
})

describe('vouch --help', () => {
  it('prints help everywhere and exits 0', async () => {
    for (const argv of [
      ['--help'],
      ['tm', '--help'],
      ['tm', 'parse', '--help'],
      ['uri', 'qr', '--help'],
      ['sce', 'open', '--help'],
    ]) {
      const r = await vouch(argv)
      expect(r.code, argv.join(' ')).toBe(0)
      expect(r.stdout).toContain('Usage: vouch')
    }
  })
})
