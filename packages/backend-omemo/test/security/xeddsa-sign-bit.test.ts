/**
 * Every new Vouch OMEMO 2 identity is usable by XEdDSA verifiers (issue 17 point 3).
 *
 * libsignal-based libraries and libomemo.js (Converse.js) keep a peer's identity as a Curve25519
 * key and verify the signed pre key signature through it: they map the Ed25519 key to its
 * Montgomery u, and back to an Edwards y with the sign bit 0 (libsignal `fe_montx_to_edy`,
 * XEdDSA's `convert_mont`), then run an Ed25519 verification. {@link xeddsaVerify} is exactly that,
 * on @noble/curves (audited) field arithmetic and Ed25519. A key whose sign bit is set never
 * survives the round trip, so its (valid) signatures never verify there: the negative control
 * shows this verifier does reject them.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { omemoBackend, xeddsaCompatible } from '../../src/index.ts'
import { defaultCryptoProvider } from '@vouch/backend-omemo/provider'
import {
  generateIdentity,
  identityFromSeed,
  MAX_IDENTITY_DRAWS,
  signSignedPreKey,
  x25519KeyPair,
} from '../../src/x3dh.ts'
import { expectError } from '../helpers.ts'

const p = defaultCryptoProvider()

/** An XEdDSA-style verifier: the Ed25519 key read through its Curve25519 form, as libsignal does. */
function xeddsaVerify(edPub: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const Fp = ed25519.Point.Fp
  const u = bytesToNumberLE(ed25519.utils.toMontgomery(edPub))
  // y = (u − 1) / (u + 1), sign bit 0
  const y = Fp.div(Fp.sub(u, 1n), Fp.add(u, 1n))
  const rebuilt = numberToBytesLE(y, 32)
  try {
    return ed25519.verify(signature, message, rebuilt)
  } catch {
    return false
  }
}

const FRESH_DEVICES = 200

describe('sign bit: new identities are reachable from XEdDSA verifiers', () => {
  it(`OMEMO-SIGN-BIT: ${FRESH_DEVICES} fresh devices, each with the sign bit clear and its signed pre key verified by an XEdDSA-style verifier`, async () => {
    let clear = 0
    for (let i = 0; i < FRESH_DEVICES; i++) {
      const store = memoryStore().forAccount(`user${i}@example.org` as BareJid)
      const backend = omemoBackend({ preKeyCount: 25 })({ store })
      await backend.createDevice()
      const b = await backend.ownBundle()
      if (xeddsaCompatible(b.ik)) clear++
      expect(xeddsaVerify(b.ik, b.spk, b.spks), `device ${i}`).toBe(true)
      // and still a plain RFC 8032 signature for Ed25519 verifiers (python-twomemo, Vouch)
      expect(ed25519.verify(b.spks, b.spk, b.ik)).toBe(true)
      expect(await backend.ownDeviceXeddsaCompatible()).toBe(true)
    }
    expect(clear).toBe(FRESH_DEVICES)
  }, 60_000) // ~1 s alone; the suite runs beside Chromium tests on 2 cores

  it('negative control: a key with the sign bit set makes valid Ed25519 signatures that an XEdDSA verifier rejects', async () => {
    let identity = await identityFromSeed(p, p.randomBytes(32))
    while (xeddsaCompatible(identity.edPub)) identity = await identityFromSeed(p, p.randomBytes(32))
    const spk = (await x25519KeyPair(p)).pub
    const sig = await signSignedPreKey(p, identity, spk)
    expect(ed25519.verify(sig, spk, identity.edPub)).toBe(true)
    expect(xeddsaVerify(identity.edPub, spk, sig)).toBe(false)
  })

  it('a standard EdDSA key pair: the draw keeps the seed, and a seed with the sign bit set is drawn again', async () => {
    const seeds: Uint8Array[] = []
    const draw = (): Uint8Array => {
      const s = p.randomBytes(32)
      seeds.push(s)
      return s
    }
    // a source whose first seed gives a key with the sign bit set
    let first: Uint8Array = p.randomBytes(32)
    while (xeddsaCompatible(ed25519.getPublicKey(first))) first = p.randomBytes(32)
    const random = (k: number): Uint8Array => {
      if (seeds.length > 0) return draw().subarray(0, k)
      seeds.push(first)
      return first
    }
    const id = await generateIdentity(p, random)
    expect(seeds.length).toBeGreaterThanOrEqual(2)
    expect(id.seed).toEqual(seeds.at(-1))
    expect(id.edPub).toEqual(ed25519.getPublicKey(id.seed as Uint8Array))
    expect(xeddsaCompatible(id.edPub)).toBe(true)
  })

  it(`OMEMO-SIGN-BIT: a broken random source (only sign-bit-set keys) fails after ${MAX_IDENTITY_DRAWS} draws`, async () => {
    let stuck: Uint8Array = p.randomBytes(32)
    while (xeddsaCompatible(ed25519.getPublicKey(stuck))) stuck = p.randomBytes(32)
    await expectError(() => generateIdentity(p, () => stuck), 'LimitExceededError', 'OMEMO-SIGN-BIT')
  })

  it("others' keys are accepted with either sign: a bundle whose identity has the sign bit set imports", async () => {
    let identity = await identityFromSeed(p, p.randomBytes(32))
    while (xeddsaCompatible(identity.edPub)) identity = await identityFromSeed(p, p.randomBytes(32))
    const spk = await x25519KeyPair(p)
    const store = memoryStore().forAccount('bob@example.org' as BareJid)
    const bob = omemoBackend({ preKeyCount: 25 })({ store })
    await bob.createDevice()
    const keyId = await bob.importBundle('alice@example.org' as BareJid, 7, {
      ik: identity.edPub,
      spkId: 1,
      spk: spk.pub,
      spks: await signSignedPreKey(p, identity, spk.pub),
      preKeys: [{ id: 1, pub: (await x25519KeyPair(p)).pub }],
    })
    expect(await bob.keysOf('alice@example.org' as BareJid)).toEqual([keyId])
  })

  it('rotation: createDevice({ replace: true }) makes a new device (sign bit clear) and drops the old one from our device list', async () => {
    const store = memoryStore().forAccount('alice@example.org' as BareJid)
    const alice = omemoBackend({ preKeyCount: 25 })({ store })
    const old = await alice.createDevice()
    await alice.importDeviceList('alice@example.org' as BareJid, await alice.ownDeviceList())
    const rotated = await alice.createDevice({ replace: true })
    expect(rotated.deviceId).not.toBe(old.deviceId)
    expect(await alice.ownKeys()).toEqual([rotated.keyId])
    expect((await alice.ownDeviceList()).map((d) => d.id)).toEqual([rotated.deviceId])
    expect(await alice.ownDeviceXeddsaCompatible()).toBe(true)
  })
})
