/**
 * The `StorageType` libsignal-protocol-typescript reads and writes, over one transaction of our
 * {@link LegacyState}. One adapter serves one operation (an encryption to a device, a decryption
 * from one): it records what the library did (the identity it saw, the pre key it consumed), so
 * the backend can check and report it, and every session record it stores is pruned first
 * ({@link pruneSessionRecord}: the library never drops old receiving chains).
 *
 * Trust is not the library's business here: `isTrustedIdentity` answers true, and the backend
 * checks identity keys against the key material it holds before the library runs (a device whose
 * identity key changed is a new key for ATM, never a silent session replacement).
 */
import type {
  KeyPairType,
  SessionRecordType,
  StorageType,
} from '@privacyresearch/libsignal-protocol-typescript'
import type { AccountTrustStore, BareJid } from '@vouch/tm-core'
import { pruneSessionRecord } from './prune.ts'
import type { LegacyState, OwnRecord } from './state.ts'

export function ab(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer
}

const identityPairs = new WeakMap<OwnRecord, KeyPairType>()

/** `name.deviceId` (the library's SignalProtocolAddress string) → owner and device id. */
function parseAddress(address: string): { owner: BareJid; id: number } {
  const dot = address.lastIndexOf('.')
  return { owner: address.slice(0, dot) as BareJid, id: Number(address.slice(dot + 1)) }
}

export class SignalStore implements StorageType {
  readonly #state: LegacyState
  readonly #tx: AccountTrustStore
  readonly #own: OwnRecord
  /** the receive counter to store with the next session record (0 after a send) */
  receivedSinceSend: number
  /** the remote identity key the library last handled (33 bytes) */
  seenIdentity: Uint8Array | undefined
  /** the pre key id the library removed (consumed by a key exchange) */
  consumedPreKey: number | undefined
  /** set when storeSession ran */
  stored = false
  /**
   * Prune the records stored (default true). Encrypting on an existing session adds no chain (only
   * a ratchet step on receipt or a new session does), so that path skips the pass.
   */
  prune = true
  /**
   * The session record of this operation's device as the caller read it in the same transaction
   * (undefined: none, or not read): the library's `loadSession` gets it without a second read,
   * and after `storeSession` it is the record stored.
   */
  #loaded: { readonly address: string; record: string } | undefined

  constructor(
    state: LegacyState,
    tx: AccountTrustStore,
    own: OwnRecord,
    receivedSinceSend: number,
    loaded?: { readonly address: string; readonly record: string },
  ) {
    this.#state = state
    this.#tx = tx
    this.#own = own
    this.receivedSinceSend = receivedSinceSend
    this.#loaded = loaded === undefined ? undefined : { ...loaded }
  }

  async getIdentityKeyPair(): Promise<KeyPairType> {
    // made once per own record (the state caches it while its bytes are unchanged): the library only reads it
    let pair = identityPairs.get(this.#own)
    if (pair === undefined) {
      pair = { pubKey: ab(this.#own.identity.pub), privKey: ab(this.#own.identity.priv) }
      identityPairs.set(this.#own, pair)
    }
    return pair
  }

  async getLocalRegistrationId(): Promise<number> {
    // Conversations' device id is its libsignal registration id; so is ours
    return this.#own.deviceId
  }

  async isTrustedIdentity(): Promise<boolean> {
    return true
  }

  async saveIdentity(_address: string, publicKey: ArrayBuffer): Promise<boolean> {
    this.seenIdentity = new Uint8Array(publicKey.slice(0))
    return false
  }

  async loadPreKey(keyId: string | number): Promise<KeyPairType | undefined> {
    const pk = await this.#state.preKeyNamed(this.#tx, await this.#state.preKeys(this.#tx), Number(keyId))
    return pk === undefined ? undefined : { pubKey: ab(pk.pub), privKey: ab(pk.priv) }
  }

  async storePreKey(): Promise<void> {
    throw new Error('pre keys are created by the backend, not the library')
  }

  async removePreKey(keyId: string | number): Promise<void> {
    // the backend removes it (and refills) in the same transaction, once the message decrypted
    this.consumedPreKey = Number(keyId)
  }

  async loadSignedPreKey(keyId: string | number): Promise<KeyPairType | undefined> {
    const id = Number(keyId)
    const own = this.#own
    const spk = own.spk.id === id ? own.spk : own.oldSpk?.id === id ? own.oldSpk : undefined
    return spk === undefined ? undefined : { pubKey: ab(spk.pub), privKey: ab(spk.priv) }
  }

  async storeSignedPreKey(): Promise<void> {
    throw new Error('signed pre keys are created by the backend, not the library')
  }

  async removeSignedPreKey(): Promise<void> {
    throw new Error('signed pre keys are rotated by the backend, not the library')
  }

  async loadSession(address: string): Promise<SessionRecordType | undefined> {
    if (this.#loaded?.address === address) return this.#loaded.record
    const { owner, id } = parseAddress(address)
    return (await this.#state.session(this.#tx, owner, id))?.record
  }

  async storeSession(address: string, record: SessionRecordType): Promise<void> {
    const { owner, id } = parseAddress(address)
    this.stored = true
    const kept = this.prune ? pruneSessionRecord(record) : record
    await this.#state.saveSession(this.#tx, owner, id, {
      record: kept,
      receivedSinceSend: this.receivedSinceSend,
    })
    if (this.#loaded?.address === address) this.#loaded.record = kept
  }
}
