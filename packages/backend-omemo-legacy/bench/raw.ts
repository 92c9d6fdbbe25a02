/**
 * The anchor of the figures: raw libsignal-protocol-typescript 0.0.16 with the simplest
 * in-memory `StorageType` (records kept as the strings the library hands over, nothing pruned,
 * no XML, no payload encryption): what a wrapper adds is measured against this.
 */
import {
  type KeyPairType,
  KeyHelper,
  SessionBuilder,
  SessionCipher,
  SignalProtocolAddress,
  type StorageType,
} from '@privacyresearch/libsignal-protocol-typescript'

export class RawStore implements StorageType {
  readonly sessions = new Map<string, string>()
  readonly preKeys = new Map<number, KeyPairType>()
  readonly signed = new Map<number, KeyPairType>()
  readonly identity: KeyPairType
  readonly registrationId: number
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
  loadSession = async (a: string) => this.sessions.get(a)
  storeSession = async (a: string, r: string) => void this.sessions.set(a, r)
}

export interface RawParty {
  readonly name: string
  readonly id: number
  readonly store: RawStore
  /** the signature of signed pre key 1 (made with the party, as a bundle carries it) */
  readonly spkSignature: ArrayBuffer
}

export async function rawParty(name: string, id: number): Promise<RawParty> {
  const store = new RawStore(await KeyHelper.generateIdentityKeyPair(), id)
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
