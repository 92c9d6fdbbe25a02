/**
 * XEP-0434: Trust Messages — implements v0.6.0 (2021-10-04)
 * https://xmpp.org/extensions/xep-0434.html
 *
 * The namespace table. This module is the ONLY place that knows about older drafts: the codec
 * looks a namespace up here and does what the entry says (key-id encoding, legacy flag), so no
 * other module tests for a legacy namespace by name (TM-ATM.md "Project decisions: Namespaces").
 *
 * History (TM-ATM.md §1): `urn:xmpp:trust-messages:0` (v0.1.0–v0.4.x, hex key ids) →
 * `urn:xmpp:tm:0` (v0.5.x, hex key ids) → `urn:xmpp:tm:1` (v0.6.0, Base64 key ids).
 * SCE (XEP-0420): `urn:xmpp:sce:0` wrapped the payload in `<payload/>` inside an `<envelope/>`
 * (or, in XEP-0434 v0.2–v0.4 and XEP-0450 v0.1–v0.2 examples, inside a root `<content/>`);
 * `urn:xmpp:sce:1` has `<envelope/>` → `<content/>`.
 */
import { InvalidTrustMessageError } from '../contracts/errors.ts'
import type { KeyId } from '../contracts/ids.ts'
import { parseKeyIdBase64, parseKeyIdHex } from '../keyid.ts'
import { clip } from './util.ts'

/** XEP-0434 v0.6.0 §9.2: the trust-message namespace we emit. */
export const NS_TM_1 = 'urn:xmpp:tm:1'
/** XEP-0434 v0.5.x (legacy, hex key ids). */
export const NS_TM_0 = 'urn:xmpp:tm:0'
/** XEP-0434 v0.1.0–v0.4.x (legacy, hex key ids). */
export const NS_TRUST_MESSAGES_0 = 'urn:xmpp:trust-messages:0'
/** XEP-0450 v0.3.0+: the `usage` of trust messages for Automatic Trust Management. */
export const NS_ATM_1 = 'urn:xmpp:atm:1'
/** XEP-0450 v0.1.0–v0.2.x (legacy `usage`). */
export const NS_ATM_0 = 'urn:xmpp:atm:0'
/** XEP-0420 v0.4.0+ Stanza Content Encryption. */
export const NS_SCE_1 = 'urn:xmpp:sce:1'
/** XEP-0420 before v0.4.0 (legacy). */
export const NS_SCE_0 = 'urn:xmpp:sce:0'
/** XEP-0334 Message Processing Hints (`<store/>`, TM-13). */
export const NS_HINTS = 'urn:xmpp:hints'
/** XEP-0380 Explicit Message Encryption. */
export const NS_EME = 'urn:xmpp:eme:0'
/** RFC 6120 client namespace of `<message/>`. */
export const NS_CLIENT = 'jabber:client'
/** RFC 6120 server namespace of `<message/>`. */
export const NS_SERVER = 'jabber:server'

/** How a trust-message namespace encodes key ids, and how to read them. */
export interface TrustMessageNamespace {
  readonly namespace: string
  /** true for namespaces only read behind the `legacy: true` option */
  readonly legacy: boolean
  /** the XEP-0434 versions that used this namespace */
  readonly versions: string
  readonly keyIdEncoding: 'base64' | 'hex'
  /** characters needed to write `bytes` bytes in this encoding (the size cap checked before decoding) */
  readonly encodedLength: (bytes: number) => number
  /**
   * Reads the text of one `<trust/>`/`<distrust/>` (already trimmed, non-empty, within the size
   * cap) into a canonical Base64 key id.
   * @throws InvalidKeyIdError (rule TM-10)
   */
  readonly decodeKeyId: (text: string) => KeyId
  /**
   * TM-5 for a draft that predates the `usage` attribute: the usage a `<trust-message/>` of this
   * namespace means when it has none. Only `urn:xmpp:trust-messages:0` has one (XEP-0434 v0.1.x,
   * before v0.2.0 added `usage`, was written for automatic trust: `urn:xmpp:atm:0`, the usage
   * XEP-0450 v0.1.0 pairs with this namespace). A `usage` attribute that is present always wins.
   */
  readonly impliedUsage?: string
}

// RFC 4648 §4 padded Base64, the grammar of keyid.ts, checked with a linear (non-backtracking)
// pattern plus a length test instead of its backtracking regex and decode/re-encode round trip:
// this is the codec's hot path. Both agree on every input (test/xep0434-fast-paths.test.ts).
const BASE64_SHAPE = /^[A-Za-z0-9+/]+={0,2}$/
/** Base64 digits whose low 4 (resp. 2) bits are zero: the only ones allowed before `==` (`=`). */
const ZERO_LOW_4 = 'AQgw'
const ZERO_LOW_2 = 'AEIMQUYcgkosw048'
const EQ = 61

/** True when `s` is non-empty, padded Base64 (RFC 4648 §4) and canonical (zero padding bits). */
export function isCanonicalBase64(s: string): boolean {
  const n = s.length
  if (n % 4 !== 0 || !BASE64_SHAPE.test(s)) return false
  if (s.charCodeAt(n - 1) !== EQ) return true
  if (s.charCodeAt(n - 2) === EQ) return ZERO_LOW_4.includes(s.charAt(n - 3))
  return ZERO_LOW_2.includes(s.charAt(n - 2))
}

// fast path for valid ids; anything else goes through keyid.ts for the exact typed error
const fromBase64 = (text: string): KeyId =>
  isCanonicalBase64(text) ? (text as KeyId) : parseKeyIdBase64(text, 'TM-10')
const fromHex = (text: string): KeyId => parseKeyIdHex(text, 'TM-10')
const base64Length = (bytes: number): number => Math.ceil(bytes / 3) * 4
const hexLength = (bytes: number): number => bytes * 2

const TM_ENTRIES: readonly TrustMessageNamespace[] = [
  {
    namespace: NS_TM_1,
    legacy: false,
    versions: '0.6.0',
    keyIdEncoding: 'base64',
    encodedLength: base64Length,
    decodeKeyId: fromBase64,
  },
  {
    namespace: NS_TM_0,
    legacy: true,
    versions: '0.5.0–0.5.1',
    keyIdEncoding: 'hex',
    encodedLength: hexLength,
    decodeKeyId: fromHex,
  },
  {
    namespace: NS_TRUST_MESSAGES_0,
    legacy: true,
    versions: '0.1.0–0.4.0',
    keyIdEncoding: 'hex',
    encodedLength: hexLength,
    decodeKeyId: fromHex,
    impliedUsage: NS_ATM_0,
  },
]

/** Every trust-message namespace Vouch knows, current first. */
export const TRUST_MESSAGE_NAMESPACES: ReadonlyMap<string, TrustMessageNamespace> = new Map(
  TM_ENTRIES.map((e) => [e.namespace, Object.freeze(e)]),
)

/** How an SCE namespace nests the encrypted content. */
export interface SceNamespace {
  readonly namespace: string
  readonly legacy: boolean
  /** names of the envelope (root) element */
  readonly envelopeNames: readonly string[]
  /** name of the element whose direct children are the encrypted content (TM-16) */
  readonly contentName: string
}

const SCE_ENTRIES: readonly SceNamespace[] = [
  { namespace: NS_SCE_1, legacy: false, envelopeNames: ['envelope'], contentName: 'content' },
  { namespace: NS_SCE_0, legacy: true, envelopeNames: ['envelope', 'content'], contentName: 'payload' },
]

/** Every SCE namespace Vouch reads, current first. */
export const SCE_NAMESPACES: ReadonlyMap<string, SceNamespace> = new Map(
  SCE_ENTRIES.map((e) => [e.namespace, Object.freeze(e)]),
)

/** Namespaces of a `<message/>` stanza; `undefined` = inherited from the stream (not written). */
export const MESSAGE_NAMESPACES: ReadonlySet<string | undefined> = new Set([undefined, NS_CLIENT, NS_SERVER])

/**
 * The namespace gate (TM-4): the table entry for `namespace`, or a typed error when it is not a
 * trust-message namespace, or is a legacy one and `legacy` is not set.
 * @throws InvalidTrustMessageError (rule TM-4)
 */
export function trustMessageNamespace(namespace: string | undefined, legacy: boolean): TrustMessageNamespace {
  const entry = namespace === undefined ? undefined : TRUST_MESSAGE_NAMESPACES.get(namespace)
  if (entry === undefined)
    throw new InvalidTrustMessageError('TM-4', `namespace "${clip(namespace ?? '')}" is not ${NS_TM_1}`)
  if (entry.legacy && !legacy)
    throw new InvalidTrustMessageError(
      'TM-4',
      `${entry.namespace} is XEP-0434 ${entry.versions}; it is read only with the legacy option`,
    )
  return entry
}

/**
 * The SCE entry for `namespace`, `undefined` when it is not an SCE namespace.
 * @throws InvalidTrustMessageError (rule TM-16) for a legacy SCE namespace without `legacy`
 */
export function sceNamespace(namespace: string | undefined, legacy: boolean): SceNamespace | undefined {
  const entry = namespace === undefined ? undefined : SCE_NAMESPACES.get(namespace)
  if (entry?.legacy && !legacy)
    throw new InvalidTrustMessageError(
      'TM-16',
      `${entry.namespace} is a pre-v0.4.0 SCE draft; it is read only with the legacy option`,
    )
  return entry
}
