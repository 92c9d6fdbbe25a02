/**
 * The root export is the public API (ARCHITECTURE item 8); the key directory is the `./pep`
 * subpath. The primitives stay internal: tests and benchmarks import them from `src/…`.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as root from '../src/index.ts'
import * as pep from '../src/pep.ts'

const INTERNAL = [
  'ratchetEncrypt',
  'ratchetDecrypt',
  'x3dhActive',
  'x3dhPassive',
  'createActiveSession',
  'acceptKeyExchange',
  'sessionEncrypt',
  'sessionDecrypt',
  'encryptPayload',
  'decryptPayload',
  'EMPTY_KEY_MATERIAL',
  'serializeSession',
  'deserializeSession',
  'parseKeyExchange',
  'encodeOmemoMessage',
  'decodeOmemoMessage',
  'encodeOmemoAuthenticatedMessage',
  'decodeOmemoAuthenticatedMessage',
  'encodeOmemoKeyExchange',
  'decodeOmemoKeyExchange',
  'ProtobufError',
  'identityFromSeed',
  'signSignedPreKey',
  'verifySignedPreKey',
  'x25519KeyPair',
]

describe('package exports', () => {
  it('the root export names no primitive', () => {
    for (const name of INTERNAL) expect(Object.keys(root), name).not.toContain(name)
    expect(Object.keys(root)).toContain('omemoBackend')
  })

  it('./pep exports the key directory, mapped in exports and publishConfig.exports', () => {
    expect(Object.keys(pep).sort()).toEqual(['emptyMessageStanza', 'omemoKeyDirectory'])
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(pkg.exports['./pep']).toBe('./src/pep.ts')
    expect(pkg.publishConfig.exports['./pep']).toEqual({ types: './dist/pep.d.ts', default: './dist/pep.js' })
  })
})
