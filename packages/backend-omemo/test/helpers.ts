import type { AccountTrustStore, BareJid, KeyId, TrustLevel } from '@vouch/tm-core'
import type { OmemoBackend } from '../src/backend.ts'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { defaultCryptoProvider } from '@vouch/backend-omemo/provider'
import type { CryptoProvider } from '../src/provider.ts'
import { browserCryptoProvider } from '../src/provider-browser.ts'
import { NS_OMEMO2 } from '../src/xep0384.ts'
import type { PreKeyBundle, X25519KeyPair } from '../src/x3dh.ts'
import { identityFromSeed, signSignedPreKey, x25519KeyPair } from '../src/x3dh.ts'

/** The runtime's provider: `node:crypto` in Node, `@noble/*` in the browser (exports conditions). */
export const provider: CryptoProvider = defaultCryptoProvider()

/**
 * Every provider this runtime can run: in Node `node:crypto`, the browser provider on Node's
 * WebCrypto and the browser provider on noble only (its fallback); in the browser the last two.
 */
export const providers: readonly CryptoProvider[] = [
  provider,
  browserCryptoProvider(),
  browserCryptoProvider({ webCrypto: false }),
].filter((p, i, all) => all.findIndex((q) => q.name === p.name) === i)

// platform-neutral codecs (these helpers also run in Chromium, tooling/browser-tests)
export const hex = (s: string): Uint8Array => hexToBytes(s)
export const toHex = (u: Uint8Array): string => bytesToHex(u)
export const unb64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
export const b64 = (u: Uint8Array): string => btoa(String.fromCharCode(...u))

/** A vector file of test/vectors: read from disk in Node, fetched from the dev server in a browser. */
export async function loadVectors<T>(name: string): Promise<T> {
  const url = new URL(`./vectors/${name}`, import.meta.url)
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises')
    return JSON.parse(await readFile(url, 'utf8')) as T
  }
  const res = await fetch(url)
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`)
  return (await res.json()) as T
}

/** A device's private material and public bundle, made with the provider. */
export async function makeDevice(p: CryptoProvider = provider, preKeys = 3) {
  const identity = await identityFromSeed(p, p.randomBytes(32))
  const spk = await x25519KeyPair(p)
  const pks = new Map<number, X25519KeyPair>()
  for (let i = 1; i <= preKeys; i++) pks.set(i, await x25519KeyPair(p))
  const bundle: PreKeyBundle = {
    ik: identity.edPub,
    spkId: 1,
    spk: spk.pub,
    spks: await signSignedPreKey(p, identity, spk.pub),
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

/**
 * Stands in for ATM. The backend stores key material and reports the key ids it learned; it never
 * writes a trust level (ARCHITECTURE item 2). In an application ATM's `keysDiscovered` records
 * them under the security policy (TOAKAFA: `automatically-trusted` until the owner's first
 * authentication); tests and benchmarks without ATM record them here, explicitly, at `level`.
 */
export async function standInForAtm(
  store: AccountTrustStore,
  owner: BareJid,
  keyIds: readonly KeyId[],
  level: TrustLevel = 'automatically-trusted',
): Promise<void> {
  await store.addKeys(
    NS_OMEMO2,
    owner,
    keyIds,
    { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
    level,
  )
}

/** `x` imports `owner`'s device list and bundles (as fetched from PEP); ATM (stood in for) records the keys. */
export async function introduce(
  x: { readonly backend: OmemoBackend; readonly store: AccountTrustStore },
  owner: BareJid,
  devices: readonly OmemoBackend[],
  level: TrustLevel = 'automatically-trusted',
): Promise<readonly KeyId[]> {
  const list = []
  for (const d of devices) list.push({ id: (await d.ownDeviceId()) as number })
  await x.backend.importDeviceList(owner, list)
  const keys: KeyId[] = []
  for (const d of devices)
    keys.push(await x.backend.importBundle(owner, (await d.ownDeviceId()) as number, await d.ownBundle()))
  await standInForAtm(x.store, owner, keys, level)
  return keys
}
