/**
 * Sending: the XEP-0373 content element (`<signcrypt/>`, `<sign/>`, `<crypt/>` with `<to/>`,
 * `<time/>`, random `<rpad/>`) signed and/or encrypted with OpenPGP.js, to every usable key of the
 * recipients whose trust level is accepted (levels written by ATM, read here) and to our own key.
 */
import type {
  BareJid,
  Element,
  EncryptResult,
  KeyId,
  KeyRef,
  ProtectionMode,
  TrustLevel,
} from '@vouch/tm-core'
import { type OnlyKeys, onlyKeysOf, toBareJid, UntrustedKeyError } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import type { Key, PrivateKey } from 'openpgp'
import { NS_OX } from './constants.ts'
import { buildContent } from './content.ts'
import { openpgpElement } from './message.ts'
import type { CachedKey, OxState } from './state.ts'
import { OPENPGP_CONFIG } from './state.ts'
import { encodeBase64 } from './util.ts'

const encoder = new TextEncoder()

/** What one call of {@link encryptContent} needs. */
export interface EncryptRequest {
  readonly payload: Element | readonly Element[]
  readonly to: readonly BareJid[]
  readonly mode: ProtectionMode
  readonly acceptedLevels: readonly TrustLevel[]
  readonly now: Date
  readonly rpad: string
  readonly onlyKeys?: readonly KeyRef[] | undefined
}

/**
 * A random `<rpad/>` text of a length in `[min, max]`, from one draw of `random` (the first 4
 * bytes give the length, the rest the content).
 */
export function rpadText(random: (n: number) => Uint8Array, min: number, max: number): string {
  const span = max - min + 1
  const r = random(4 + Math.ceil((max * 3) / 4) + 3)
  const n = (min + (((r[0] ?? 0) << 24) | ((r[1] ?? 0) << 16) | ((r[2] ?? 0) << 8) | (r[3] ?? 0))) >>> 0
  const len = min + ((n - min) % span)
  if (len === 0) return ''
  return encodeBase64(r.subarray(4, 4 + Math.ceil((len * 3) / 4) + 3)).slice(0, len)
}

/**
 * Protects the payload for `to` (and us).
 * @throws UntrustedKeyError  a recipient without a usable key at an accepted level
 * @throws InvalidKeyIdError  OX-OWN-KEY (no own key)
 */
export async function encryptContent(state: OxState, req: EncryptRequest): Promise<EncryptResult> {
  const { mode, now } = req
  const recipients = [...new Set(req.to.map((j) => toBareJid(j, 'OX-TO')))]
  const own = await state.requireOwnEntry()
  const content = buildContent({ mode, to: recipients, time: now, payload: req.payload, rpad: req.rpad })
  const message = await openpgp.createMessage({ binary: encoder.encode(content.toString()), date: now })
  if (mode === 'sign') {
    const signed = await openpgp.sign({
      message,
      signingKeys: own.key as PrivateKey,
      format: 'binary',
      date: now,
      config: OPENPGP_CONFIG,
    })
    return { element: openpgpElement(signed), recipients: [] }
  }
  const only = onlyKeysOf(req.onlyKeys, NS_OX, 'OX-TO')
  const selected = await selectRecipients(state, own, recipients, req.acceptedLevels, now, only)
  const encrypted = await openpgp.encrypt({
    message,
    encryptionKeys: selected.keys,
    ...(mode === 'signcrypt' ? { signingKeys: own.key as PrivateKey } : {}),
    format: 'binary',
    date: now,
    config: OPENPGP_CONFIG,
  })
  return { element: openpgpElement(encrypted), recipients: selected.refs }
}

/**
 * Trust-based recipient selection: for every recipient, its usable keys (lookup rules, from the
 * backend state) whose trust level (from the trust store) is accepted; always our own key. A
 * contact with no accepted key is an error (the message would silently not reach it).
 */
async function selectRecipients(
  state: OxState,
  own: CachedKey,
  recipients: readonly BareJid[],
  accepted: readonly TrustLevel[],
  date: Date,
  /** `EncryptOptions.onlyKeys` as `owner keyId` (our own key, shared by our endpoints, stays) */
  only?: OnlyKeys,
): Promise<{ keys: Key[]; refs: KeyRef[] }> {
  const ownId = own.keyId
  const keys: Key[] = [own.publicKey]
  const refs: KeyRef[] = [{ encryption: NS_OX, owner: state.account, keyId: ownId }]
  const acceptedSet = new Set(accepted)
  for (const owner of recipients) {
    const usable = (await state.usableKeys(owner, date)).filter((k) => k.keyId !== ownId)
    const levels = new Map(
      (await state.store.getKeys(NS_OX, { owners: [owner] })).map((r) => [r.keyId, r.level] as const),
    )
    const chosen = usable.filter(
      (k) =>
        acceptedSet.has(levels.get(k.keyId) ?? 'undecided') &&
        (only === undefined || only.has(owner, k.keyId)),
    )
    if (chosen.length === 0 && owner !== state.account) {
      const known = usable[0]?.keyId ?? [...levels.keys()][0] ?? ('' as KeyId)
      throw new UntrustedKeyError(owner, known)
    }
    for (const k of chosen) {
      keys.push(k.key)
      refs.push({ encryption: NS_OX, owner, keyId: k.keyId })
    }
  }
  return { keys, refs }
}
