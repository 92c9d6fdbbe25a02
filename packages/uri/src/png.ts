/**
 * A minimal PNG writer (ISO/IEC 15948): one 1-bit grayscale image, IDAT compressed with the
 * platform's `CompressionStream('deflate')` (zlib, RFC 1950 — what PNG's compression method 0 is),
 * which browsers and Node (≥ 18) both provide. qrcode's own PNG renderer needs pngjs and Node
 * streams, and its browser build has none, so the QR code's pixels are written here.
 */

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/**
 * PNG bytes of a black-and-white image. `dark(x, y)` is true for a black pixel.
 */
export async function encodeBilevelPng(
  width: number,
  height: number,
  dark: (x: number, y: number) => boolean,
): Promise<Uint8Array> {
  const stride = Math.ceil(width / 8)
  // each scanline: filter type 0 (None), then the pixels, MSB first; bit 1 = white (grayscale max)
  const raw = new Uint8Array((stride + 1) * height)
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1
    for (let x = 0; x < width; x++) {
      if (!dark(x, y)) raw[row + (x >> 3)]! |= 0x80 >> (x & 7)
    }
  }
  const ihdr = new Uint8Array(13)
  const view = new DataView(ihdr.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  ihdr.set([1, 0, 0, 0, 0], 8) // bit depth 1, colour type 0 (grayscale), deflate, filter 0, no interlace
  const idat = await deflate(raw)
  return concat([
    Uint8Array.from(SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array(0)),
  ])
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream('deflate'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

/** length, type, data, CRC-32 of type and data (PNG §5.3) */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** CRC-32 table (ISO 3309, polynomial 0xEDB88320) */
const CRC_TABLE = /* @__PURE__ */ (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32, the checksum PNG §5.3 prescribes (an error check, not a security function). */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
