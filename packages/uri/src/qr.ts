/**
 * XEP-0434: Trust Messages — implements v0.6.0, §9.1.1: "Such a URI MAY be encoded as a QR code
 * and used if only a QR code scan is available as a trusted channel." (URI-2)
 *
 * The symbol is made by `qrcode` (ISO/IEC 18004, byte mode, UTF-8), SVG too. Text and PNG are
 * drawn here from qrcode's module matrix, because qrcode's browser build has neither renderer
 * (its `toString` there is SVG only, and its PNG path needs pngjs and Node streams): the same code
 * then runs in Node and in browsers. This module also checks the URI first and maps size
 * overflows to a typed error.
 */
import { LimitExceededError } from '@vouch/tm-core'
import QRCode from 'qrcode'
import { encodeBilevelPng } from './png.ts'
import { type ParseTrustMessageUriOptions, parseTrustMessageUri } from './xep0434-uri.ts'

export type QrFormat = 'text' | 'svg' | 'png'
export type QrErrorCorrectionLevel = 'L' | 'M' | 'Q' | 'H'

export interface TrustMessageUriQrOptions {
  /**
   * `text`: Unicode half blocks for a terminal (two modules per character cell, so the code is
   * about square), black on white; `svg`: an SVG document (string); `png`: PNG bytes.
   */
  readonly format: QrFormat
  /** QR error correction level; default `M` (15 %), qrcode's default. */
  readonly errorCorrectionLevel?: QrErrorCorrectionLevel
  /**
   * `text` only. `true` (default) wraps each line in ANSI "black on white" so the code has the
   * right polarity on dark and light terminal themes alike; `false` gives plain block characters
   * (dark module = `█`), for files or a terminal known to be dark-on-light.
   */
  readonly ansi?: boolean
  /**
   * Parse the URI before encoding it (default: yes, strict, default caps), so no QR code is ever
   * made of something this package would reject. Pass parser options, or `false` to skip.
   */
  readonly validate?: boolean | ParseTrustMessageUriOptions
}

/** Quiet zone in modules: 4 is what ISO/IEC 18004 requires around a QR code. */
const MARGIN = 4
/** Pixels per module in PNG output (a 65-module code gives a 584 px image). */
const PNG_SCALE = 8
/** Byte-mode capacity of a version 40 symbol per error correction level (ISO/IEC 18004 Table 7). */
const MAX_BYTES: Readonly<Record<QrErrorCorrectionLevel, number>> = Object.freeze({
  L: 2953,
  M: 2331,
  Q: 1663,
  H: 1273,
})
const ANSI_BLACK_ON_WHITE = '\u001b[30;47m'
const ANSI_RESET = '\u001b[0m'

/**
 * Renders a Trust Message URI as a QR code (URI-2).
 *
 * `text` is the layout of qrcode's `utf8` renderer (half blocks `▀▄█`, 4-module quiet zone), not
 * its `terminal` renderer: the `terminal` renderer's `small` form leaves only a 1-module quiet zone,
 * and its large form uses two character cells per module (134 columns for the spec example).
 * Colours are then forced to black on white with ANSI SGR codes, because common scanners
 * (ZXing-based ones by default) do not read the inverted code a dark theme would show.
 *
 * @throws InvalidUriError, InvalidJidError, InvalidKeyIdError as `parseTrustMessageUri` (unless
 *   `validate: false`)
 * @throws LimitExceededError (`URI-2`) URI longer than a version-40 QR code holds at that level
 */
export function trustMessageUriQr(
  uri: string,
  options: TrustMessageUriQrOptions & { format: 'png' },
): Promise<Uint8Array>
export function trustMessageUriQr(
  uri: string,
  options: TrustMessageUriQrOptions & { format: 'text' | 'svg' },
): Promise<string>
export function trustMessageUriQr(
  uri: string,
  options: TrustMessageUriQrOptions,
): Promise<string | Uint8Array>
export async function trustMessageUriQr(
  uri: string,
  options: TrustMessageUriQrOptions,
): Promise<string | Uint8Array> {
  const validate = options.validate ?? true
  if (validate !== false) parseTrustMessageUri(uri, validate === true ? {} : validate)
  const errorCorrectionLevel = options.errorCorrectionLevel ?? 'M'
  const max = MAX_BYTES[errorCorrectionLevel]
  const bytes = new TextEncoder().encode(uri).length
  if (bytes > max) throw new LimitExceededError('URI-2', 'QR code payload in bytes', max, bytes)

  switch (options.format) {
    case 'png': {
      const { size, data } = QRCode.create(uri, { errorCorrectionLevel }).modules
      const side = (size + 2 * MARGIN) * PNG_SCALE
      const at = (p: number) => Math.floor(p / PNG_SCALE) - MARGIN
      return encodeBilevelPng(side, side, (x, y) => {
        const col = at(x)
        const row = at(y)
        return row >= 0 && row < size && col >= 0 && col < size && data[row * size + col] === 1
      })
    }
    case 'svg':
      return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel, margin: MARGIN })
    case 'text': {
      const text = halfBlocks(QRCode.create(uri, { errorCorrectionLevel }).modules)
      if (options.ansi === false) return text
      return text
        .split('\n')
        .map((line) => `${ANSI_BLACK_ON_WHITE}${line}${ANSI_RESET}`)
        .join('\n')
    }
    default:
      throw new RangeError(`unknown QR format "${String(options.format satisfies never)}"`)
  }
}

/**
 * Two module rows per text line (`█` both dark, `▀` top, `▄` bottom, space neither) inside a
 * `MARGIN`-module quiet zone: the layout of qrcode's `utf8` renderer (checked equal in the tests).
 */
function halfBlocks(modules: { readonly size: number; readonly data: Uint8Array }): string {
  const { size, data } = modules
  const dark = (row: number, col: number) => row < size && data[row * size + col] === 1
  const blank = ' '.repeat(size + 2 * MARGIN)
  const side = ' '.repeat(MARGIN)
  const lines: string[] = []
  for (let i = 0; i < MARGIN / 2; i++) lines.push(blank)
  for (let row = 0; row < size; row += 2) {
    let line = side
    for (let col = 0; col < size; col++) {
      const top = dark(row, col)
      const bottom = dark(row + 1, col)
      line += top ? (bottom ? '█' : '▀') : bottom ? '▄' : ' '
    }
    lines.push(line + side)
  }
  for (let i = 0; i < MARGIN / 2; i++) lines.push(blank)
  return lines.join('\n')
}
