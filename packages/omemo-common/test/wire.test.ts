/**
 * XEP-0384 wire text (both versions): Base64 is read strictly — the standard alphabet, padded,
 * canonical (RFC 4648 §3.5: unused bits zero), with the caller's rule — and decodes as
 * @scure/base does; device ids are 1 … 2³¹−1.
 */
import { base64 } from '@scure/base'
import { describe, expect, it } from 'vitest'
import { b64, decodeBase64, exactlyOne, parseDeviceId, parseUint32 } from '../src/wire.ts'
import { Element } from '@vouch/tm-core'

describe('OMEMO-XML / OMEMO03-XML: Base64 of keys, IVs and payloads', () => {
  it('decodes every length as @scure/base does, whitespace allowed', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n))
      const text = base64.encode(bytes)
      expect(decodeBase64(text, 'x', 100, 'OMEMO03-XML')).toEqual(bytes)
      expect(decodeBase64(` ${text.slice(0, 3)}\n ${text.slice(3)}\t`, 'x', 100, 'OMEMO-XML')).toEqual(bytes)
    }
  })

  it('encodes every length as @scure/base does (btoa), a view at an offset and large payloads included', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n))
      expect(b64(bytes)).toBe(base64.encode(bytes))
    }
    const big = crypto.getRandomValues(new Uint8Array(40_000))
    expect(b64(big)).toBe(base64.encode(big))
    const view = big.subarray(3, 20_003)
    expect(b64(view)).toBe(base64.encode(view))
    expect(decodeBase64(b64(view), 'x', 20_000, 'OMEMO-XML')).toEqual(view)
  })

  it('rejects non-canonical padding bits, a wrong alphabet, missing padding and oversized text', () => {
    expect(decodeBase64('AA==', 'x', 10, 'OMEMO03-XML')).toEqual(new Uint8Array([0]))
    for (const bad of ['AB==', 'AAB=', 'A-8=', 'AA_=', 'AA', 'AAA', 'A===', '====', 'AA=A'])
      expect(() => decodeBase64(bad, 'x', 10, 'OMEMO03-XML'), bad).toThrow(
        expect.objectContaining({ name: 'DecryptionError', rule: 'OMEMO03-XML' }),
      )
    expect(() => decodeBase64('AAAAAAAA', 'x', 3, 'OMEMO03-XML')).toThrow(
      expect.objectContaining({ name: 'LimitExceededError' }),
    )
  })

  it('device ids are 1 … 2³¹−1, decimal; uint32 ids up to 2³²−1; one child exactly', () => {
    expect(parseDeviceId('2147483647', 'rid', 'OMEMO-XML')).toBe(0x7fffffff)
    for (const bad of [undefined, '0', '2147483648', '-1', '1e3', ' 1', '12345678901'])
      expect(() => parseDeviceId(bad, 'rid', 'OMEMO-XML'), String(bad)).toThrow(
        expect.objectContaining({ name: 'DecryptionError', rule: 'OMEMO-XML' }),
      )
    expect(parseUint32('4294967295', 'id', 'OMEMO-BUNDLE')).toBe(0xffffffff)
    expect(() => parseUint32('4294967296', 'id', 'OMEMO-BUNDLE')).toThrow(
      expect.objectContaining({ rule: 'OMEMO-BUNDLE' }),
    )
    const el = new Element('bundle').c('ik').up().c('ik').up()
    expect(() => exactlyOne(el, 'ik', 'OMEMO03-BUNDLE')).toThrow(
      expect.objectContaining({ rule: 'OMEMO03-BUNDLE' }),
    )
    expect(exactlyOne(new Element('list').c('device').up(), 'device', 'X').name).toBe('device')
  })
})
