/**
 * OMEMO 2 decryption: our `<key/>` of an `<encrypted/>` element through the sender device's
 * session (or a key exchange that starts one, consuming a pre key), then the payload and the SCE
 * envelope with its receiver checks (SCE-1 … SCE-3, the time window through `openEnvelope`), in
 * one transaction: the caller's when it passes one (`DecryptOptions.store`).
 *
 * The key of a device whose key exchange we accepted is stored as key material and reported in
 * `learnedKeys`: its trust level is ATM's decision (`keysDiscovered`), never the backend's.
 */
import type { OmemoDecryptOutcome } from '@vouch/omemo-common'
import {
  NS_SCE,
  OMEMO2_CHAT_PROFILE,
  OMEMO2_GROUPCHAT_PROFILE,
  openEnvelope,
  TRUST_MESSAGE_PROFILE,
} from '@vouch/sce'
import type {
  DecryptedContent,
  DecryptOptions,
  FullJid,
  KeyId,
  StanzaAddressing,
  TimeWindow,
} from '@vouch/tm-core'
import {
  DecryptionError,
  Element,
  isVouchError,
  keyIdFromBytes,
  parseJid,
  parseXml,
  toBareJid,
} from '@vouch/tm-core'
import { decryptPayload, EMPTY_KEY_MATERIAL } from './payload.ts'
import {
  acceptKeyExchange,
  parseKeyExchange,
  type Session,
  sameKeyExchange,
  sessionDecrypt,
} from './session.ts'
import { bytesEqual, type OmemoState, td } from './state.ts'
import { type KeyElement, NS_OMEMO2, parseEncrypted } from './xep0384.ts'

/** What {@link decryptMessage} returns (one outcome type for both OMEMO backends). */
export type OmemoDecryptResult = OmemoDecryptOutcome

/**
 * Decrypts `el` (received in `stanza`) and tells empty messages apart.
 * @param window the SCE-1 window when `options` names none (the backend's policy)
 */
export async function decryptMessage(
  state: OmemoState,
  el: Element,
  stanza: StanzaAddressing,
  options: DecryptOptions,
  window: TimeWindow,
): Promise<OmemoDecryptResult> {
  const { account, crypto, clock, ratchetLimits, xmlLimits, refillThreshold, heartbeatAfter } = state.config
  const m = parseEncrypted(el, xmlLimits)
  const sender = toBareJid(stanza.from, 'OMEMO-FROM')
  const fromParsed = parseJid(stanza.from, 'OMEMO-FROM')
  const senderFullJid = fromParsed.resource === undefined ? undefined : (stanza.from as FullJid)
  const expectedTo = toBareJid(options.expectedTo ?? stanza.to, 'OMEMO-TO')
  const sceWindow: TimeWindow = {
    maxAgeSeconds: options.maxAgeSeconds ?? window.maxAgeSeconds,
    futureSkewSeconds: options.futureSkewSeconds ?? window.futureSkewSeconds,
  }
  const now = options.now ?? clock()

  return state.tx(async (tx) => {
    const own = await state.requireOwn(tx)
    const mine = m.keys.get(account)?.filter((k) => k.rid === own.deviceId) ?? []
    if (mine.length === 0)
      // an empty message (no <payload/>) for other devices only: nothing to read, for anybody here
      throw new DecryptionError(
        'OMEMO-NOT-FOR-US',
        `no <key/> for our device ${own.deviceId} of ${account}`,
        { nothingToRead: m.payload === undefined },
      )
    if (mine.length > 1) throw new DecryptionError('OMEMO-XML', 'more than one <key/> for our device')
    if (sender === account && m.sid === own.deviceId)
      throw new DecryptionError('OMEMO-OWN', 'a message from our own device')
    const key = mine[0] as KeyElement
    let session: Session
    let keyMaterial: Uint8Array
    let bundleChanged = false
    let learned: KeyId | undefined
    const known = await state.device(tx, sender, m.sid)
    if (key.kex) {
      const kex = parseKeyExchange(key.data)
      if (known !== undefined && !bytesEqual(known.ik, kex.ik))
        throw new DecryptionError(
          'OMEMO-KEX',
          `the key exchange's identity key is not the one known for ${sender}/${m.sid}`,
        )
      const existing = await state.session(tx, sender, m.sid)
      if (existing !== undefined && existing.initiation === 'passive' && sameKeyExchange(existing.kex, kex)) {
        keyMaterial = await sessionDecrypt(crypto, existing, kex.message, ratchetLimits)
        session = existing
      } else {
        const spk = own.spk.id === kex.spkId ? own.spk : own.oldSpk?.id === kex.spkId ? own.oldSpk : undefined
        if (spk === undefined) throw new DecryptionError('OMEMO-KEX', `no signed pre key ${kex.spkId}`)
        const pks = await state.preKeys(tx)
        // a pre key of the bundle, or one kept for the catch-up (a second sender took it too)
        const pk = await state.preKeyNamed(tx, pks, kex.pkId)
        if (pk === undefined)
          throw new DecryptionError(
            'OMEMO-KEX',
            `no pre key ${kex.pkId} (a key exchange needs an unused one-time pre key)`,
          )
        const accepted = await acceptKeyExchange(
          crypto,
          own.identity,
          kex,
          { spk, pkPriv: pk.priv },
          ratchetLimits,
        )
        session = accepted.session
        keyMaterial = accepted.plaintext
        const used = await state.usePreKey(tx, pks, kex.pkId, {
          fromCatchUp: options.fromCatchUp === true,
          refillThreshold,
          nextId: own.nextPreKeyId,
          refill: (left, next) => state.fillPreKeys(left, next),
        })
        if (used.nextId !== own.nextPreKeyId) await state.saveOwn(tx, { ...own, nextPreKeyId: used.nextId })
        bundleChanged = used.bundleChanged
        if (known === undefined) await state.saveDevice(tx, sender, m.sid, { ik: kex.ik })
        // a new session with this device: its key is reported (ATM keeps the level of a key it has)
        learned = keyIdFromBytes(kex.ik)
      }
      // answer every key exchange with an empty message (XEP-0384 §"Key exchange")
      await state.oweEmpty(tx, sender, m.sid)
    } else {
      const existing = await state.session(tx, sender, m.sid)
      if (existing === undefined)
        throw new DecryptionError('OMEMO-NO-SESSION', `no session with ${sender}/${m.sid}`)
      keyMaterial = await sessionDecrypt(crypto, existing, key.data, ratchetLimits)
      session = existing
    }
    if (session.ratchet.receivedSinceSend >= heartbeatAfter) await state.oweEmpty(tx, sender, m.sid)
    await state.saveSession(tx, sender, m.sid, session)
    const senderKey = keyIdFromBytes(session.peerIk)
    const learnedKeys = learned === undefined ? undefined : [learned]

    if (m.payload === undefined) {
      // XEP-0384 §"Empty OMEMO messages": the ratchet carries 32 zero bytes and nothing else. A
      // real message whose <payload/> was stripped (by a server) carries other key material: it
      // is rejected and the ratchet step is not committed, so the genuine copy still decrypts.
      if (!bytesEqual(keyMaterial, EMPTY_KEY_MATERIAL))
        throw new DecryptionError(
          'OMEMO-PAYLOAD',
          'a message without <payload/> whose key material is not that of an empty message',
        )
      return {
        kind: 'empty',
        senderJid: sender,
        senderKey,
        senderDeviceId: m.sid,
        keyExchange: key.kex,
        bundleChanged,
        ...(learnedKeys === undefined ? {} : { learnedKeys }),
      }
    }
    const plaintext = decryptPayload(crypto, m.payload, keyMaterial)
    let opened: ReturnType<typeof openEnvelope>
    try {
      // XEP-0384 v0.9.1's SCE profile for chat (<rpad/> MUST; <time/>, <from/>, <to/> checked
      // when present; <to/> MUST in group chats), then, for a trust message, every affix
      // XEP-0434/0450 require (TM-17 … TM-20; D-9: a trust message without <time/> has no order)
      opened = openEnvelope(parseXml(td.decode(plaintext)), {
        stanzaFrom: sender,
        stanzaTo: expectedTo,
        now,
        window: sceWindow,
        profile: (content) =>
          holdsTrustMessage(content)
            ? TRUST_MESSAGE_PROFILE
            : options.groupChat === true
              ? OMEMO2_GROUPCHAT_PROFILE
              : OMEMO2_CHAT_PROFILE,
      })
    } catch (e) {
      if (isVouchError(e) && e.name !== 'LimitExceededError')
        throw new DecryptionError(e.rule ?? 'SCE', `the SCE envelope is rejected: ${e.message}`, {
          cause: e,
        })
      throw e
    }
    const content = {
      content: opened.content,
      payload: opened.content.children.filter((c): c is Element => typeof c !== 'string'),
      senderJid: sender,
      ...(senderFullJid === undefined ? {} : { senderFullJid }),
      carrier: NS_OMEMO2,
      encrypted: true,
      mode: 'signcrypt' as const,
      ...(opened.time === undefined ? {} : { time: opened.time }),
      to: opened.to === undefined ? [] : [opened.to],
      rpadLength: opened.rpadLength,
      affixes: opened.affixes,
      signed: true as const,
      senderKey,
      ...(learnedKeys === undefined ? {} : { learnedKeys }),
    }
    return { kind: 'content', content, senderDeviceId: m.sid, keyExchange: key.kex, bundleChanged }
  }, options.store)
}

/**
 * A `<trust-message/>` anywhere among the content's children, whatever its namespace: the
 * receive pipeline treats every element of that name as one (and parses it strictly), so the
 * strict profile applies to exactly what it would apply.
 */
function holdsTrustMessage(content: Element): boolean {
  return content.children.some((c) => typeof c !== 'string' && c.name === 'trust-message')
}

/** {@link decryptMessage} as `EncryptionBackend.decrypt`: an empty message is `sessionOnly`. */
export async function decryptContent(
  state: OmemoState,
  el: Element,
  stanza: StanzaAddressing,
  options: DecryptOptions,
  window: TimeWindow,
): Promise<DecryptedContent> {
  const r = await decryptMessage(state, el, stanza, options, window)
  if (r.kind === 'content') return r.content
  // an empty message (heartbeat or key exchange answer) only advanced the session
  return {
    content: new Element('content', { xmlns: NS_SCE }),
    payload: [],
    senderJid: r.senderJid,
    carrier: NS_OMEMO2,
    encrypted: true,
    mode: 'signcrypt',
    signed: true,
    senderKey: r.senderKey,
    sessionOnly: true,
    ...(r.learnedKeys === undefined ? {} : { learnedKeys: r.learnedKeys }),
  }
}
