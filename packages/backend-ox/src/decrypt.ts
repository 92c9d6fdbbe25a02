/**
 * Receiving: every receiver check of OX.md, in order — the element (`OX-XML`, `OX-SIZE`) →
 * decryption with our secret keys (`OX-DECRYPT`, decompressed size `OX-SIZE`) → each signature
 * verified with only the sender's usable keys (`OX-SIGNER`, `OX-KEY`, `OX-SIG`, `OX-TIME`) → the
 * content element (`OX-CONTENT`) and its protection (`OX-SIGNCRYPT`, `OX-SIGN`, `OX-CRYPT`,
 * `OX-MODE`) → `<to/>` (`OX-TO`) → `<time/>` (`OX-TIME`, tm-core's `outsideTimeWindow`) → last,
 * the replay memory (`REPLAY`).
 *
 * OpenPGP.js failures are classified by conditions we check ourselves (which keys hold the
 * issuer key id, the signature packet's creation time, the lookup rules), never by the text of
 * OpenPGP.js's messages; the one exception is the decompression cap, see
 * {@link isDecompressionCapError}.
 */
import type {
  AccountTrustStore,
  BareJid,
  DecryptedContent,
  Element,
  FullJid,
  KeyId,
  StanzaAddressing,
} from '@vouch/tm-core'
import { DecryptionError, LimitExceededError, outsideTimeWindow, parseJid, toBareJid } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import type { PublicKey } from 'openpgp'
import { NS_OX, xmppUserId } from './constants.ts'
import { parseContent } from './content.ts'
import { readOpenpgpElement } from './message.ts'
import type { OxPolicy } from './policy.ts'
import { rememberOnce, replayDigests } from './replay.ts'
import type { CachedKey, OxState } from './state.ts'
import { OPENPGP_CONFIG } from './state.ts'

const decoder = new TextDecoder('utf-8', { fatal: true })

type VerificationResult = openpgp.DecryptMessageResult['signatures'][number]

/** What one call of {@link decryptContent} needs (the options resolved by the backend). */
export interface DecryptRequest {
  readonly policy: OxPolicy
  /** the instance's policy: the replay memory's retention never gets shorter than its window */
  readonly basePolicy: OxPolicy
  readonly maxAgeSeconds: number
  readonly futureSkewSeconds: number
  /** the reference time `<time/>` is checked against */
  readonly ref: Date
  /** the clock (the replay memory's retention runs on it, never on `ref`) */
  readonly clock: Date
  readonly expectedTo?: BareJid | undefined
  readonly allowSignedOnly: boolean
  readonly allowUnsigned: boolean
  /** the caller's transaction, or the account */
  readonly store: AccountTrustStore
}

/** What {@link signer} needs to know about the message. */
interface SignatureContext {
  readonly sender: BareJid
  readonly ref: Date
  readonly verifyAt: Date
  readonly maxAge: number
  readonly skew: number
  readonly config: Partial<openpgp.Config>
  readonly store: AccountTrustStore
}

/**
 * Opens `<openpgp/>` with every receiver check.
 * @throws DecryptionError, LimitExceededError (see the module comment), StoreError
 */
export async function decryptContent(
  state: OxState,
  el: Element,
  stanza: StanzaAddressing,
  req: DecryptRequest,
): Promise<DecryptedContent> {
  const { policy, ref, store } = req
  const maxAge = req.maxAgeSeconds
  const skew = req.futureSkewSeconds
  const window = { maxAgeSeconds: maxAge, futureSkewSeconds: skew }
  const verifyAt = new Date(ref.getTime() + skew * 1000)

  // one parse of `from` gives both its bare and its full form (as toBareJid and parseFullJid would)
  const fromParsed = parseJid(stanza.from, 'OX-SIGNER')
  const sender = (
    fromParsed.local === undefined ? fromParsed.domain : `${fromParsed.local}@${fromParsed.domain}`
  ) as BareJid
  const senderFullJid: FullJid | undefined =
    fromParsed.resource === undefined ? undefined : (`${sender}/${fromParsed.resource}` as FullJid)
  const expectedTo =
    req.expectedTo === undefined ? toBareJid(stanza.to, 'OX-TO') : toBareJid(req.expectedTo, 'OX-TO')

  const bytes = readOpenpgpElement(el, policy.maxMessageBytes)
  let message: openpgp.Message<Uint8Array>
  try {
    message = await openpgp.readMessage({ binaryMessage: bytes, config: OPENPGP_CONFIG })
  } catch (e) {
    throw new DecryptionError('OX-DECRYPT', `not an OpenPGP message: ${(e as Error).message}`, { cause: e })
  }
  const encrypted = message.packets.some(
    (p) =>
      p instanceof openpgp.SymEncryptedIntegrityProtectedDataPacket ||
      p instanceof openpgp.AEADEncryptedDataPacket ||
      p instanceof openpgp.SymmetricallyEncryptedDataPacket,
  )

  // only the sender's usable keys (lookup rules, `xmpp:<sender>`) verify signatures
  const senderKeys = await state.usableKeys(sender, verifyAt, store)
  const verificationKeys = senderKeys.map((k) => k.publicKey)
  const config = { ...OPENPGP_CONFIG, maxDecompressedMessageSize: policy.maxDecompressedBytes }

  let data: Uint8Array
  let signatures: VerificationResult[]
  try {
    if (encrypted) {
      const decryptionKeys = await state.allSecretKeys(store)
      const result = await openpgp.decrypt({
        message,
        decryptionKeys,
        verificationKeys,
        expectSigned: false,
        format: 'binary',
        date: verifyAt,
        config,
      })
      data = result.data as Uint8Array
      signatures = result.signatures
    } else {
      const result = await openpgp.verify({
        message,
        verificationKeys,
        format: 'binary',
        date: verifyAt,
        config,
      })
      data = result.data as Uint8Array
      signatures = result.signatures
    }
  } catch (e) {
    if (isDecompressionCapError(e))
      throw new LimitExceededError(
        'OX-SIZE',
        'decompressed bytes',
        policy.maxDecompressedBytes,
        policy.maxDecompressedBytes + 1,
        { cause: e },
      )
    throw new DecryptionError('OX-DECRYPT', `cannot decrypt: ${(e as Error).message}`, { cause: e })
  }
  // settle every verification promise (an unobserved rejection would crash the process)
  const verdicts = await Promise.allSettled(signatures.map((s) => s.verified))
  const sigPackets = await Promise.allSettled(signatures.map((s) => s.signature))
  if (data.length > policy.maxDecompressedBytes)
    throw new LimitExceededError('OX-SIZE', 'plaintext bytes', policy.maxDecompressedBytes, data.length)

  // the signer is the key whose signature verified, named by its full fingerprint (see signer)
  const signers: CachedKey[] = []
  const ctx: SignatureContext = { sender, ref, verifyAt, maxAge, skew, config, store }
  for (const [i, verdict] of verdicts.entries()) {
    const sig = signatures[i] as VerificationResult
    const packet = sigPackets[i]
    const key = await signer(state, sig, verdict, packet, data, senderKeys, ctx)
    if (!signers.includes(key)) signers.push(key)
    const created = packet?.status === 'fulfilled' ? packet.value.packets[0]?.created : undefined
    if (created instanceof Date) checkTime(created, ref, window, 'the signature creation time')
  }
  const senderKey: KeyId | undefined = signers[0]?.keyId

  let text: string
  try {
    text = decoder.decode(data)
  } catch (e) {
    throw new DecryptionError('OX-CONTENT', 'the content is not UTF-8', { cause: e })
  }
  const content = parseContent(text, { maxChars: policy.maxDecompressedBytes, maxTo: policy.maxEntries })
  const signed = senderKey !== undefined
  if (content.mode === 'signcrypt' && !(encrypted && signed))
    throw new DecryptionError(
      'OX-SIGNCRYPT',
      `<signcrypt/> must be signed and encrypted (signed: ${signed}, encrypted: ${encrypted})`,
    )
  if (content.mode === 'sign' && (encrypted || !signed))
    throw new DecryptionError(
      'OX-SIGN',
      `<sign/> must be signed and not encrypted (signed: ${signed}, encrypted: ${encrypted})`,
    )
  if (content.mode === 'crypt' && (!encrypted || signed))
    throw new DecryptionError(
      'OX-CRYPT',
      `<crypt/> must be encrypted and not signed (signed: ${signed}, encrypted: ${encrypted})`,
    )
  if (content.mode === 'sign' && !req.allowSignedOnly)
    throw new DecryptionError(
      'OX-MODE',
      '<sign/> (not encrypted) is accepted only where allowed (trust messages, TM-14)',
    )
  if (content.mode === 'crypt' && !req.allowUnsigned)
    throw new DecryptionError(
      'OX-MODE',
      '<crypt/> (unsigned) is not accepted here: chat uses <signcrypt/> only (XEP-0374 §3.1)',
    )
  if (content.to.length > 0 && !content.to.includes(expectedTo))
    throw new DecryptionError('OX-TO', `no <to/> names ${expectedTo} (found ${content.to.join(', ')})`)
  checkTime(content.time, ref, window, '<time/>')

  // last: remember the signed message once every check passed (a rejected message is not
  // remembered), in the caller's transaction or one of our own
  if (signers.length > 0) {
    const init = req.basePolicy
    // never shorter than the instance's window: a narrow per-call window prunes nothing early
    const retentionSeconds = Math.max(
      init.maxAgeSeconds + init.maxReferenceAgeSeconds + init.futureSkewSeconds,
      maxAge + policy.maxReferenceAgeSeconds + skew,
    )
    await rememberOnce(
      store,
      content.time,
      replayDigests(
        data,
        signers.map((k) => k.fingerprint),
      ),
      { clock: req.clock, retentionMs: retentionSeconds * 1000, maxEntries: policy.maxReplayEntries },
    )
  }

  const base = {
    content: content.element,
    payload: content.payload,
    senderJid: sender,
    ...(senderFullJid === undefined ? {} : { senderFullJid }),
    carrier: NS_OX,
    encrypted,
    mode: content.mode,
    time: content.time,
    to: content.to,
    rpadLength: content.rpad?.length ?? 0,
  }
  return senderKey === undefined ? { ...base, signed: false } : { ...base, signed: true, senderKey }
}

/** OX-TIME through tm-core's one freshness rule (the same as SCE-1). */
function checkTime(
  t: Date,
  ref: Date,
  window: { readonly maxAgeSeconds: number; readonly futureSkewSeconds: number },
  what: string,
): void {
  const why = outsideTimeWindow(t, ref, window)
  if (why !== undefined)
    throw new DecryptionError('OX-TIME', `${what} ${t.toISOString()} ${why} (stale, replayed or clock skew)`)
}

/**
 * OpenPGP.js 6 rejects a message that inflates past `maxDecompressedMessageSize` with a plain
 * `Error` (it exports no error class or code, and decompresses while parsing, before any hook of
 * ours): this is the one failure still recognised by OpenPGP.js's wording. Pinned to a real
 * decompression bomb by `test/security/openpgp-failure-classes.test.ts`, so an OpenPGP.js update
 * that rewords it fails a test rather than turning OX-SIZE into OX-DECRYPT silently.
 */
export function isDecompressionCapError(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 4; c = c.cause, depth++)
    if (c.message.includes('Maximum decompressed message size exceeded')) return true
  return false
}

/**
 * The key that made one signature, by full fingerprint. Candidates are the sender's usable keys
 * holding a (sub)key with the signature's 64-bit issuer key id (a wildcard id matches all).
 * OpenPGP.js verifies against the first candidate only (`createVerificationObject`): with one
 * candidate that is the signer; with several (a colliding key id, or the same signing key
 * copied into another key), each is verified on its own, so a copy that does not verify
 * cannot shadow the genuine key, and a signature that verifies under two keys is refused
 * rather than credited to whichever sorts first.
 * @throws DecryptionError  OX-SIGNER, OX-KEY, OX-TIME, OX-SIG
 */
async function signer(
  state: OxState,
  sig: VerificationResult,
  verdict: PromiseSettledResult<unknown>,
  packet: PromiseSettledResult<openpgp.Signature> | undefined,
  data: Uint8Array,
  senderKeys: readonly CachedKey[],
  ctx: SignatureContext,
): Promise<CachedKey> {
  const candidates = senderKeys.filter((k) => k.publicKey.getKeys(sig.keyID).length > 0)
  // no usable key of the sender holds the issuer key id (OpenPGP.js had nothing to verify with)
  if (candidates.length === 0) throw await unknownSigner(state, sig, ctx)
  if (candidates.length === 1) {
    if (verdict.status === 'rejected') throw signatureError(verdict.reason, packet, ctx)
    return candidates[0] as CachedKey
  }
  if (packet?.status !== 'fulfilled')
    throw new DecryptionError('OX-SIG', 'invalid signature: the signature packet cannot be read', {
      cause: packet?.status === 'rejected' ? packet.reason : undefined,
    })
  const results = await Promise.allSettled(
    candidates.map((k) => verifyWith(data, packet.value, k.publicKey, ctx.verifyAt, ctx.config)),
  )
  const verified = candidates.filter((_, j) => results[j]?.status === 'fulfilled')
  if (verified.length > 1)
    throw new DecryptionError(
      'OX-SIGNER',
      `the signature verifies under ${verified.length} keys of ${ctx.sender} (${verified.map((k) => k.fingerprint).join(', ')}): which one signed cannot be told`,
    )
  const found = verified[0]
  if (found !== undefined) return found
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
  throw signatureError(failed.reason, packet, ctx)
}

/**
 * No usable key of the sender made the signature: `OX-KEY` when it is one of the sender's keys we
 * hold but may not use (revoked, expired, …), else `OX-SIGNER`.
 */
async function unknownSigner(
  state: OxState,
  sig: VerificationResult,
  ctx: SignatureContext,
): Promise<DecryptionError> {
  const issuer = sig.keyID.toHex().toUpperCase()
  const stale = (await state.knownKeys(ctx.sender, ctx.ref, ctx.store)).find(
    (k) => !k.status.usable && k.info.fingerprint.endsWith(issuer),
  )
  if (stale !== undefined && !stale.status.usable)
    return new DecryptionError(
      'OX-KEY',
      `signed by ${ctx.sender}'s key ${stale.info.fingerprint}, which is ${stale.status.reason}`,
    )
  return new DecryptionError(
    'OX-SIGNER',
    `the signature (key ${sig.keyID.toHex()}) is not by a key of ${ctx.sender} carrying "${xmppUserId(ctx.sender)}"`,
  )
}

/**
 * A signature of one of the sender's usable keys that did not verify: `OX-TIME` when its creation
 * time lies after the window (OpenPGP.js refuses a signature dated after `verifyAt`), else
 * `OX-SIG`. OpenPGP.js's message is kept for the reader only.
 */
function signatureError(
  reason: unknown,
  packet: PromiseSettledResult<openpgp.Signature> | undefined,
  ctx: SignatureContext,
): DecryptionError {
  const created = packet?.status === 'fulfilled' ? packet.value.packets[0]?.created : undefined
  if (created instanceof Date && created.getTime() > ctx.verifyAt.getTime()) {
    const why = outsideTimeWindow(created, ctx.ref, {
      maxAgeSeconds: ctx.maxAge,
      futureSkewSeconds: ctx.skew,
    })
    if (why !== undefined)
      return new DecryptionError('OX-TIME', `the signature creation time ${created.toISOString()} ${why}`, {
        cause: reason,
      })
  }
  return new DecryptionError('OX-SIG', `invalid signature: ${(reason as Error)?.message ?? String(reason)}`, {
    cause: reason,
  })
}

/**
 * Verifies `signature` over `data` against `key` alone (a detached verification over the signed
 * literal data; the signature's type decides text or binary hashing, as in the message).
 */
async function verifyWith(
  data: Uint8Array,
  signature: openpgp.Signature,
  key: PublicKey,
  date: Date,
  config: Partial<openpgp.Config>,
): Promise<void> {
  const message = await openpgp.createMessage({ binary: data })
  const { signatures } = await openpgp.verify({
    message,
    signature,
    verificationKeys: [key],
    format: 'binary',
    date,
    config,
  })
  const [only, ...more] = signatures
  if (only === undefined || more.length > 0) throw new Error('expected exactly one signature')
  await only.verified
}
