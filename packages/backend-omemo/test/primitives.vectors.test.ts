/**
 * The official vectors of every primitive OMEMO 2 uses, run through our crypto provider:
 * RFC 7748 X25519, RFC 8032 Ed25519, RFC 5869 HKDF, RFC 4231 HMAC-SHA-256, NIST SP 800-38A
 * AES-256-CBC. Each vector has `result: valid|invalid` and a comment that names it. Every provider
 * of the runtime runs them: `node:crypto` and noble in Node, noble in Chromium (tooling/browser-tests).
 */
import { describe, expect, it } from 'vitest'
import { hex, loadVectors, providers, toHex } from './helpers.ts'

interface V {
  readonly result: 'valid' | 'invalid'
  readonly comment: string
}

const x25519Vectors = await loadVectors<{
  scalarmult: (V & { scalar: string; u: string; out?: string })[]
  publicKeys: (V & { priv: string; pub: string })[]
}>('rfc7748-x25519.json')
const ed25519Vectors = await loadVectors<{
  vectors: (V & { seed?: string; pub: string; msg: string; sig: string })[]
}>('rfc8032-ed25519.json')
const hkdfVectors = await loadVectors<{
  vectors: (V & { ikm: string; salt: string; info: string; length: number; okm: string })[]
}>('rfc5869-hkdf.json')
const hmacVectors = await loadVectors<{
  vectors: (V & { key: string; data: string; mac: string })[]
}>('rfc4231-hmac-sha256.json')
const aesVectors = await loadVectors<{
  vectors: (V & { key: string; iv: string; plaintext?: string; ciphertext: string })[]
}>('sp800-38a-aes256-cbc.json')

for (const p of providers)
  describe(`provider ${p.name}`, () => {
    describe('RFC 7748 X25519 (rfc7748-x25519.json)', () => {
      const v = x25519Vectors
      for (const [i, t] of v.scalarmult.entries())
        it(`${t.result} #${i}: ${t.comment}`, async () => {
          if (t.result === 'valid')
            expect(toHex(await p.x25519(hex(t.scalar), hex(t.u))), t.comment).toBe(t.out)
          else await expect((async () => p.x25519(hex(t.scalar), hex(t.u)))(), t.comment).rejects.toThrow()
        })
      for (const [i, t] of v.publicKeys.entries())
        it(`${t.result} public key #${i}: ${t.comment}`, async () => {
          expect(toHex(await p.x25519PublicKey(hex(t.priv))), t.comment).toBe(t.pub)
        })
    })

    describe('RFC 8032 Ed25519 (rfc8032-ed25519.json)', () => {
      const v = ed25519Vectors
      for (const [i, t] of v.vectors.entries())
        it(`${t.result} #${i}: ${t.comment}`, async () => {
          expect(await p.ed25519Verify(hex(t.pub), hex(t.msg), hex(t.sig)), t.comment).toBe(
            t.result === 'valid',
          )
          if (t.seed !== undefined) {
            expect(toHex(await p.ed25519PublicKey(hex(t.seed))), t.comment).toBe(t.pub)
            expect(toHex(await p.ed25519Sign(hex(t.seed), hex(t.msg))), t.comment).toBe(t.sig)
          }
        })
    })

    describe('RFC 5869 HKDF-SHA-256 (rfc5869-hkdf.json)', () => {
      const v = hkdfVectors
      for (const [i, t] of v.vectors.entries())
        it(`${t.result} #${i}: ${t.comment}`, async () => {
          const okm = toHex(p.hkdf(hex(t.ikm), hex(t.salt), hex(t.info), t.length))
          if (t.result === 'valid') expect(okm, t.comment).toBe(t.okm)
          else expect(okm, t.comment).not.toBe(t.okm)
        })
    })

    describe('RFC 4231 HMAC-SHA-256 (rfc4231-hmac-sha256.json)', () => {
      const v = hmacVectors
      for (const [i, t] of v.vectors.entries())
        it(`${t.result} #${i}: ${t.comment}`, async () => {
          const mac = p.hmac(hex(t.key), hex(t.data)).subarray(0, t.mac.length / 2)
          expect(p.equal(mac, hex(t.mac)), t.comment).toBe(t.result === 'valid')
        })
    })

    describe('NIST SP 800-38A AES-256-CBC (sp800-38a-aes256-cbc.json)', () => {
      const v = aesVectors
      for (const [i, t] of v.vectors.entries())
        it(`${t.result} #${i}: ${t.comment}`, async () => {
          if (t.result === 'valid') {
            const ct = p.aesCbcEncrypt(hex(t.key), hex(t.iv), hex(t.plaintext as string))
            expect(ct.length, t.comment).toBe(80) // four blocks + one PKCS#7 padding block
            expect(toHex(ct.subarray(0, 64)), t.comment).toBe(t.ciphertext)
            expect(toHex(p.aesCbcDecrypt(hex(t.key), hex(t.iv), ct)), t.comment).toBe(t.plaintext)
          } else expect(() => p.aesCbcDecrypt(hex(t.key), hex(t.iv), hex(t.ciphertext)), t.comment).toThrow()
        })
    })

    describe('Ed25519 → X25519 (RFC 7748 §4.1 birational map, RFC 8032 key derivation)', () => {
      it('valid: the Montgomery form of an Ed25519 key pair agrees on a DH (public and private conversion)', async () => {
        const a = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
        const b = hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb')
        const aPub = p.edwardsToMontgomeryPublic(await p.ed25519PublicKey(a))
        const bPub = p.edwardsToMontgomeryPublic(await p.ed25519PublicKey(b))
        expect(toHex(await p.x25519PublicKey(p.edwardsToMontgomeryPrivate(a)))).toBe(toHex(aPub))
        expect(toHex(await p.x25519(p.edwardsToMontgomeryPrivate(a), bPub))).toBe(
          toHex(await p.x25519(p.edwardsToMontgomeryPrivate(b), aPub)),
        )
      })
      it('valid: libomemo-c vector: the Ed25519 and Curve25519 forms of one identity key', async () => {
        const ed = hex('e5b399cc3f584632fce457bd4c2f2c4d92460a53295bfbac091f41d2b8f70450')
        expect(toHex(p.edwardsToMontgomeryPublic(ed))).toBe(
          'f0ead423fdcd49f328e41ccf0f7b30803f27dab458f7c9b00f78a89ae292c12e',
        )
      })
      it('invalid: a y coordinate that is not on the curve is rejected', async () => {
        // y = 2 has no x on edwards25519 (x² = (y²−1)/(d·y²+1) is not a square)
        expect(() => p.edwardsToMontgomeryPublic(hex(`02${'00'.repeat(31)}`))).toThrow()
      })
    })
  })
