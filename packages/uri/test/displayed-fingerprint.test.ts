/**
 * Fingerprints as deployed clients show them (rules FPR-1 … FPR-3, README): what a person copies
 * from Profanity, Conversations, Dino, Gajim, Converse.js or GnuPG to authenticate a key by
 * comparison. The displayed forms below are the ones these clients print (Profanity 0.13.1's
 * `/omemo fingerprint` line was read from a run of it). Bad input: test/security/displayed-fingerprint.test.ts.
 */
import { NS_OMEMO_2, NS_OMEMO_LEGACY, NS_OX, parseKeyIdHex } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { parseDisplayedFingerprint } from '../src/index.ts'
import { B1 } from './spec-vectors.ts'

function rejected(fn: () => unknown): { name?: unknown; rule?: unknown } {
  try {
    fn()
  } catch (e) {
    const err = e as { name?: unknown; rule?: unknown }
    return { name: err.name, rule: err.rule }
  }
  return {}
}

const groups = (hex: string, size: number, sep: string): string =>
  (hex.match(new RegExp(`.{1,${size}}`, 'g')) as string[]).join(sep)

// a 32-byte key (B1 of the XEP-0434 examples) and a 20-byte OpenPGP v4 fingerprint
const K = B1.hex
const OX_FPR = '1F2E3D4C5B6A79880F1E2D3C4B5A69788796A5B4'

describe('fingerprints as deployed clients show them', () => {
  it('FPR-1: Profanity (groups of 8 joined by "-"), Conversations / Dino (groups of 8, spaces), Gajim (upper case) and one unbroken string all name the same key', () => {
    for (const shown of [
      groups(K, 8, '-'),
      groups(K, 8, ' '),
      groups(K.toUpperCase(), 8, ' '),
      K,
      `  ${groups(K, 8, '\t')}\n`,
      groups(K, 2, ':'),
    ])
      expect(parseDisplayedFingerprint(shown, NS_OMEMO_LEGACY), shown).toBe(B1.base64)
    expect(parseDisplayedFingerprint(groups(K, 8, ' '), NS_OMEMO_2)).toBe(B1.base64)
  })

  it('FPR-1: GnuPG’s fingerprint (groups of 4, a double space in the middle) names the OX key', () => {
    const shown = `${groups(OX_FPR.slice(0, 20), 4, ' ')}  ${groups(OX_FPR.slice(20), 4, ' ')}`
    expect(parseDisplayedFingerprint(shown, NS_OX)).toBe(parseKeyIdHex(OX_FPR.toLowerCase()))
  })

  it('FPR-2: the key length of the protocol, no more and no less (a digit missing or one too many is refused)', () => {
    for (const [text, ns] of [
      [K.slice(0, 62), NS_OMEMO_LEGACY],
      [K.slice(0, 63), NS_OMEMO_LEGACY],
      [`${K}ab`, NS_OMEMO_2],
      [K, NS_OX],
      [OX_FPR, NS_OMEMO_LEGACY],
      ['', NS_OMEMO_2],
    ] as const)
      expect(
        rejected(() => parseDisplayedFingerprint(text, ns)),
        `${text} ${ns}`,
      ).toEqual({
        name: 'InvalidKeyIdError',
        rule: 'FPR-2',
      })
    expect(parseDisplayedFingerprint(K, 'urn:example:other', { keyIdLength: 32 })).toBe(B1.base64)
    expect(rejected(() => parseDisplayedFingerprint(K, 'urn:example:other'))).toEqual({
      name: 'InvalidKeyIdError',
      rule: 'FPR-2',
    })
  })

  it('FPR-3: OMEMO 0.3 only, 33 bytes starting with 05 (libsignal’s key type byte) name the 32-byte key after it (D-6); another first byte, or the prefix on another protocol’s key, is refused', () => {
    expect(parseDisplayedFingerprint(`05${K}`, NS_OMEMO_LEGACY)).toBe(B1.base64)
    expect(parseDisplayedFingerprint(`05 ${groups(K, 8, ' ')}`, NS_OMEMO_LEGACY)).toBe(B1.base64)
    expect(rejected(() => parseDisplayedFingerprint(`06${K}`, NS_OMEMO_LEGACY))).toEqual({
      name: 'InvalidKeyIdError',
      rule: 'FPR-3',
    })
    expect(rejected(() => parseDisplayedFingerprint(`05${K}`, NS_OMEMO_2))).toEqual({
      name: 'InvalidKeyIdError',
      rule: 'FPR-3',
    })
  })
})
