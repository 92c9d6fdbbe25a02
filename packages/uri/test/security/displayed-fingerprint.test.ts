/**
 * Bad input for the displayed-fingerprint parser: a person pastes whatever the clipboard holds
 * into `vouch trust authenticate`. Every case fails with a typed error naming its rule and is
 * never "repaired" into a key the person did not write (no digit dropped, no prefix guessed).
 */
import { NS_OMEMO_2, NS_OMEMO_LEGACY, NS_OX } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { parseDisplayedFingerprint } from '../../src/index.ts'
import { B1 } from '../spec-vectors.ts'

const K = B1.hex

const CORPUS: ReadonlyArray<readonly [comment: string, text: string, encryption: string, rule: string]> = [
  ['a non-hex digit', `${K.slice(0, 63)}g`, NS_OMEMO_LEGACY, 'FPR-1'],
  ['groups joined by "_"', K.replace(/(.{8})(?!$)/g, '$1_'), NS_OMEMO_LEGACY, 'FPR-1'],
  ['groups joined by "."', K.replace(/(.{8})(?!$)/g, '$1.'), NS_OMEMO_2, 'FPR-1'],
  ['a 0x prefix', `0x${K}`, NS_OMEMO_2, 'FPR-1'],
  ['a NUL character', `${K}\u0000`, NS_OMEMO_LEGACY, 'FPR-1'],
  ['a full-width digit', `${K.slice(0, 63)}\uff11`, NS_OMEMO_LEGACY, 'FPR-1'],
  ['a Trust Message URI', `xmpp:bob@example.com?trust-message;trust=${K}`, NS_OMEMO_2, 'FPR-1'],
  ['a pasted page (10,000 digits)', 'ab'.repeat(5000), NS_OMEMO_2, 'FPR-1'],
  ['empty', '', NS_OMEMO_LEGACY, 'FPR-2'],
  ['only separators', ' - : ', NS_OMEMO_LEGACY, 'FPR-2'],
  ['one digit missing', K.slice(1), NS_OMEMO_LEGACY, 'FPR-2'],
  ['one byte missing', K.slice(2), NS_OMEMO_2, 'FPR-2'],
  ['one byte too many (not 05)', `${K}00`, NS_OMEMO_2, 'FPR-2'],
  ['an OMEMO key given as OX', K, NS_OX, 'FPR-2'],
  ['33 bytes whose type byte is not 05', `06${K}`, NS_OMEMO_LEGACY, 'FPR-3'],
  ['the 05 prefix on an OMEMO 2 (Ed25519) key', `05${K}`, NS_OMEMO_2, 'FPR-3'],
]

describe('security: bad displayed fingerprints are rejected with a typed error naming the rule', () => {
  for (const [comment, text, encryption, rule] of CORPUS)
    it(`${rule}: ${comment}`, () => {
      let error: unknown
      try {
        parseDisplayedFingerprint(text, encryption)
      } catch (e) {
        error = e
      }
      expect(error, comment).toMatchObject({ name: 'InvalidKeyIdError', rule })
    })
})
