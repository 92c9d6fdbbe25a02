/**
 * OMEMO 2 encryption: an SCE envelope (XEP-0420) sealed with the payload scheme, its key
 * material carried by the session of every device whose key is at an accepted level in the
 * trust store (levels are ATM's; D-6, TM-15/TM-21), in one transaction. Also the empty messages
 * the backend owes (key exchange answers, heartbeats).
 */
import { buildEnvelope } from '@vouch/sce'
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
import { EMPTY_KEY_MATERIAL, encryptPayload } from './payload.ts'
import { createActiveSession, sessionEncrypt } from './session.ts'
import { bytesEqual, type OmemoState, utf8 } from './state.ts'
import { buildEncrypted, type EncryptedElement, type KeyElement, NS_OMEMO2 } from './xep0384.ts'

export interface OmemoEncryptOptions extends EncryptOptions {
  /** the SCE `<to/>` (bare); default the first recipient (a group chat passes the room) */
  readonly sceTo?: BareJid
}

/**
 * Encrypts `payload` for `to` and our own other devices, to the devices whose key is at one of
 * `options.acceptedLevels` (default `acceptedLevels`), and within `options.onlyKeys` when given.
 * @throws UntrustedKeyError when a recipient (not ourselves) has no such device
 */
export async function encryptMessage(
  state: OmemoState,
  payload: Element | readonly Element[],
  to: readonly BareJid[],
  options: OmemoEncryptOptions,
  acceptedLevels: readonly TrustLevel[],
): Promise<EncryptResult> {
  const { account, crypto, clock, random, rpad } = state.config
  if ((options.mode ?? 'signcrypt') !== 'signcrypt')
    throw new RangeError(`OMEMO 2 only offers 'signcrypt' (authenticated encryption), not '${options.mode}'`)
  const accepted = new Set(options.acceptedLevels ?? acceptedLevels)
  // TM-15/TM-21: with an explicit key list, no other device (own ones included) is encrypted to
  const only = onlyKeysOf(options.onlyKeys, NS_OMEMO2, 'OMEMO-TO')
  const now = options.now ?? clock()
  const recipients = [...new Set(to.map((j) => toBareJid(j, 'OMEMO-TO')))]
  if (recipients.length === 0) throw new RangeError('no recipient')
  const sceTo = options.sceTo ?? (recipients[0] as BareJid)
  const envelope = buildEnvelope({ content: payload, from: account, to: sceTo, time: now, rpad, random })
  const sealed = encryptPayload(crypto, utf8(envelope.toString()))

  return state.tx(async (tx) => {
    const own = await state.requireOwn(tx)
    const owners = recipients.includes(account) ? recipients : [...recipients, account]
    const keys = new Map<BareJid, KeyElement[]>()
    const refs: KeyRef[] = []
    for (const owner of owners) {
      const levels = new Map(
        (await tx.getKeys(NS_OMEMO2, { owners: [owner] })).map((r) => [r.keyId, r.level] as const),
      )
      const ids = (await state.deviceList(tx, owner))?.map((d) => d.id) ?? []
      const elements: KeyElement[] = []
      let firstKnown: KeyId | undefined
      for (const id of ids) {
        if (owner === account && id === own.deviceId) continue
        const dev = await state.device(tx, owner, id)
        if (dev === undefined) continue
        const keyId = keyIdFromBytes(dev.ik)
        firstKnown ??= keyId
        if (!accepted.has(levels.get(keyId) ?? 'undecided')) continue
        if (only !== undefined && !only.has(owner, keyId)) continue
        let session = await state.session(tx, owner, id)
        if (session === undefined || !bytesEqual(session.peerIk, dev.ik)) {
          if (dev.bundle === undefined || dev.bundle.preKeys.length === 0) continue
          session = await createActiveSession(crypto, own.identity, dev.bundle)
        }
        const k = sessionEncrypt(crypto, session, sealed.keyMaterial)
        await state.saveSession(tx, owner, id, session)
        elements.push({ rid: id, kex: k.kex, data: k.bytes })
        refs.push({ encryption: NS_OMEMO2, owner, keyId })
      }
      if (elements.length === 0 && owner !== account)
        throw new UntrustedKeyError(owner, firstKnown ?? ('' as KeyId))
      if (elements.length > 0) keys.set(owner, elements)
    }
    const el: EncryptedElement = { sid: own.deviceId, keys, payload: sealed.ciphertext }
    return { element: buildEncrypted(el), recipients: refs }
  })
}

/**
 * A new session with each of `owner`'s devices `ids` (default: its latest device list), built on
 * the stored bundle and replacing the one we had; each is owed an empty message, which carries the
 * key exchange until the device answers (`OmemoBackend.replaceSessions`). Our own device and
 * devices without a stored bundle (or without pre keys) are left out. One transaction.
 */
export async function replaceSessions(
  state: OmemoState,
  owner: BareJid,
  ids?: readonly number[],
): Promise<number[]> {
  const { account, crypto } = state.config
  return state.tx(async (tx) => {
    const own = await state.requireOwn(tx)
    const targets = ids ?? (await state.deviceList(tx, owner))?.map((d) => d.id) ?? []
    const replaced: number[] = []
    for (const id of new Set(targets)) {
      if (owner === account && id === own.deviceId) continue
      const dev = await state.device(tx, owner, id)
      if (dev?.bundle === undefined || dev.bundle.preKeys.length === 0) continue
      await state.saveSession(tx, owner, id, await createActiveSession(crypto, own.identity, dev.bundle))
      await state.oweEmpty(tx, owner, id)
      replaced.push(id)
    }
    return replaced
  })
}

/**
 * The empty messages we owe (answers to key exchanges, heartbeats), each built and its queue
 * entry removed in one transaction.
 */
export async function takeEmptyMessages(
  state: OmemoState,
): Promise<Array<{ readonly to: BareJid; readonly element: Element }>> {
  const out: Array<{ to: BareJid; element: Element }> = []
  for (const { owner, id, key } of await state.owedEmpty(state.store)) {
    const el = await state.tx(async (tx: AccountTrustStore) => {
      await state.paidEmpty(tx, key)
      const own = await state.requireOwn(tx)
      const session = await state.session(tx, owner, id)
      if (session === undefined) return undefined
      const k = sessionEncrypt(state.config.crypto, session, EMPTY_KEY_MATERIAL)
      await state.saveSession(tx, owner, id, session)
      return buildEncrypted({
        sid: own.deviceId,
        keys: new Map([[owner, [{ rid: id, kex: k.kex, data: k.bytes }]]]),
      })
    })
    if (el !== undefined) out.push({ to: owner, element: el })
  }
  return out
}
