import { type CryptoProvider, nodeCryptoProvider } from '../src/provider.ts'
import type { PreKeyBundle, X25519KeyPair } from '../src/x3dh.ts'
import { identityFromSeed, signSignedPreKey, x25519KeyPair } from '../src/x3dh.ts'

export const provider: CryptoProvider = nodeCryptoProvider()

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
export const toHex = (u: Uint8Array): string => Buffer.from(u).toString('hex')

/** A device's private material and public bundle, made with the provider. */
export function makeDevice(p: CryptoProvider = provider, preKeys = 3) {
  const identity = identityFromSeed(p, p.randomBytes(32))
  const spk = x25519KeyPair(p)
  const pks = new Map<number, X25519KeyPair>()
  for (let i = 1; i <= preKeys; i++) pks.set(i, x25519KeyPair(p))
  const bundle: PreKeyBundle = {
    ik: identity.edPub,
    spkId: 1,
    spk: spk.pub,
    spks: signSignedPreKey(p, identity, spk.pub),
    preKeys: [...pks].map(([id, k]) => ({ id, pub: k.pub })),
  }
  return { identity, spk, pks, bundle }
}

/** Asserts that `fn` throws (or rejects with) an error of `name` and `rule`; returns it. */
export async function expectError(
  fn: () => unknown,
  name: string,
  rule?: string,
): Promise<Error & { rule?: string }> {
  let caught: unknown
  try {
    await fn()
  } catch (e) {
    caught = e
  }
  if (!(caught instanceof Error))
    throw new Error(`expected ${name}${rule ? ` (${rule})` : ''}, nothing was thrown`)
  const e = caught as Error & { rule?: string }
  if (e.name !== name || (rule !== undefined && e.rule !== rule))
    throw new Error(`expected ${name} ${rule ?? ''}, got ${e.name} ${e.rule ?? ''}: ${e.message}`)
  return e
}
