/**
 * OMEMO 0.3 encryption: the body text sealed with AES-128-GCM (`payload.ts`), `key ‖ tag`
 * carried by the libsignal session of every device whose key is at an accepted level in the
 * trust store (levels are ATM's; D-6, TM-15/TM-21), in one transaction. A device without a
 * session gets one from its bundle (X3DH with one of its pre keys, chosen at random); until it
 * answers, libsignal sends it PreKeyWhisperMessages (`prekey='true'`). Also the empty messages
 * the backend owes (key exchange answers, heartbeats).
 */
import {
  SessionBuilder,
  SessionCipher,
  SignalProtocolAddress,
} from '@privacyresearch/libsignal-protocol-typescript'
import type {
  AccountTrustStore,
  BareJid,
  EncryptOptions,
  EncryptResult,
  KeyId,
  KeyRef,
  TrustLevel,
} from '@vouch/tm-core'
import { type Element, keyIdFromBytes, onlyKeysOf, toBareJid, UntrustedKeyError } from '@vouch/tm-core'
import { UnsupportedPayloadError } from './errors.ts'
import { encryptPayload, IV_BYTES, KEY_BYTES } from './payload.ts'
import { releaseSessionLockHistory } from './session-lock.ts'
import { ab, SignalStore } from './signal-store.ts'
import { bytesEqual, type DeviceRecord, type LegacyState, type OwnRecord } from './state.ts'
import { buildEncrypted, type LegacyKeyElement, NS_AXOLOTL } from './wire.ts'

const te = new TextEncoder()

/** The text OMEMO 0.3 carries: the payload must be exactly one `<body/>` (XEP-0384 v0.3 §4.5). */
export function bodyTextOf(payload: Element | readonly Element[]): string {
  const els = (Array.isArray(payload) ? payload : [payload]) as readonly Element[]
  if (els.length !== 1 || els[0]?.name !== 'body')
    throw new UnsupportedPayloadError(
      `OMEMO 0.3 carries a body text only, not <${els.map((e) => e.name).join('/>, <')}/>`,
    )
  const body = els[0] as Element
  let s = ''
  for (const c of body.children) {
    if (typeof c !== 'string') throw new UnsupportedPayloadError('a <body/> with child elements')
    s += c
  }
  return s
}

/** The key id of an identity key (D-6: the 32 Curve25519 bytes without the 0x05 prefix). */
export function keyIdOf(ik33: Uint8Array): KeyId {
  // the same key again (a conversation's messages come from few devices): no second encoding
  if (lastKeyId !== undefined && bytesEqual(lastKeyId.ik, ik33)) return lastKeyId.id
  const id = keyIdFromBytes(ik33.subarray(1))
  lastKeyId = { ik: ik33.slice(), id }
  return id
}
let lastKeyId: { readonly ik: Uint8Array; readonly id: KeyId } | undefined

/** Key ids of the device records read (records are cached and never changed in place: one id each). */
const deviceKeyIds = new WeakMap<DeviceRecord, KeyId>()
function deviceKeyId(dev: DeviceRecord): KeyId {
  let id = deviceKeyIds.get(dev)
  if (id === undefined) {
    id = keyIdOf(dev.ik)
    deviceKeyIds.set(dev, id)
  }
  return id
}

/** Bytes of the library's binary-string output. */
export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

/**
 * Encrypts `keyMaterial` to `owner`/`id` through its session (built from its bundle when there
 * is none). Undefined when the device has no session and no usable bundle.
 */
async function encryptToDevice(
  state: LegacyState,
  tx: AccountTrustStore,
  own: OwnRecord,
  owner: BareJid,
  id: number,
  dev: DeviceRecord,
  keyMaterial: ArrayBuffer,
): Promise<LegacyKeyElement | undefined> {
  const { address, existing, store } = await sessionStore(state, tx, own, owner, id)
  if (existing) store.prune = false
  else if (!(await startSession(state, store, address, dev))) return undefined
  const m = await new SessionCipher(store, address).encrypt(keyMaterial)
  releaseSessionLockHistory()
  if (m.body === undefined) throw new Error('libsignal produced no message')
  return { rid: id, prekey: m.type === 3, data: binaryToBytes(m.body) }
}

/** The library's store for one device, holding the session record read in this transaction (if any). */
async function sessionStore(
  state: LegacyState,
  tx: AccountTrustStore,
  own: OwnRecord,
  owner: BareJid,
  id: number,
): Promise<{
  readonly address: SignalProtocolAddress
  readonly existing: boolean
  readonly store: SignalStore
}> {
  const address = new SignalProtocolAddress(owner, id)
  const existing = await state.session(tx, owner, id)
  const store = new SignalStore(
    state,
    tx,
    own,
    0,
    existing === undefined ? undefined : { address: address.toString(), record: existing.record },
  )
  return { address, existing: existing !== undefined, store }
}

/**
 * A new session with device `address` on its stored bundle (a random one-time pre key of it); the
 * library archives the session the record held. False when the bundle offers no pre key.
 */
async function startSession(
  state: LegacyState,
  store: SignalStore,
  address: SignalProtocolAddress,
  dev: DeviceRecord,
): Promise<boolean> {
  const b = dev.bundle
  if (b === undefined || b.preKeys.length === 0) return false
  const pick = state.config.random(4)
  const pk = b.preKeys[(((pick[0] as number) << 8) | (pick[1] as number)) % b.preKeys.length] as {
    id: number
    key: Uint8Array
  }
  await new SessionBuilder(store, address).processPreKey({
    identityKey: ab(b.identityKey),
    registrationId: address.deviceId,
    signedPreKey: {
      keyId: b.signedPreKeyId,
      publicKey: ab(b.signedPreKey),
      signature: ab(b.signedPreKeySignature),
    },
    preKey: { keyId: pk.id, publicKey: ab(pk.key) },
  })
  return true
}

/**
 * A new session with each of `owner`'s devices `ids` (default: its latest device list), built on
 * the stored bundle and replacing the one we had; each is owed an empty message, which carries the
 * key exchange (a PreKeyWhisperMessage) until the device answers
 * (`LegacyOmemoBackend.replaceSessions`). Our own device and devices without a stored bundle (or
 * without pre keys) are left out. One transaction.
 */
export async function replaceSessions(
  state: LegacyState,
  owner: BareJid,
  ids?: readonly number[],
): Promise<number[]> {
  return state.tx(async (tx) => {
    const own = await state.requireOwn(tx)
    const targets = ids ?? (await state.deviceList(tx, owner)) ?? []
    const replaced: number[] = []
    for (const id of new Set(targets)) {
      if (owner === state.config.account && id === own.deviceId) continue
      const dev = await state.device(tx, owner, id)
      if (dev === undefined) continue
      const { address, store } = await sessionStore(state, tx, own, owner, id)
      const started = await startSession(state, store, address, dev)
      releaseSessionLockHistory()
      if (!started) continue
      await state.oweEmpty(tx, owner, id)
      replaced.push(id)
    }
    return replaced
  })
}

/**
 * Encrypts `payload` (one `<body/>`) for `to` and our own other devices, to the devices whose
 * key is at one of the accepted levels, and within `options.onlyKeys` when given.
 * @throws UntrustedKeyError when a recipient (not ourselves) has no such device
 * @throws UnsupportedPayloadError when the payload is not one `<body/>`
 */
export async function encryptMessage(
  state: LegacyState,
  payload: Element | readonly Element[],
  to: readonly BareJid[],
  options: EncryptOptions,
  acceptedLevels: readonly TrustLevel[],
): Promise<EncryptResult> {
  const { account, random } = state.config
  if ((options.mode ?? 'signcrypt') !== 'signcrypt')
    throw new RangeError(
      `OMEMO 0.3 only offers 'signcrypt' (authenticated encryption), not '${options.mode}'`,
    )
  const text = bodyTextOf(payload)
  const accepted = new Set(options.acceptedLevels ?? acceptedLevels)
  const only = onlyKeysOf(options.onlyKeys, NS_AXOLOTL, 'OMEMO03-TO')
  const recipients = [...new Set(to.map((j) => toBareJid(j, 'OMEMO03-TO')))]
  if (recipients.length === 0) throw new RangeError('no recipient')
  const sealed = await encryptPayload(te.encode(text), random)
  // one copy for every device's session (the library only reads it)
  const keyMaterial = ab(sealed.keyMaterial)

  return state.tx(async (tx) => {
    const own = await state.requireOwn(tx)
    const owners = recipients.includes(account) ? recipients : [...recipients, account]
    const keys: LegacyKeyElement[] = []
    const refs: KeyRef[] = []
    // the levels of every owner's keys in one query (a level belongs to an owner and a key id)
    const levelsOf = new Map<BareJid, Map<KeyId, TrustLevel>>(owners.map((o) => [o, new Map()]))
    for (const r of await tx.getKeys(NS_AXOLOTL, { owners })) levelsOf.get(r.owner)?.set(r.keyId, r.level)
    for (const owner of owners) {
      const levels = levelsOf.get(owner) as Map<KeyId, TrustLevel>
      const ids = (await state.deviceList(tx, owner)) ?? []
      let firstKnown: KeyId | undefined
      let count = 0
      for (const id of ids) {
        if (owner === account && id === own.deviceId) continue
        const dev = await state.device(tx, owner, id)
        if (dev === undefined) continue
        const keyId = deviceKeyId(dev)
        firstKnown ??= keyId
        if (!accepted.has(levels.get(keyId) ?? 'undecided')) continue
        if (only !== undefined && !only.has(owner, keyId)) continue
        const k = await encryptToDevice(state, tx, own, owner, id, dev, keyMaterial)
        if (k === undefined) continue
        keys.push(k)
        refs.push({ encryption: NS_AXOLOTL, owner, keyId })
        count++
      }
      if (count === 0 && owner !== account) throw new UntrustedKeyError(owner, firstKnown ?? ('' as KeyId))
    }
    const element = buildEncrypted({ sid: own.deviceId, keys, iv: sealed.iv, payload: sealed.ciphertext })
    return { element, recipients: refs }
  })
}

/**
 * The empty messages we owe (answers to key exchanges, heartbeats): a random 16-byte key through
 * the session and no `<payload/>` (a KeyTransportElement, as Conversations and python-oldmemo
 * send), each built and its queue entry removed in one transaction.
 */
export async function takeEmptyMessages(
  state: LegacyState,
): Promise<Array<{ readonly to: BareJid; readonly element: Element }>> {
  const out: Array<{ to: BareJid; element: Element }> = []
  const { random } = state.config
  for (const { owner, id, key } of await state.owedEmpty(state.store)) {
    const el = await state.tx(async (tx) => {
      await state.paidEmpty(tx, key)
      const own = await state.requireOwn(tx)
      const dev = await state.device(tx, owner, id)
      if (dev === undefined || (await state.session(tx, owner, id)) === undefined) return undefined
      const k = await encryptToDevice(state, tx, own, owner, id, dev, ab(random(KEY_BYTES)))
      if (k === undefined) return undefined
      return buildEncrypted({ sid: own.deviceId, keys: [k], iv: random(IV_BYTES) })
    })
    if (el !== undefined) out.push({ to: owner, element: el })
  }
  return out
}
