import { parseXml } from '@vouch/tm-core'
import jsqr from 'jsqr'
import { PNG } from 'pngjs'
import QRCode from 'qrcode'
import { describe, expect, it } from 'vitest'
import { formatTrustMessageUri, parseTrustMessageUri, trustMessageUriQr } from '../src/index.ts'
import { BOB_URI } from './spec-vectors.ts'

/** Decodes an RGBA bitmap; `dontInvert` so a code with the wrong polarity fails. */
function scan(rgba: Uint8Array, width: number, height: number): string | undefined {
  const clamped = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength)
  // jsqr is CommonJS with `exports.default`; under NodeNext the default import is the module
  return jsqr.default(clamped, width, height, { inversionAttempts: 'dontInvert' })?.data
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC
const ANSI = /\u001b\[[0-9;]*m/g

/** Half-block characters back to modules: [top, bottom], true = dark. */
const HALF: Readonly<Record<string, readonly [boolean, boolean]>> = {
  ' ': [false, false],
  '▀': [true, false],
  '▄': [false, true],
  '█': [true, true],
}

/** Renders terminal text the way a terminal shows it (black on white), 4 px per module. */
function rasterise(text: string): { rgba: Uint8Array; width: number; height: number } {
  const lines = text.replace(ANSI, '').split('\n')
  const cols = [...(lines[0] ?? '')].length
  const scale = 4
  const width = cols * scale
  const height = lines.length * 2 * scale
  const rgba = new Uint8Array(width * height * 4).fill(255)
  lines.forEach((line, row) => {
    ;[...line].forEach((ch, col) => {
      const modules = HALF[ch]
      if (modules === undefined) throw new Error(`unexpected character ${JSON.stringify(ch)}`)
      modules.forEach((dark, half) => {
        if (!dark) return
        for (let y = 0; y < scale; y++)
          for (let x = 0; x < scale; x++) {
            const i = (((row * 2 + half) * scale + y) * width + col * scale + x) * 4
            rgba.fill(0, i, i + 3)
          }
      })
    })
  })
  return { rgba, width, height }
}

describe('URI-2 Trust Message URI as a QR code (XEP-0434 §9.1.1)', () => {
  it('URI-2: PNG decodes (jsQR + pngjs) to the same URI', async () => {
    const png = await trustMessageUriQr(BOB_URI, { format: 'png' })
    expect(png).toBeInstanceOf(Uint8Array)
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    const image = PNG.sync.read(Buffer.from(png))
    expect(scan(image.data, image.width, image.height)).toBe(BOB_URI)
  })

  it('URI-2: every error correction level round-trips, higher levels give larger codes', async () => {
    const sizes: number[] = []
    for (const level of ['L', 'M', 'Q', 'H'] as const) {
      const image = PNG.sync.read(
        Buffer.from(await trustMessageUriQr(BOB_URI, { format: 'png', errorCorrectionLevel: level })),
      )
      expect(scan(image.data, image.width, image.height)).toBe(BOB_URI)
      sizes.push(image.width)
    }
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b))
    expect(sizes[3]).toBeGreaterThan(sizes[0] ?? 0)
  })

  it('URI-2: a percent-encoded non-ASCII JID survives the QR round trip', async () => {
    const uri = formatTrustMessageUri({
      ...parseTrustMessageUri(BOB_URI),
      jid: parseTrustMessageUri(`xmpp:éloïse@bücher.example?${BOB_URI.split('?')[1]}`).jid,
    })
    const image = PNG.sync.read(Buffer.from(await trustMessageUriQr(uri, { format: 'png' })))
    const scanned = scan(image.data, image.width, image.height)
    expect(scanned).toBe(uri)
    expect(parseTrustMessageUri(scanned ?? '').jid).toBe('éloïse@bücher.example')
  })

  it('URI-2: SVG is well-formed XML with a path, and declares a square view box', async () => {
    const svg = await trustMessageUriQr(BOB_URI, { format: 'svg' })
    const root = parseXml(svg)
    expect(root.name).toBe('svg')
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg')
    expect(root.getChildren('path').length).toBeGreaterThan(0)
    const [x, y, w, h] = String(root.attrs.viewBox).split(' ').map(Number)
    expect([x, y]).toEqual([0, 0])
    expect(w).toBe(h)
  })

  it('URI-2: text is a square block of half-block characters that scans as the URI', async () => {
    const text = await trustMessageUriQr(BOB_URI, { format: 'text' })
    const lines = text.replace(ANSI, '').split('\n')
    const widths = new Set(lines.map((l) => [...l].length))
    expect(widths.size).toBe(1)
    const cols = [...widths][0] ?? 0
    // each line holds two rows of modules: rows = 2 × lines, and the odd size leaves one spare row
    expect(lines.length * 2 - cols).toBeGreaterThanOrEqual(0)
    expect(lines.length * 2 - cols).toBeLessThanOrEqual(1)
    expect(cols).toBeLessThanOrEqual(80)
    expect(lines.every((l) => /^[ ▀▄█]+$/u.test(l))).toBe(true)
    const { rgba, width, height } = rasterise(text)
    expect(scan(rgba, width, height)).toBe(BOB_URI)
  })

  it('URI-2: text and PNG draw the same modules as qrcode’s own Node renderers (utf8, png)', async () => {
    for (const level of ['L', 'H'] as const) {
      const options = { errorCorrectionLevel: level, margin: 4 }
      const text = await trustMessageUriQr(BOB_URI, {
        format: 'text',
        ansi: false,
        errorCorrectionLevel: level,
      })
      expect(text).toBe(await QRCode.toString(BOB_URI, { ...options, type: 'utf8' }))
      const ours = PNG.sync.read(
        Buffer.from(await trustMessageUriQr(BOB_URI, { format: 'png', errorCorrectionLevel: level })),
      )
      const theirs = PNG.sync.read(await QRCode.toBuffer(BOB_URI, { ...options, type: 'png', scale: 8 }))
      expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height])
      expect(Buffer.compare(ours.data, theirs.data)).toBe(0)
    }
  })

  it('URI-2: text lines are wrapped in ANSI black-on-white, unless ansi is false', async () => {
    const text = await trustMessageUriQr(BOB_URI, { format: 'text' })
    expect(text.split('\n').every((l) => l.startsWith('\u001b[30;47m') && l.endsWith('\u001b[0m'))).toBe(true)
    const plain = await trustMessageUriQr(BOB_URI, { format: 'text', ansi: false })
    expect(plain).toBe(text.replace(ANSI, ''))
  })

  it('URI-1: refuses to encode an invalid URI unless validate is false', async () => {
    const bad = BOB_URI.replace('encryption=urn:xmpp:omemo:2;', '')
    await expect(trustMessageUriQr(bad, { format: 'svg' })).rejects.toMatchObject({
      name: 'InvalidUriError',
      rule: 'URI-6',
    })
    await expect(trustMessageUriQr(bad, { format: 'svg', validate: false })).resolves.toContain('<svg')
    await expect(
      trustMessageUriQr(BOB_URI, { format: 'svg', validate: { expectedJid: 'alice@example.com' } }),
    ).rejects.toMatchObject({ name: 'InvalidUriError', rule: 'URI-5' })
  })

  it('URI-2: a payload over the QR capacity is a LimitExceededError', async () => {
    const long = `${BOB_URI};${'x'.repeat(1300)}`
    await expect(
      trustMessageUriQr(long, { format: 'png', errorCorrectionLevel: 'H', validate: false }),
    ).rejects.toMatchObject({ name: 'LimitExceededError', rule: 'URI-2', max: 1273 })
    await expect(
      trustMessageUriQr(long, { format: 'svg', errorCorrectionLevel: 'L', validate: false }),
    ).resolves.toContain('<path')
  })
})
