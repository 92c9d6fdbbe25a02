/**
 * OMEMO fingerprint URIs of deployed clients: Conversations (`eu.siacs.conversations.utils.XmppUri`,
 * `Account.getShareableUri`) and the clients that follow it (Snikket, Cheogram, blabber.im, Monocles)
 * show a contact's or account's QR code as
 *
 *     xmpp:<bare jid>?omemo-sid-<device id>=<fingerprint>;omemo-sid-<device id>=<fingerprint>…
 *
 * - the path is the account's bare JID;
 * - one pair per device: the account's own device first, then its other devices it verified;
 * - `<fingerprint>` is the OMEMO 0.3 (`eu.siacs.conversations.axolotl`) identity key in lower-case
 *   Base16 *without* the `05` key-type byte (Conversations writes `getFingerprint().substring(2)`
 *   and puts `"05"` back in front when it verifies a scanned code);
 * - pairs are separated by `;` (XEP-0147), there is no query type.
 *
 * The rules this module enforces (ids ours, documented in the README, cited in test names):
 * - CFP-1 the query holds only `omemo-sid-<device id>=<fingerprint>` pairs (strict), at least one.
 * - CFP-2 a device id is decimal, 1 … 2³¹−1, without sign or leading zero (XEP-0384 device ids).
 * - CFP-3 a fingerprint is a 32-byte Curve25519 key in Base16 (either case), optionally with the
 *   `05` prefix; the key id is the 32 bytes without it (D-6).
 * - CFP-4 no device id and no fingerprint twice.
 * Scheme, path and the RFC 5122 checks are those of Trust Message URIs (URI-1, URI-5).
 *
 * A fingerprint URI authenticates: {@link fingerprintUriToTrustUri} turns it into the Trust
 * Message URI it means (every listed key trusted, OMEMO 0.3), which the ATM engine applies with the
 * same URI-3/URI-4 confirmation hook (`atm.applyUri`).
 */
import type { BareJid, KeyId } from '@vouch/tm-core'
import {
  InvalidKeyIdError,
  InvalidUriError,
  keyIdByteLength,
  keyIdToHex,
  LimitExceededError,
  NS_OMEMO_LEGACY,
  parseKeyIdHex,
} from '@vouch/tm-core'
import {
  clip,
  DEFAULT_URI_LIMITS,
  KEY_CHARS,
  ownerJid,
  parseTrustMessageUri,
  pctDecode,
  positiveInteger,
  QUERY_TYPE_TRUST_MESSAGE,
  readXmppUri,
  type TrustMessageUri,
  VALUE_CHARS,
} from './xep0434-uri.ts'

/** Conversations' `XmppUri.OMEMO_URI_PARAM`. */
export const OMEMO_SID_PARAM = 'omemo-sid-'

/** One device of a fingerprint URI. */
export interface FingerprintUriDevice {
  /** XEP-0384 device id (1 … 2³¹−1) */
  readonly deviceId: number
  /** the OMEMO 0.3 key id (D-6: 32-byte Curve25519 key without 0x05), canonical Base64 */
  readonly keyId: KeyId
}

/** A parsed fingerprint URI: one account, its devices' OMEMO 0.3 identity keys. */
export interface FingerprintUri {
  readonly jid: BareJid
  /** always `eu.siacs.conversations.axolotl`: these clients' fingerprints are OMEMO 0.3 keys */
  readonly encryption: typeof NS_OMEMO_LEGACY
  /** in URI order */
  readonly devices: readonly FingerprintUriDevice[]
}

export interface ParseFingerprintUriOptions {
  /**
   * `true` (default): only `omemo-sid-…` pairs (CFP-1), no empty pair, no whitespace, no
   * fragment, no duplicate (CFP-4). `false`: other pairs (`name=…`, `omemo=…`, actions) and empty
   * pairs are ignored, whitespace is removed, a fragment is dropped, a repeated identical pair is
   * merged. Never relaxed: the JID, device id, fingerprint and cap checks, and a device id or
   * fingerprint listed twice with different partners.
   */
  readonly strict?: boolean
  /** The account the caller expects (the chat the scanner was opened from). */
  readonly expectedJid?: string
  /** Default {@link DEFAULT_URI_LIMITS}.maxLength. */
  readonly maxLength?: number
  /** Cap on devices. Default {@link DEFAULT_URI_LIMITS}.maxKeys. */
  readonly maxDevices?: number
}

const MAX_DEVICE_ID = 2 ** 31 - 1
const DEVICE_ID = /^[1-9][0-9]{0,9}$/
const KEY_BYTES = 32

function deviceIdOf(text: string): number {
  const n = DEVICE_ID.test(text) ? Number(text) : Number.NaN
  if (!(n >= 1 && n <= MAX_DEVICE_ID))
    throw new InvalidUriError(
      'CFP-2',
      `device id "${clip(text)}" is not a decimal 1 … 2^31-1 without leading zero`,
    )
  return n
}

function keyIdOf(hex: string): KeyId {
  // Cap before decoding (66 = 05 + 32 bytes).
  if (hex.length > 2 + KEY_BYTES * 2)
    throw new InvalidKeyIdError('CFP-3', `fingerprint "${clip(hex)}" is longer than a 33-byte key`)
  const prefixed = hex.length === 2 + KEY_BYTES * 2
  if (prefixed && hex.slice(0, 2) !== '05')
    throw new InvalidKeyIdError(
      'CFP-3',
      `a 33-byte fingerprint must start with the 05 key type, not ${clip(hex.slice(0, 2))}`,
    )
  const id = parseKeyIdHex(prefixed ? hex.slice(2) : hex, 'CFP-3')
  if (keyIdByteLength(id) !== KEY_BYTES)
    throw new InvalidKeyIdError('CFP-3', `fingerprint "${clip(hex)}" is not a 32-byte Curve25519 key`)
  return id
}

/**
 * Parses a Conversations-style fingerprint URI (`xmpp:<jid>?omemo-sid-<id>=<hex>;…`).
 *
 * @throws LimitExceededError (`LIMIT`) URI longer than `maxLength`, more than `maxDevices` pairs
 * @throws InvalidUriError `URI-1` not `xmpp:`, no query, whitespace or fragment (strict);
 *   `URI-5` authority, path characters, percent-encoding, not `expectedJid`; `CFP-1` a pair that
 *   is not `omemo-sid-…` (strict), an empty pair (strict), a pair without `=`, no fingerprint at
 *   all, a Trust Message URI handed to this parser; `CFP-2` bad device id; `CFP-4` a device id or
 *   fingerprint listed twice
 * @throws InvalidJidError `URI-5` the path is not a bare JID
 * @throws InvalidKeyIdError `CFP-3` fingerprint not Base16 of 32 bytes (or 33 with `05`)
 */
export function parseFingerprintUri(uri: string, options: ParseFingerprintUriOptions = {}): FingerprintUri {
  const strict = options.strict ?? true
  const maxLength = positiveInteger('maxLength', options.maxLength, DEFAULT_URI_LIMITS.maxLength)
  const maxDevices = positiveInteger('maxDevices', options.maxDevices, DEFAULT_URI_LIMITS.maxKeys)
  const { jid, query } = readXmppUri(uri, { strict, maxLength })

  const byDevice = new Map<number, KeyId>()
  const byKey = new Map<KeyId, number>()
  const devices: FingerprintUriDevice[] = []
  for (const segment of query.split(';')) {
    if (segment.length === 0) {
      if (strict) throw new InvalidUriError('CFP-1', 'empty key-value pair (";;", a leading or trailing ";")')
      continue
    }
    const eq = segment.indexOf('=')
    const rawKey = eq === -1 ? segment : segment.slice(0, eq)
    if (strict && !KEY_CHARS.test(rawKey))
      throw new InvalidUriError(
        'CFP-1',
        `character not allowed unencoded in key "${clip(rawKey)}" (XEP-0147)`,
      )
    // Conversations lower-cases keys; so do we (device ids are digits anyway)
    const key = pctDecode(rawKey, 'CFP-1', 'a key').toLowerCase()
    if (key === QUERY_TYPE_TRUST_MESSAGE)
      throw new InvalidUriError(
        'CFP-1',
        'a Trust Message URI, not a fingerprint URI: use parseTrustMessageUri',
      )
    if (!key.startsWith(OMEMO_SID_PARAM)) {
      if (strict)
        throw new InvalidUriError(
          'CFP-1',
          `unknown pair "${clip(key)}": only omemo-sid-<device id>=<fingerprint>`,
        )
      continue
    }
    if (eq === -1) throw new InvalidUriError('CFP-1', `pair "${clip(key)}" has no "=" and no fingerprint`)
    const rawValue = segment.slice(eq + 1)
    if (strict && !VALUE_CHARS.test(rawValue))
      throw new InvalidUriError('CFP-1', `character not allowed unencoded in the value of "${clip(key)}"`)
    if (devices.length + 1 > maxDevices)
      throw new LimitExceededError('LIMIT', 'devices in a fingerprint URI', maxDevices, devices.length + 1)
    const deviceId = deviceIdOf(key.slice(OMEMO_SID_PARAM.length))
    const keyId = keyIdOf(pctDecode(rawValue, 'CFP-3', 'a fingerprint'))
    const sameDevice = byDevice.get(deviceId)
    const sameKey = byKey.get(keyId)
    if (sameDevice !== undefined || sameKey !== undefined) {
      if (!strict && sameDevice === keyId && sameKey === deviceId) continue // the same pair again
      if (sameDevice !== undefined)
        throw new InvalidUriError('CFP-4', `device id ${deviceId} is listed twice`)
      throw new InvalidUriError('CFP-4', `fingerprint ${keyIdToHex(keyId)} is listed for two devices`)
    }
    byDevice.set(deviceId, keyId)
    byKey.set(keyId, deviceId)
    devices.push(Object.freeze({ deviceId, keyId }))
  }
  if (devices.length === 0)
    throw new InvalidUriError('CFP-1', 'no omemo-sid-<device id>=<fingerprint> pair: not a fingerprint URI')
  if (options.expectedJid !== undefined) {
    const expected = ownerJid(options.expectedJid)
    if (expected !== jid)
      throw new InvalidUriError('URI-5', `account "${clip(jid)}" is not the expected "${clip(expected)}"`)
  }
  return Object.freeze({ jid, encryption: NS_OMEMO_LEGACY, devices: Object.freeze(devices) })
}

/**
 * The Trust Message URI a fingerprint URI means (XEP-0450 §Authentication: scanning a code
 * authenticates the keys in it): the account, OMEMO 0.3, every listed key trusted. Hand it to
 * `atm.applyUri(uri, { uriSource, confirm })`: the same confirmation hook (URI-4) as any Trust
 * Message URI, and nothing is stored unless it says yes.
 */
export function fingerprintUriToTrustUri(uri: FingerprintUri): TrustMessageUri {
  return Object.freeze({
    jid: uri.jid,
    encryption: uri.encryption,
    trust: Object.freeze(uri.devices.map((d) => d.keyId)),
    distrust: Object.freeze([]),
  })
}

/** What a scanned `xmpp:` code is: a Trust Message URI, or a deployed client's fingerprint URI. */
export type ScannedUri =
  | { readonly kind: 'trust-message'; readonly uri: TrustMessageUri }
  | { readonly kind: 'fingerprint'; readonly uri: TrustMessageUri; readonly fingerprint: FingerprintUri }

/**
 * Reads a scanned or pasted code of either kind: `?trust-message;…` goes to
 * `parseTrustMessageUri`, `?omemo-sid-…` to {@link parseFingerprintUri}. Either way `uri` is the
 * Trust Message URI to hand to `atm.applyUri`. Strict, with default caps; `expectedJid` as both
 * parsers.
 * @throws the errors of the parser the query selects; `InvalidUriError` `URI-1` for anything else
 */
export function parseScannedUri(text: string, options: { readonly expectedJid?: string } = {}): ScannedUri {
  const { query } = readXmppUri(text, { strict: true, maxLength: DEFAULT_URI_LIMITS.maxLength })
  const first = query.split(';')[0] ?? ''
  const opts = options.expectedJid === undefined ? {} : { expectedJid: options.expectedJid }
  if (first === QUERY_TYPE_TRUST_MESSAGE)
    return { kind: 'trust-message', uri: parseTrustMessageUri(text, opts) }
  if (first.toLowerCase().startsWith(OMEMO_SID_PARAM)) {
    const fingerprint = parseFingerprintUri(text, opts)
    return { kind: 'fingerprint', uri: fingerprintUriToTrustUri(fingerprint), fingerprint }
  }
  throw new InvalidUriError(
    'URI-1',
    'neither a Trust Message URI (?trust-message) nor a fingerprint URI (?omemo-sid-…)',
  )
}
