/**
 * The anchor of the figures: raw libsignal-protocol-typescript 0.0.16 with the simplest
 * in-memory `StorageType` (records kept as the strings the library hands over, in a Map; no XML,
 * no Base64, no trust store, no checks, no pruning), doing the cryptographic work an OMEMO 0.3
 * message needs, written the plain way a user of the library would:
 *   - {@link rawMessage}: the body text sealed with AES-128-GCM (a fresh 16-byte key and a
 *     12-byte IV, Web Crypto calls on the provider the library uses), `key ‖ tag` (32 bytes)
 *     through the Signal session, and on the other side the session, then the payload opened;
 *   - a key exchange received consumes the pre key and a new one is made to replace it
 *     (`KeyHelper.generatePreKey`), as a bundle must be refilled;
 *   - {@link rawSend}: the 32-byte key material alone through the session (the bounded-state tests).
 * What a wrapper adds on top of this is measured against it.
 *
 * With {@link anchorPersists} (`BENCH_ANCHOR=persist`), the anchor also does the two things every
 * application on the library must do and the plain anchor leaves out: its session records are
 * kept in a trust store (the memory store's backend state, as UTF-8 bytes, read and written
 * through `getState` / `setState` on every load and store) and each message travels as the
 * `<encrypted/>` element (written with the wire helpers, read back from the element, as ours is
 * in the bench). It shows what the wrapper's own logic costs (trust levels, checks, transactions,
 * bounded records), apart from persistence and XML.
 */
import {
  type KeyPairType,
  KeyHelper,
  SessionBuilder,
  SessionCipher,
  SignalProtocolAddress,
  type StorageType,
} from '@privacyresearch/libsignal-protocol-typescript'
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, Element } from '@vouch/tm-core'
import { webCryptoInUse } from '../src/curve.ts'
import { binaryToBytes } from '../src/encrypt.ts'
import { buildEncrypted, parseEncrypted } from '../src/wire.ts'

let persist = false
/** Makes the anchor persist its records and write / read the `<encrypted/>` element (see above). */
export function anchorPersists(on: boolean): void {
  persist = on
}

export class RawStore implements StorageType {
  readonly sessions = new Map<string, string>()
  readonly preKeys = new Map<number, KeyPairType>()
  readonly signed = new Map<number, KeyPairType>()
  readonly identity: KeyPairType
  readonly registrationId: number
  /** the id the next replacement pre key gets */
  nextPreKeyId = 2
  constructor(identity: KeyPairType, registrationId: number) {
    this.identity = identity
    this.registrationId = registrationId
  }
  getIdentityKeyPair = async () => this.identity
  getLocalRegistrationId = async () => this.registrationId
  isTrustedIdentity = async () => true
  saveIdentity = async () => false
  loadPreKey = async (id: string | number) => this.preKeys.get(Number(id))
  storePreKey = async (id: string | number, k: KeyPairType) => void this.preKeys.set(Number(id), k)
  removePreKey = async (id: string | number) => void this.preKeys.delete(Number(id))
  loadSignedPreKey = async (id: string | number) => this.signed.get(Number(id))
  storeSignedPreKey = async (id: string | number, k: KeyPairType) => void this.signed.set(Number(id), k)
  removeSignedPreKey = async (id: string | number) => void this.signed.delete(Number(id))
  loadSession = async (a: string): Promise<string | undefined> => this.sessions.get(a)
  storeSession = async (a: string, r: string): Promise<void> => void this.sessions.set(a, r)
}

/** The anchor's store with its session records in a trust store (UTF-8 bytes of the library's strings). */
class PersistedRawStore extends RawStore {
  readonly #backing: AccountTrustStore
  constructor(identity: KeyPairType, registrationId: number, backing: AccountTrustStore) {
    super(identity, registrationId)
    this.#backing = backing
  }
  override loadSession = async (a: string): Promise<string | undefined> => {
    const b = await this.#backing.getState('raw', a)
    return b === undefined ? undefined : td.decode(b)
  }
  override storeSession = async (a: string, r: string): Promise<void> =>
    this.#backing.setState('raw', a, te.encode(r))
}

export interface RawParty {
  readonly name: string
  readonly id: number
  readonly store: RawStore
  /** the signature of signed pre key 1 (made with the party, as a bundle carries it) */
  readonly spkSignature: ArrayBuffer
}

export async function rawParty(name: string, id: number): Promise<RawParty> {
  const identity = await KeyHelper.generateIdentityKeyPair()
  const store = persist
    ? new PersistedRawStore(identity, id, memoryStore().forAccount(name as BareJid))
    : new RawStore(identity, id)
  const spk = await KeyHelper.generateSignedPreKey(store.identity, 1)
  store.signed.set(1, spk.keyPair)
  const pk = await KeyHelper.generatePreKey(1)
  store.preKeys.set(1, pk.keyPair)
  return { name, id, store, spkSignature: spk.signature }
}

/** `a` starts a session with `b` from b's bundle (signed pre key 1, pre key 1). */
export async function rawSession(a: RawParty, b: RawParty): Promise<void> {
  await new SessionBuilder(a.store, new SignalProtocolAddress(b.name, b.id)).processPreKey({
    identityKey: b.store.identity.pubKey,
    registrationId: b.id,
    signedPreKey: {
      keyId: 1,
      publicKey: (b.store.signed.get(1) as KeyPairType).pubKey,
      signature: b.spkSignature,
    },
    preKey: { keyId: 1, publicKey: (b.store.preKeys.get(1) as KeyPairType).pubKey },
  })
}

/** One message `a` → `b` (encrypt and decrypt a 32-byte key material, as OMEMO 0.3 does). */
export async function rawSend(a: RawParty, b: RawParty, data: ArrayBuffer): Promise<ArrayBuffer> {
  const m = await new SessionCipher(a.store, new SignalProtocolAddress(b.name, b.id)).encrypt(data)
  const cipher = new SessionCipher(b.store, new SignalProtocolAddress(a.name, a.id))
  return m.type === 3
    ? cipher.decryptPreKeyWhisperMessage(m.body as string, 'binary')
    : cipher.decryptWhisperMessage(m.body as string, 'binary')
}

const te = new TextEncoder()
const td = new TextDecoder('utf-8', { fatal: true })

/**
 * One OMEMO 0.3 message `a` → `b` without the wrapper: AES-128-GCM payload, `key ‖ tag` through
 * the session, both opened by `b`; a key exchange's pre key replaced. Returns the text `b` read.
 */
export async function rawMessage(a: RawParty, b: RawParty, text: string): Promise<string> {
  const sealed = await rawSeal(text)
  const m = await new SessionCipher(a.store, new SignalProtocolAddress(b.name, b.id)).encrypt(
    sealed.keyMaterial,
  )
  const ct = sealed.sealed.subarray(0, sealed.sealed.length - 16)
  if (!persist) return rawOpen(b, a, m.type === 3, m.body as string, sealed.iv, ct)
  const el = element(a, [[b, m]], sealed)
  const read = parseEncrypted(el)
  const key = read.keys.find((k) => k.rid === b.id)
  if (key === undefined || read.payload === undefined) throw new Error('no key for the recipient')
  return rawOpen(b, a, key.prekey, bytesToBinary(key.data), read.iv, read.payload)
}

/** The `<encrypted/>` element of a message from `a` (persisting anchor only). */
function element(
  a: RawParty,
  to: ReadonlyArray<readonly [RawParty, { type: number; body?: string }]>,
  sealed: RawSealed,
): Element {
  return buildEncrypted({
    sid: a.id,
    keys: to.map(([r, m]) => ({ rid: r.id, prekey: m.type === 3, data: binaryToBytes(m.body as string) })),
    iv: sealed.iv,
    payload: sealed.sealed.subarray(0, sealed.sealed.length - 16),
  })
}

function bytesToBinary(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number)
  return s
}

export interface RawSealed {
  readonly iv: Uint8Array
  /** ciphertext ‖ tag as Web Crypto returns it */
  readonly sealed: Uint8Array
  /** key ‖ tag, what goes through the session */
  readonly keyMaterial: ArrayBuffer
}

/** The payload of a message: AES-128-GCM under a fresh key and IV. */
export async function rawSeal(text: string): Promise<RawSealed> {
  const c = webCryptoInUse()
  const key = c.getRandomValues(new Uint8Array(16))
  const iv = c.getRandomValues(new Uint8Array(12))
  const k = await c.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt'])
  const sealed = new Uint8Array(
    await c.subtle.encrypt({ name: 'AES-GCM', iv, tagLength: 128 }, k, te.encode(text)),
  )
  const keyMaterial = new Uint8Array(32)
  keyMaterial.set(key)
  keyMaterial.set(sealed.subarray(sealed.length - 16), 16)
  return { iv, sealed, keyMaterial: keyMaterial.buffer }
}

/** `b` opens a message of `a`: the session (a key exchange refills the pre key), then the payload. */
async function rawOpen(
  b: RawParty,
  a: RawParty,
  keyExchange: boolean,
  body: string,
  iv: Uint8Array,
  ct: Uint8Array,
): Promise<string> {
  const cipher = new SessionCipher(b.store, new SignalProtocolAddress(a.name, a.id))
  const km = new Uint8Array(
    keyExchange
      ? await cipher.decryptPreKeyWhisperMessage(body, 'binary')
      : await cipher.decryptWhisperMessage(body, 'binary'),
  )
  if (keyExchange) {
    const pk = await KeyHelper.generatePreKey(b.store.nextPreKeyId++)
    b.store.preKeys.set(pk.keyId, pk.keyPair)
  }
  const c = webCryptoInUse()
  const k = await c.subtle.importKey('raw', km.subarray(0, 16), 'AES-GCM', false, ['decrypt'])
  const input = new Uint8Array(ct.length + 16)
  input.set(ct)
  input.set(km.subarray(16), ct.length)
  return td.decode(await c.subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, k, input))
}

/** Encrypts one message to every party of `to` (the payload once, `key ‖ tag` through each session). */
export async function rawEncryptTo(a: RawParty, to: readonly RawParty[], text: string): Promise<string[]> {
  const sealed = await rawSeal(text)
  const out: string[] = []
  const sent: Array<readonly [RawParty, { type: number; body?: string }]> = []
  for (const r of to) {
    const m = await new SessionCipher(a.store, new SignalProtocolAddress(r.name, r.id)).encrypt(
      sealed.keyMaterial,
    )
    sent.push([r, m])
    out.push(m.body as string)
  }
  if (persist) element(a, sent, sealed)
  return out
}
