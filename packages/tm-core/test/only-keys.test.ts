import { describe, expect, it } from 'vitest'
import type { BareJid, EncryptionNamespace, KeyId } from '../src/index.ts'
import { isStoreFailure, onlyKeysOf, StoreBusyError, StoreError } from '../src/index.ts'

const A = 'urn:xmpp:omemo:2' as EncryptionNamespace
const B = 'urn:xmpp:openpgp:0' as EncryptionNamespace
const k = 'AAAA' as KeyId

describe('TM-15/TM-21: onlyKeysOf, the one reading of EncryptOptions.onlyKeys', () => {
  it('no list means no restriction; a list keeps only its protocol’s keys, owners as bare JIDs', () => {
    expect(onlyKeysOf(undefined, A, 'TO')).toBeUndefined()
    const only = onlyKeysOf(
      [
        { encryption: A, owner: 'Bob@Example.org' as BareJid, keyId: k },
        { encryption: B, owner: 'carol@example.org' as BareJid, keyId: k },
      ],
      A,
      'TO',
    )
    expect(only?.has('bob@example.org', k)).toBe(true)
    expect(only?.has('carol@example.org', k)).toBe(false)
    expect(onlyKeysOf([], A, 'TO')?.has('bob@example.org', k)).toBe(false)
  })
  it('a malformed owner is rejected with the caller’s rule', () => {
    expect(() => onlyKeysOf([{ encryption: A, owner: 'a@b@c' as BareJid, keyId: k }], A, 'OMEMO-TO')).toThrow(
      expect.objectContaining({ name: 'InvalidJidError', rule: 'OMEMO-TO' }),
    )
  })
})

describe('isStoreFailure: a store failure, not bad input', () => {
  it('is true for StoreError and StoreBusyError only', () => {
    expect(isStoreFailure(new StoreError('x'))).toBe(true)
    expect(isStoreFailure(new StoreBusyError('x'))).toBe(true)
    expect(isStoreFailure(new Error('x'))).toBe(false)
    expect(isStoreFailure('StoreError')).toBe(false)
  })
})
