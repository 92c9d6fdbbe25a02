/**
 * The Node providers (`@vouch/backend-omemo-legacy/node`) compute what libsignal's own do: the
 * node:crypto X25519 against the library's asm.js curve (curve25519-typescript) and RFC 7748
 * §5.2's vector; the node:crypto Web Crypto subset against `globalThis.crypto.subtle`.
 */
import { describe, expect, it } from 'vitest'
import { libsignalCurve, nodeCurve, nodeWebCrypto } from '../src/node-curve.ts'

const hex = (s: string): ArrayBuffer => Uint8Array.from(Buffer.from(s, 'hex')).buffer
const toHex = (b: ArrayBuffer): string => Buffer.from(b).toString('hex')
const rnd = (n: number): ArrayBuffer => crypto.getRandomValues(new Uint8Array(n)).buffer

describe('node curve', () => {
  const node = nodeCurve()
  const lib = libsignalCurve()

  it('RFC 7748 §5.2: X25519 of the first test vector', async () => {
    const scalar = hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4')
    const u = hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c')
    expect(toHex(await node.sharedSecret(u, scalar))).toBe(
      'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
    )
  })

  it('key pairs and agreements equal the library curve’s, for random keys', async () => {
    for (let i = 0; i < 10; i++) {
      const a = rnd(32)
      const b = rnd(32)
      const [na, la, nb] = [await node.keyPair(a), await lib.keyPair(a), await node.keyPair(b)]
      expect(toHex(na.pubKey)).toBe(toHex(la.pubKey))
      expect(toHex(na.privKey)).toBe(toHex(la.privKey))
      expect(toHex(await node.sharedSecret(nb.pubKey, a))).toBe(
        toHex(await lib.sharedSecret(nb.pubKey, la.privKey)),
      )
    }
  })

  it('XEdDSA: a signature verifies with both, a changed message with neither', async () => {
    const k = await node.keyPair(rnd(32))
    const msg = rnd(33)
    const sig = await node.sign(k.privKey, msg)
    expect(await node.verify(k.pubKey, msg, sig)).toBe(true)
    expect(await lib.verify(k.pubKey, msg, sig)).toBe(true)
    const other = new Uint8Array(msg.slice(0))
    other[0] = (other[0] as number) ^ 1
    expect(await node.verify(k.pubKey, other.buffer, sig)).toBe(false)
  })
})

describe('node Web Crypto subset', () => {
  const node = nodeWebCrypto()
  const web = globalThis.crypto.subtle

  it('HMAC-SHA-256 equals Web Crypto’s', async () => {
    const key = rnd(32)
    const data = rnd(77)
    const wk = await web.importKey('raw', key, { name: 'HMAC', hash: { name: 'SHA-256' } }, false, ['sign'])
    const nk = await node.subtle.importKey('raw', key, { name: 'HMAC', hash: { name: 'SHA-256' } }, false, [
      'sign',
    ])
    expect(toHex(await node.subtle.sign({ name: 'HMAC', hash: 'SHA-256' }, nk, data))).toBe(
      toHex(await web.sign({ name: 'HMAC', hash: 'SHA-256' }, wk, data)),
    )
  })

  it('AES-256-CBC (PKCS#7) equals Web Crypto’s both ways', async () => {
    const key = rnd(32)
    const iv = new Uint8Array(rnd(16))
    const data = rnd(45)
    const wk = await web.importKey('raw', key, { name: 'AES-CBC' }, false, ['encrypt', 'decrypt'])
    const nk = await node.subtle.importKey('raw', key, { name: 'AES-CBC' }, false, ['encrypt'])
    const ct = await node.subtle.encrypt({ name: 'AES-CBC', iv }, nk, data)
    expect(toHex(ct)).toBe(toHex(await web.encrypt({ name: 'AES-CBC', iv }, wk, data)))
    expect(toHex(await node.subtle.decrypt({ name: 'AES-CBC', iv }, nk, ct))).toBe(toHex(data))
  })

  it('AES-128-GCM equals Web Crypto’s both ways, and a changed tag is refused', async () => {
    const key = rnd(16)
    const iv = new Uint8Array(rnd(12))
    const data = rnd(45)
    const wk = await web.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt'])
    const nk = await node.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt'])
    const ct = await node.subtle.encrypt({ name: 'AES-GCM', iv, tagLength: 128 }, nk, data)
    expect(toHex(ct)).toBe(toHex(await web.encrypt({ name: 'AES-GCM', iv, tagLength: 128 }, wk, data)))
    expect(toHex(await node.subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, nk, ct))).toBe(
      toHex(data),
    )
    const bad = new Uint8Array(ct.slice(0))
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1
    await expect(node.subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, nk, bad)).rejects.toThrow()
  })

  it('SHA-512 equals Web Crypto’s', async () => {
    const data = rnd(100)
    expect(toHex(await node.subtle.digest({ name: 'SHA-512' }, data))).toBe(
      toHex(await web.digest({ name: 'SHA-512' }, data)),
    )
  })
})
