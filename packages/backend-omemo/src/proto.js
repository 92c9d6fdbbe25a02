/**
 * The three OMEMO 2 protobuf messages (XEP-0384 v0.9 §"Protocol buffers", proto2, no version byte,
 * raw 32-byte keys), with a small codec of our own instead of a protobuf library: three messages
 * of five fields at most, where we need exact control of the emitted bytes (the MAC covers the
 * serialized `OMEMOMessage`, and our known-answer vectors compare bytes with python-twomemo and
 * libomemo-c), strict limits while parsing untrusted input, and no code generation step. Emits
 * fields in field-number order with every required field present (also when 0), which is what
 * python-protobuf and libomemo-c emit. Parses any field order, skips unknown fields (proto2), and
 * rejects truncation, overlong varints, wrong wire types, duplicated fields and missing required
 * fields.
 *
 * ```proto
 * message OMEMOMessage { required uint32 n = 1; required uint32 pn = 2; required bytes dh_pub = 3; optional bytes ciphertext = 4; }
 * message OMEMOAuthenticatedMessage { required bytes mac = 1; required bytes message = 2; }
 * message OMEMOKeyExchange { required uint32 pk_id = 1; required uint32 spk_id = 2; required bytes ik = 3; required bytes ek = 4; required OMEMOAuthenticatedMessage message = 5; }
 * ```
 */
export class ProtobufError extends Error {
  name = 'ProtobufError'
}
// ——— writing ———
function varintLength(v) {
  let n = 1
  while (v >= 0x80) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}
class Writer {
  buf
  pos = 0
  constructor(size) {
    this.buf = new Uint8Array(size)
  }
  varint(v) {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    this.buf[this.pos++] = v
  }
  uint32Field(field, v) {
    this.varint(field << 3)
    this.varint(v)
  }
  bytesField(field, b) {
    this.varint((field << 3) | 2)
    this.varint(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
}
function checkUint32(v, what) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new ProtobufError(`${what} is not a uint32: ${v}`)
}
const bytesSize = (field, b) => varintLength(field << 3) + varintLength(b.length) + b.length
const uintSize = (field, v) => varintLength(field << 3) + varintLength(v)
export function encodeOmemoMessage(m) {
  checkUint32(m.n, 'n')
  checkUint32(m.pn, 'pn')
  const size =
    uintSize(1, m.n) +
    uintSize(2, m.pn) +
    bytesSize(3, m.dhPub) +
    (m.ciphertext === undefined ? 0 : bytesSize(4, m.ciphertext))
  const w = new Writer(size)
  w.uint32Field(1, m.n)
  w.uint32Field(2, m.pn)
  w.bytesField(3, m.dhPub)
  if (m.ciphertext !== undefined) w.bytesField(4, m.ciphertext)
  return w.buf
}
export function encodeOmemoAuthenticatedMessage(m) {
  const w = new Writer(bytesSize(1, m.mac) + bytesSize(2, m.message))
  w.bytesField(1, m.mac)
  w.bytesField(2, m.message)
  return w.buf
}
export function encodeOmemoKeyExchange(m) {
  checkUint32(m.pkId, 'pk_id')
  checkUint32(m.spkId, 'spk_id')
  const w = new Writer(
    uintSize(1, m.pkId) +
      uintSize(2, m.spkId) +
      bytesSize(3, m.ik) +
      bytesSize(4, m.ek) +
      bytesSize(5, m.message),
  )
  w.uint32Field(1, m.pkId)
  w.uint32Field(2, m.spkId)
  w.bytesField(3, m.ik)
  w.bytesField(4, m.ek)
  w.bytesField(5, m.message)
  return w.buf
}
/** Reads every field of one message; known fields are returned by number, unknown ones skipped. */
function readFields(buf, known, what) {
  const out = new Map()
  let pos = 0
  const varint = () => {
    let result = 0
    let mul = 1
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new ProtobufError(`${what}: truncated varint`)
      const b = buf[pos++]
      result += (b & 0x7f) * mul
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) throw new ProtobufError(`${what}: varint too large`)
        return result
      }
      mul *= 128
    }
    throw new ProtobufError(`${what}: overlong varint`)
  }
  while (pos < buf.length) {
    const tag = varint()
    const field = Math.floor(tag / 8)
    const wire = tag % 8
    if (field === 0) throw new ProtobufError(`${what}: field number 0`)
    let value
    switch (wire) {
      case 0:
        value = { kind: 'varint', value: varint() }
        break
      case 1:
        if (pos + 8 > buf.length) throw new ProtobufError(`${what}: truncated fixed64`)
        pos += 8
        continue
      case 2: {
        const len = varint()
        if (len > buf.length - pos) throw new ProtobufError(`${what}: truncated length-delimited field`)
        value = { kind: 'bytes', value: buf.subarray(pos, pos + len) }
        pos += len
        break
      }
      case 5:
        if (pos + 4 > buf.length) throw new ProtobufError(`${what}: truncated fixed32`)
        pos += 4
        continue
      default:
        throw new ProtobufError(`${what}: unsupported wire type ${wire}`)
    }
    if (!known.includes(field)) continue
    if (out.has(field)) throw new ProtobufError(`${what}: field ${field} appears twice`)
    out.set(field, value)
  }
  return out
}
function uint32(fields, n, name, what) {
  const f = fields.get(n)
  if (f === undefined) throw new ProtobufError(`${what}: required field ${name} missing`)
  if (f.kind !== 'varint') throw new ProtobufError(`${what}: ${name} has the wrong wire type`)
  if (f.value > 0xffffffff) throw new ProtobufError(`${what}: ${name} is not a uint32`)
  return f.value
}
function bytes(fields, n, name, what, length) {
  const f = fields.get(n)
  if (f === undefined) throw new ProtobufError(`${what}: required field ${name} missing`)
  if (f.kind !== 'bytes') throw new ProtobufError(`${what}: ${name} has the wrong wire type`)
  if (length !== undefined && f.value.length !== length)
    throw new ProtobufError(`${what}: ${name} is ${f.value.length} bytes, expected ${length}`)
  return f.value
}
export function decodeOmemoMessage(buf) {
  const W = 'OMEMOMessage'
  const f = readFields(buf, [1, 2, 3, 4], W)
  const m = { n: uint32(f, 1, 'n', W), pn: uint32(f, 2, 'pn', W), dhPub: bytes(f, 3, 'dh_pub', W, 32) }
  return f.has(4) ? { ...m, ciphertext: bytes(f, 4, 'ciphertext', W) } : m
}
export function decodeOmemoAuthenticatedMessage(buf) {
  const W = 'OMEMOAuthenticatedMessage'
  const f = readFields(buf, [1, 2], W)
  return { mac: bytes(f, 1, 'mac', W, 16), message: bytes(f, 2, 'message', W) }
}
export function decodeOmemoKeyExchange(buf) {
  const W = 'OMEMOKeyExchange'
  const f = readFields(buf, [1, 2, 3, 4, 5], W)
  return {
    pkId: uint32(f, 1, 'pk_id', W),
    spkId: uint32(f, 2, 'spk_id', W),
    ik: bytes(f, 3, 'ik', W, 32),
    ek: bytes(f, 4, 'ek', W, 32),
    message: bytes(f, 5, 'message', W),
  }
}
//# sourceMappingURL=proto.js.map
