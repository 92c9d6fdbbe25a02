/**
 * OMEMO 0.3 decryption: our `<key/>` of an `<encrypted/>` element through the sender device's
 * libsignal session (or a PreKeyWhisperMessage that starts one, consuming one of our pre keys),
 * then the AES-128-GCM payload, in one transaction: the caller's when it passes one
 * (`DecryptOptions.store`). A failure at any step commits nothing (the ratchet step included),
 * so a tampered copy never spoils the genuine one.
 *
 * Checks made before the library runs (it makes none of them itself): the sender device is in
 * the sender's device list; a key exchange's identity key is the one known for that device; a
 * new key exchange names our signed pre key and an unused one-time pre key. The key of a device
 * whose key exchange we accepted is stored as key material and reported in `learnedKeys`: its
 * trust level is ATM's decision (`keysDiscovered`), never the backend's.
 */
import { PreKeyWhisperMessage } from '@privacyresearch/libsignal-protocol-protobuf-ts'
import type { OmemoDecryptOutcome } from '@vouch/omemo-common'
import {
  KeyHelper,
  SessionCipher,
  SignalProtocolAddress,
} from '@privacyresearch/libsignal-protocol-typescript'
import type {
  AccountTrustStore,
  BareJid,
  DecryptedContent,
  DecryptOptions,
  FullJid,
  StanzaAddressing,
} from '@vouch/tm-core'
import { DecryptionError, Element, parseJid, toBareJid } from '@vouch/tm-core'
import { keyIdOf } from './encrypt.ts'
import { decryptPayload, KEY_BYTES } from './payload.ts'
import { releaseSessionLockHistory } from './session-lock.ts'
import { ab, SignalStore } from './signal-store.ts'
import { bytesEqual, type LegacyState, type OwnRecord } from './state.ts'
import {
  type LegacyEncryptedElement,
  type LegacyKeyElement,
  NS_AXOLOTL,
  parseEncrypted,
  publicKey33,
} from './wire.ts'

const NS_CLIENT = 'jabber:client'
const td = new TextDecoder('utf-8', { fatal: true })

/** What {@link decryptMessage} returns (one outcome type for both OMEMO backends). */
export type LegacyDecryptResult = OmemoDecryptOutcome

interface Opened {
  /** messages received since we last sent, as stored with the session now (heartbeat) */
  readonly receivedSinceSend: number
  readonly keyMaterial: Uint8Array
  readonly senderIk: Uint8Array
  readonly keyExchange: boolean
  readonly learned: boolean
  readonly bundleChanged: boolean
}

/** Maps what libsignal throws to a typed error with its rule. */
function libraryError(e: unknown): DecryptionError {
  const err = e as Error
  const msg = String(err?.message ?? e)
  if (err?.name === 'MessageCounterError')
    return new DecryptionError(
      'REPLAY',
      'this message key was used already (a replayed or duplicated message)',
      {
        cause: e,
      },
    )
  if (/bad mac/i.test(msg))
    return new DecryptionError('OMEMO03-MAC', 'the message does not authenticate (HMAC mismatch)', {
      cause: e,
    })
  if (/2000 messages into the future/i.test(msg))
    return new DecryptionError('OMEMO03-MAX-SKIP', 'more than 2000 skipped messages', { cause: e })
  return new DecryptionError('OMEMO03-RATCHET', `the Signal message is rejected: ${msg}`, { cause: e })
}

/** Runs our key through the library, with the checks it does not make. */
async function openKey(
  state: LegacyState,
  tx: AccountTrustStore,
  own: OwnRecord,
  sender: BareJid,
  sid: number,
  key: LegacyKeyElement,
  options: DecryptOptions,
): Promise<Opened> {
  const existing = await state.session(tx, sender, sid)
  const address = new SignalProtocolAddress(sender, sid)
  const received = (existing?.receivedSinceSend ?? 0) + 1
  const store = new SignalStore(
    state,
    tx,
    own,
    received,
    existing === undefined ? undefined : { address: address.toString(), record: existing.record },
  )
  const cipher = new SessionCipher(store, address)
  const receivedSinceSend = () => (store.stored ? received : (existing?.receivedSinceSend ?? 0))
  if (!key.prekey) {
    if (existing === undefined)
      throw new DecryptionError('OMEMO03-NO-SESSION', `no session with ${sender}/${sid}`)
    let plain: ArrayBuffer
    try {
      plain = await cipher.decryptWhisperMessage(ab(key.data), 'binary')
    } catch (e) {
      throw libraryError(e)
    } finally {
      releaseSessionLockHistory()
    }
    // the library hands the session's identity key to saveIdentity; the device record otherwise
    const senderIk = store.seenIdentity ?? (await state.device(tx, sender, sid))?.ik
    if (senderIk === undefined)
      throw new DecryptionError('OMEMO03-RATCHET', 'the session names no identity key')
    return {
      receivedSinceSend: receivedSinceSend(),
      keyMaterial: new Uint8Array(plain),
      senderIk,
      keyExchange: false,
      learned: false,
      bundleChanged: false,
    }
  }

  // a PreKeyWhisperMessage: 0x33 ‖ protobuf
  if (key.data.length < 2 || key.data[0] !== 0x33)
    throw new DecryptionError('OMEMO03-KEX', 'a key exchange without the version byte 0x33')
  let kex: PreKeyWhisperMessage
  try {
    kex = PreKeyWhisperMessage.decode(key.data.subarray(1))
  } catch (e) {
    throw new DecryptionError('OMEMO03-KEX', 'a key exchange that does not parse', { cause: e })
  }
  if (kex.identityKey === undefined || kex.baseKey === undefined || kex.message === undefined)
    throw new DecryptionError('OMEMO03-KEX', 'a key exchange without identity key, base key or message')
  const ik = publicKey33(kex.identityKey, 'the key exchange identity key', 'OMEMO03-KEX')
  const known = await state.device(tx, sender, sid)
  if (known !== undefined && !bytesEqual(known.ik, ik))
    throw new DecryptionError(
      'OMEMO03-KEX',
      `the key exchange's identity key is not the one known for ${sender}/${sid}`,
    )
  // the same key exchange again (the initiator repeats it until we answer): the session it built decrypts
  const repeated = existing !== undefined && hasSessionWithBaseKey(existing.record, kex.baseKey)
  const pks = repeated ? undefined : await state.preKeys(tx)
  // a pre key of the bundle, or one kept for the catch-up (a second sender took it too)
  const pk = pks === undefined ? undefined : await state.preKeyNamed(tx, pks, kex.preKeyId)
  if (pks !== undefined) {
    if ((await store.loadSignedPreKey(kex.signedPreKeyId)) === undefined)
      throw new DecryptionError('OMEMO03-KEX', `no signed pre key ${kex.signedPreKeyId}`)
    if (pk === undefined)
      throw new DecryptionError(
        'OMEMO03-KEX',
        `no pre key ${kex.preKeyId} (a key exchange needs an unused one-time pre key)`,
      )
  }
  let plain: ArrayBuffer
  try {
    plain = await cipher.decryptPreKeyWhisperMessage(ab(key.data), 'binary')
  } catch (e) {
    throw libraryError(e)
  } finally {
    releaseSessionLockHistory()
  }
  let bundleChanged = false
  if (pks !== undefined && pk !== undefined) {
    const used = await state.usePreKey(tx, pks, kex.preKeyId, {
      fromCatchUp: options.fromCatchUp === true,
      refillThreshold: state.config.refillThreshold,
      nextId: own.nextPreKeyId,
      refill: (left, next) => fillPreKeys(left, next, state.config.preKeyCount),
    })
    if (used.nextId !== own.nextPreKeyId) await state.saveOwn(tx, { ...own, nextPreKeyId: used.nextId })
    bundleChanged = used.bundleChanged
    if (known === undefined) await state.saveDevice(tx, sender, sid, { ik })
  }
  // answer every key exchange with an empty message, so the initiator stops sending key exchanges
  await state.oweEmpty(tx, sender, sid)
  return {
    receivedSinceSend: receivedSinceSend(),
    keyMaterial: new Uint8Array(plain),
    senderIk: ik,
    keyExchange: true,
    learned: !repeated,
    bundleChanged,
  }
}

/**
 * Whether a serialized record holds a session the remote started with `baseKey` (libsignal
 * indexes sessions by the base key as a binary string; `getSessionByBaseKey`'s test).
 */
function hasSessionWithBaseKey(record: string, baseKey: Uint8Array): boolean {
  const sessions = (
    JSON.parse(record) as { sessions?: Record<string, { indexInfo?: { baseKeyType?: number } }> }
  ).sessions
  const s = sessions?.[String.fromCharCode(...baseKey)]
  return s !== undefined && s.indexInfo?.baseKeyType !== 1
}

/** Adds pre keys (libsignal's KeyHelper) up to `count`; returns the next free id. */
export async function fillPreKeys(
  pks: Map<number, { pub: Uint8Array; priv: Uint8Array }>,
  nextId: number,
  count: number,
): Promise<number> {
  let id = nextId
  while (pks.size < count) {
    const k = await KeyHelper.generatePreKey(id)
    pks.set(id, { pub: new Uint8Array(k.keyPair.pubKey), priv: new Uint8Array(k.keyPair.privKey) })
    id = id >= 0xffffff ? 1 : id + 1
  }
  return id
}

/** Checks the stanza addressing a message without protected envelope can still be checked against. */
function checkAddressing(
  state: LegacyState,
  sender: BareJid,
  stanza: StanzaAddressing,
  options: DecryptOptions,
): void {
  const { account } = state.config
  const to = toBareJid(stanza.to, 'OMEMO03-TO')
  // our own sent copy (carbon, archive): from us, to the partner the caller names
  if (to === account) return
  if (
    sender === account &&
    options.expectedTo !== undefined &&
    to === toBareJid(options.expectedTo, 'OMEMO03-TO')
  )
    return
  throw new DecryptionError('OMEMO03-TO', `a message addressed to ${to}, not to ${account}`)
}

/**
 * Decrypts `el` (received in `stanza`) and tells empty messages apart.
 */
export async function decryptMessage(
  state: LegacyState,
  el: Element,
  stanza: StanzaAddressing,
  options: DecryptOptions,
): Promise<LegacyDecryptResult> {
  const { account, xmlLimits, heartbeatAfter } = state.config
  const m: LegacyEncryptedElement = parseEncrypted(el, xmlLimits)
  const sender = toBareJid(stanza.from, 'OMEMO03-FROM')
  const fromParsed = parseJid(stanza.from, 'OMEMO03-FROM')
  const senderFullJid = fromParsed.resource === undefined ? undefined : (stanza.from as FullJid)
  checkAddressing(state, sender, stanza, options)

  return state.tx(async (tx) => {
    const own = await state.requireOwn(tx)
    // v0.3 keys carry no JID: ours are those with our device id
    const mine = m.keys.filter((k) => k.rid === own.deviceId)
    if (mine.length === 0)
      // a key transport message (no <payload/>) for other devices only: nothing to read here
      throw new DecryptionError(
        'OMEMO03-NOT-FOR-US',
        `no <key/> for our device ${own.deviceId} of ${account}`,
        { nothingToRead: m.payload === undefined },
      )
    if (sender === account && m.sid === own.deviceId)
      throw new DecryptionError('OMEMO03-OWN', 'a message from our own device')
    const listed = await state.deviceList(tx, sender)
    if (listed === undefined || !listed.includes(m.sid))
      throw new DecryptionError(
        'OMEMO03-UNKNOWN-DEVICE',
        `device ${m.sid} is not in the device list of ${sender} (refresh it, then retry)`,
      )
    // a device id of another recipient may equal ours: try each of our keys, keep the first that opens
    // (one key, the usual case: a failure fails this whole transaction, no savepoint needed)
    let opened: Opened | undefined
    let firstError: unknown
    if (mine.length === 1)
      opened = await openKey(state, tx, own, sender, m.sid, mine[0] as LegacyKeyElement, options)
    else
      for (const key of mine) {
        try {
          opened = await tx.transaction((inner) => openKey(state, inner, own, sender, m.sid, key, options))
          break
        } catch (e) {
          firstError ??= e
        }
      }
    if (opened === undefined) throw firstError
    if (opened.receivedSinceSend >= heartbeatAfter) await state.oweEmpty(tx, sender, m.sid)
    const senderKey = keyIdOf(opened.senderIk)
    const learnedKeys = opened.learned ? [senderKey] : undefined

    if (m.payload === undefined) {
      // key transport (XEP-0384 v0.3 §4.6): a key and no payload; a real message whose <payload/>
      // was stripped carries key ‖ tag (32 bytes) and is rejected, its ratchet step not committed
      if (opened.keyMaterial.length !== KEY_BYTES)
        throw new DecryptionError(
          'OMEMO03-PAYLOAD',
          'a message without <payload/> whose key material is not that of a key transport message',
        )
      return {
        kind: 'empty',
        senderJid: sender,
        senderKey,
        senderDeviceId: m.sid,
        keyExchange: opened.keyExchange,
        bundleChanged: opened.bundleChanged,
        ...(learnedKeys === undefined ? {} : { learnedKeys }),
      }
    }
    const plaintext = await decryptPayload(m.payload, m.iv, opened.keyMaterial)
    let text: string
    try {
      text = td.decode(plaintext)
    } catch (cause) {
      throw new DecryptionError('OMEMO03-PAYLOAD', 'the plaintext is not UTF-8', { cause })
    }
    const body = new Element('body', { xmlns: NS_CLIENT }).t(text)
    const content = {
      content: body,
      payload: [body],
      senderJid: sender,
      ...(senderFullJid === undefined ? {} : { senderFullJid }),
      carrier: NS_AXOLOTL,
      encrypted: true,
      mode: 'signcrypt' as const,
      signed: true as const,
      senderKey,
      ...(learnedKeys === undefined ? {} : { learnedKeys }),
    }
    return {
      kind: 'content',
      content,
      senderDeviceId: m.sid,
      keyExchange: opened.keyExchange,
      bundleChanged: opened.bundleChanged,
    }
  }, options.store)
}

/** {@link decryptMessage} as `EncryptionBackend.decrypt`: an empty message is `sessionOnly`. */
export async function decryptContent(
  state: LegacyState,
  el: Element,
  stanza: StanzaAddressing,
  options: DecryptOptions,
): Promise<DecryptedContent> {
  const r = await decryptMessage(state, el, stanza, options)
  if (r.kind === 'content') return r.content
  return {
    content: new Element('body', { xmlns: NS_CLIENT }),
    payload: [],
    senderJid: r.senderJid,
    carrier: NS_AXOLOTL,
    encrypted: true,
    mode: 'signcrypt',
    signed: true,
    senderKey: r.senderKey,
    sessionOnly: true,
    ...(r.learnedKeys === undefined ? {} : { learnedKeys: r.learnedKeys }),
  }
}
