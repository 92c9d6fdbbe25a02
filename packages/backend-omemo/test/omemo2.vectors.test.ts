/**
 * OMEMO 2 known-answer vectors from two other implementations, decrypted by our X3DH + Double
 * Ratchet: libomemo-c (Dino's library, values published by conversejs/libomemo.js) and
 * python-twomemo 1.0.3 (made by test/interop/gen_twomemo_vectors.py). Every provider of the runtime
 * runs them: `node:crypto` and noble in Node, noble in Chromium (tooling/browser-tests).
 */
import { describe, expect, it } from 'vitest'
import { decryptPayload } from '../src/payload.ts'
import {
  decodeOmemoAuthenticatedMessage,
  decodeOmemoKeyExchange,
  decodeOmemoMessage,
  encodeOmemoAuthenticatedMessage,
  encodeOmemoKeyExchange,
  encodeOmemoMessage,
} from '../src/proto.ts'
import {
  acceptKeyExchange,
  parseKeyExchange,
  type Session,
  sameKeyExchange,
  sessionDecrypt,
} from '../src/session.ts'
import { identityFromSeed } from '../src/x3dh.ts'
import { b64, expectError, hex, loadVectors, providers, toHex, unb64 } from './helpers.ts'

const strip05 = (h: string): Uint8Array => hex(h.slice(2))

const libomemoVectors = await loadVectors<{
  bob: Record<string, string | number>
  sessions: { comment: string; messages: { plaintext: string; keyExchange: string }[] }[]
}>('libomemo-c-omemo2.json')
const twomemoVectors = await loadVectors<{
  bob: {
    ik: string
    seed: string
    spk: { id: number; priv: string; sig: string }
    preKeys: { id: number; priv: string }[]
  }
  messages: { kex: boolean; key: string; payload: string | null; plaintext: string }[]
}>('twomemo-kat.json')

for (const p of providers)
  describe(`provider ${p.name}`, () => {
    describe('libomemo-c OMEMO 2 vectors (libomemo-c-omemo2.json)', () => {
      const v = libomemoVectors
      const b = v.bob
      const bob = { edPub: hex(b.identityPubEd as string), xPriv: hex(b.identityPriv as string) }
      const spk = { priv: hex(b.signedPreKeyPriv as string), pub: strip05(b.signedPreKeyPub as string) }

      it('valid: the signed pre key signature is plain Ed25519 over the raw 32-byte Curve25519 key', async () => {
        expect(await p.ed25519Verify(bob.edPub, spk.pub, hex(b.signedPreKeySignature as string))).toBe(true)
        expect(toHex(await p.x25519PublicKey(bob.xPriv))).toBe((b.identityPub as string).slice(2))
        expect(toHex(await p.x25519PublicKey(hex(b.preKeyPriv as string)))).toBe(
          (b.preKeyPub as string).slice(2),
        )
      })

      for (const [si, s] of v.sessions.entries())
        it(`valid session #${si}: ${s.comment}`, async () => {
          let session: Session | undefined
          for (const [i, m] of s.messages.entries()) {
            const bytes = hex(m.keyExchange)
            // our codec re-encodes libomemo-c's bytes exactly (field order, explicit zeros)
            const kex = parseKeyExchange(bytes)
            expect(toHex(encodeOmemoKeyExchange(kex)), `message ${i}`).toBe(m.keyExchange)
            const auth = decodeOmemoAuthenticatedMessage(kex.message)
            expect(toHex(encodeOmemoAuthenticatedMessage(auth))).toBe(toHex(kex.message))
            expect(toHex(encodeOmemoMessage(decodeOmemoMessage(auth.message)))).toBe(toHex(auth.message))
            expect(kex.pkId).toBe(b.preKeyId)
            expect(kex.spkId).toBe(b.signedPreKeyId)
            if (session !== undefined && sameKeyExchange(session.kex, kex)) {
              expect(toHex(await sessionDecrypt(p, session, kex.message)), `message ${i}`).toBe(m.plaintext)
            } else {
              const r = await acceptKeyExchange(p, bob, kex, { spk, pkPriv: hex(b.preKeyPriv as string) })
              expect(toHex(r.plaintext), `message ${i}`).toBe(m.plaintext)
              session = r.session
            }
          }
        })

      it('invalid: a flipped MAC bit is rejected (OMEMO-MAC)', async () => {
        const kex = decodeOmemoKeyExchange(hex(v.sessions[0]?.messages[0]?.keyExchange as string))
        const auth = decodeOmemoAuthenticatedMessage(kex.message)
        const mac = auth.mac.slice()
        mac[0] = (mac[0] as number) ^ 1
        const forged = { ...kex, message: encodeOmemoAuthenticatedMessage({ ...auth, mac }) }
        await expectError(
          () => acceptKeyExchange(p, bob, forged, { spk, pkPriv: hex(b.preKeyPriv as string) }),
          'DecryptionError',
          'OMEMO-MAC',
        )
      })

      it("invalid: the wrong pre key (another device's) fails the MAC", async () => {
        const kex = decodeOmemoKeyExchange(hex(v.sessions[0]?.messages[0]?.keyExchange as string))
        await expectError(
          () => acceptKeyExchange(p, bob, kex, { spk, pkPriv: hex(b.signedPreKeyPriv as string) }),
          'DecryptionError',
          'OMEMO-MAC',
        )
      })
    })

    describe('python-twomemo known-answer vectors (twomemo-kat.json)', () => {
      const v = twomemoVectors
      // made once per provider, awaited by each test
      const keys = (async () => ({
        bob: await identityFromSeed(p, unb64(v.bob.seed)),
        spk: { priv: unb64(v.bob.spk.priv), pub: await p.x25519PublicKey(unb64(v.bob.spk.priv)) },
      }))()

      it("valid: Bob's Ed25519 identity key and signed pre key signature from his seed", async () => {
        const { bob, spk } = await keys
        expect(b64(bob.edPub)).toBe(v.bob.ik)
        expect(await p.ed25519Verify(bob.edPub, spk.pub, unb64(v.bob.spk.sig))).toBe(true)
      })

      it('valid: our Bob reads python-twomemo messages out of order (0, 3, 1, 2) with the payload scheme', async () => {
        const { bob, spk } = await keys
        const [m0] = v.messages
        if (m0 === undefined) throw new Error('no vectors')
        expect(m0.kex).toBe(true)
        const kex = parseKeyExchange(unb64(m0.key))
        const pk = v.bob.preKeys.find((k) => k.id === kex.pkId)
        const r = await acceptKeyExchange(p, bob, kex, { spk, pkPriv: unb64(pk?.priv as string) })
        const session = r.session
        const read = (i: number, km: Uint8Array) =>
          b64(decryptPayload(p, unb64(v.messages[i]?.payload as string), km))
        expect(read(0, r.plaintext)).toBe(m0.plaintext)
        for (const i of [3, 1, 2]) {
          const m = v.messages[i] as (typeof v.messages)[number]
          // python keeps the key exchange on every message until Bob answers
          const inner = m.kex ? parseKeyExchange(unb64(m.key)).message : unb64(m.key)
          expect(read(i, await sessionDecrypt(p, session, inner)), `message ${i}`).toBe(m.plaintext)
        }
      })
    })
  })
