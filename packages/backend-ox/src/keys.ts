/**
 * OX keys (XEP-0373 v0.7.0 §3.3, §4; OX.md "Keys"): generation in the v4 / RFC 4880 profile,
 * import from every form a key arrives in, minimal export, key ids (D-6) and the lookup rules.
 */
import type { BareJid, KeyId } from '@vouch/tm-core'
import { InvalidKeyIdError, keyIdFromBytes, keyIdToBytes } from '@vouch/tm-core'
import type { Element } from '@vouch/tm-core'
import { hex } from '@scure/base'
import * as openpgp from 'openpgp'
import type { Key, PrivateKey, PublicKey } from 'openpgp'
import { NS_OX, xmppUserId } from './constants.ts'
import { childElements, decodeBase64, nsOf, textOf } from './util.ts'

/** What we say about a key. */
export interface OxKeyInfo {
  /** v4 fingerprint, upper-case hex (40 characters), as in `<pubkey-metadata v4-fingerprint/>` */
  readonly fingerprint: string
  /** the 20 fingerprint bytes as a canonical Base64 key id (D-6) */
  readonly keyId: KeyId
  readonly userIds: readonly string[]
  readonly created: Date
  /** true when the secret key material is present */
  readonly secret: boolean
}

/** Why a key may not be used for `xmpp:<jid>` (the lookup rules). */
export type KeyUnusableReason =
  | 'not-v4'
  | 'revoked'
  | 'expired'
  | 'no-xmpp-user-id'
  | 'no-encryption-key'
  | 'invalid'

export type KeyStatus =
  | { readonly usable: true }
  | { readonly usable: false; readonly reason: KeyUnusableReason; readonly detail: string }

/**
 * A key in any form: binary, ASCII armor, bare Base64, or an XEP-0373 `<pubkey/>` element (whose
 * `<data/>` holds the binary key, or its armor: leniency OX-ARMOR).
 */
export type KeyInput = Uint8Array | string | Element

/**
 * Generates our key: Ed25519 (sign, certify) + Curve25519 (encrypt) in the v4 profile
 * (`curve25519Legacy`, readable by GnuPG 2.2 and Sequoia 0.27), user id `xmpp:<jid>`, no expiry,
 * no passphrase (XEP-0373 §5 shares it through the backup).
 */
export async function generateOxKey(
  jid: BareJid,
  options: { readonly date?: Date } = {},
): Promise<PrivateKey> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: xmppUserId(jid) }],
    keyExpirationTime: 0,
    format: 'object',
    ...(options.date === undefined ? {} : { date: options.date }),
    config: { v6Keys: false, aeadProtect: false },
  })
  return privateKey
}

/** Upper-case hex v4 fingerprint. */
export function fingerprintOf(key: Key): string {
  return key.getFingerprint().toUpperCase()
}

/**
 * The key id of a v4 fingerprint (40 hex digits, any case): its 20 bytes in Base64 (D-6).
 * @throws InvalidKeyIdError  OX-FPR
 */
export function fingerprintToKeyId(fingerprint: string): KeyId {
  if (!/^[0-9A-Fa-f]{40}$/.test(fingerprint))
    throw new InvalidKeyIdError(
      'OX-FPR',
      `"${fingerprint.slice(0, 48)}" is not a v4 fingerprint (40 hex digits)`,
    )
  return keyIdFromBytes(hex.decode(fingerprint.toLowerCase()))
}

/**
 * The upper-case hex fingerprint of an OX key id.
 * @throws InvalidKeyIdError  TM-11: not 20 bytes
 */
export function keyIdToFingerprint(keyId: KeyId): string {
  const bytes = keyIdToBytes(keyId)
  if (bytes.length !== 20)
    throw new InvalidKeyIdError('TM-11', `an OX key id holds 20 bytes (v4 fingerprint), got ${bytes.length}`)
  return hex.encode(bytes).toUpperCase()
}

/** The key id of a key (D-6). */
export function keyIdOf(key: Key): KeyId {
  return fingerprintToKeyId(key.getFingerprint())
}

export function keyInfo(key: Key): OxKeyInfo {
  return {
    fingerprint: fingerprintOf(key),
    keyId: keyIdOf(key),
    userIds: key.getUserIDs(),
    created: key.getCreationTime(),
    secret: key.isPrivate(),
  }
}

/**
 * Reads every key in `input`.
 * @throws InvalidKeyIdError  OX-KEY: not an OpenPGP key (or not a `<pubkey/>` payload)
 */
export async function readOxKeys(input: KeyInput): Promise<Key[]> {
  let keys: Key[]
  try {
    if (input instanceof Uint8Array) keys = await openpgp.readKeys({ binaryKeys: input })
    else if (typeof input === 'string') {
      const text = input.trim()
      if (text.startsWith('-----BEGIN PGP')) keys = await openpgp.readKeys({ armoredKeys: text })
      else {
        const bytes = decodeBase64(text)
        if (bytes === undefined) throw new Error('neither ASCII armor nor Base64')
        keys = await openpgp.readKeys({ binaryKeys: bytes })
      }
    } else {
      const bytes = readPubkeyElement(input)
      const armor = armoredPublicKey(bytes)
      // the same keys either way: every check after reading is the binary key's
      keys =
        armor === undefined
          ? await openpgp.readKeys({ binaryKeys: bytes })
          : await openpgp.readKeys({ armoredKeys: armor })
    }
  } catch (e) {
    if (e instanceof Error && e.name === 'InvalidKeyIdError') throw e
    throw new InvalidKeyIdError('OX-KEY', `not an OpenPGP key: ${(e as Error).message}`, { cause: e })
  }
  if (keys.length === 0) throw new InvalidKeyIdError('OX-KEY', 'no OpenPGP key in the input')
  return keys
}

const ARMOR_HEADER = '-----BEGIN PGP PUBLIC KEY BLOCK-----'

/**
 * Leniency OX-ARMOR: the ASCII armor of a public key where XEP-0373 §4.1 has the binary key, as
 * deployed clients publish it (Profanity 0.13.1's `/ox announce` Base64-encodes the file it is
 * given, and users give it `gpg --armor --export`). GnuPG reads both. The armored text when
 * `bytes` is one (ASCII, starting with the public-key armor header after optional whitespace),
 * else `undefined` (binary, read as such). Never written: we publish the binary key.
 */
export function armoredPublicKey(bytes: Uint8Array): string | undefined {
  let i = 0
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)
  )
    i++
  if (bytes.length - i < ARMOR_HEADER.length) return undefined
  for (let j = 0; j < ARMOR_HEADER.length; j++)
    if (bytes[i + j] !== ARMOR_HEADER.charCodeAt(j)) return undefined
  for (const b of bytes)
    if (b > 0x7e || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) return undefined
  return new TextDecoder().decode(bytes) // ASCII, checked above
}

/**
 * The key bytes of a `<pubkey xmlns='urn:xmpp:openpgp:0'><data>B64</data></pubkey>` element (the
 * binary key, or the armored text of leniency OX-ARMOR: {@link readOxKeys} reads both).
 * @throws InvalidKeyIdError  OX-KEY
 */
export function readPubkeyElement(el: Element): Uint8Array {
  if (el.name !== 'pubkey' || nsOf(el) !== NS_OX)
    throw new InvalidKeyIdError(
      'OX-KEY',
      `expected <pubkey xmlns='${NS_OX}'/>, got <${el.name.slice(0, 40)}/>`,
    )
  const data = childElements(el).filter((c) => c.name === 'data' && nsOf(c, NS_OX) === NS_OX)
  if (data.length !== 1 || data[0] === undefined)
    throw new InvalidKeyIdError('OX-KEY', `<pubkey/> needs exactly one <data/>, found ${data.length}`)
  const bytes = decodeBase64(textOf(data[0]))
  if (bytes === undefined || bytes.length === 0)
    throw new InvalidKeyIdError('OX-KEY', '<data/> is not Base64')
  return bytes
}

/**
 * The lookup rules (OX.md "Keys", XEP-0373 remarks): a v4 key, not revoked, not expired, with a
 * valid (self-certified, not revoked) user id `xmpp:<jid>` and an encryption-capable (sub)key,
 * all at `date`.
 */
export async function keyStatus(key: Key, jid: BareJid, date: Date = new Date()): Promise<KeyStatus> {
  if (key.keyPacket.version !== 4)
    return { usable: false, reason: 'not-v4', detail: `a v${key.keyPacket.version} key (OX needs v4)` }
  try {
    await key.verifyPrimaryKey(date)
  } catch (e) {
    // classified by the conditions OpenPGP.js checks, in its order, never by its wording
    const msg = (e as Error).message
    if (await key.isRevoked(undefined, undefined, date).catch(() => false))
      return { usable: false, reason: 'revoked', detail: msg }
    const primaryUser = await key.getPrimaryUser(date).then(
      () => true,
      () => false,
    )
    // the primary user may be another user id, invalid at `date`: the xmpp: one is checked below
    if (primaryUser) {
      const expires = await key.getExpirationTime().catch(() => null)
      if (expires instanceof Date && expires.getTime() <= date.getTime())
        return { usable: false, reason: 'expired', detail: msg }
      return { usable: false, reason: 'invalid', detail: msg }
    }
  }
  const uid = xmppUserId(jid)
  const users = key.users.filter((u) => u.userID?.userID === uid)
  let certified = false
  let detail = `no user id "${uid}"`
  for (const user of users) {
    try {
      await user.verify(date)
      certified = true
      break
    } catch (e) {
      detail = `user id "${uid}": ${(e as Error).message}`
    }
  }
  if (!certified) return { usable: false, reason: 'no-xmpp-user-id', detail }
  try {
    await key.getEncryptionKey(undefined, date)
  } catch (e) {
    return { usable: false, reason: 'no-encryption-key', detail: (e as Error).message }
  }
  return { usable: true }
}

/**
 * The minimal public key for PEP (XEP-0373 §4.1, remarks "export-minimal"): the primary key and
 * its revocations and direct signatures, only the `xmpp:<jid>` user id with its self
 * certifications (no third-party signatures, no other user ids or attributes) and the subkeys
 * with their bindings and revocations.
 * @throws InvalidKeyIdError  OX-UID: the key has no `xmpp:<jid>` user id
 */
export function minimalPublicKey(key: Key, jid: BareJid): PublicKey {
  const pub = key.isPrivate() ? key.toPublic() : (key as PublicKey)
  const uid = xmppUserId(jid)
  const users = pub.users.filter((u) => u.userID?.userID === uid)
  if (users.length === 0) throw new InvalidKeyIdError('OX-UID', `the key has no user id "${uid}"`)
  const list = new openpgp.PacketList<openpgp.AnyPacket>()
  list.push(pub.keyPacket)
  for (const s of pub.revocationSignatures) list.push(s)
  for (const s of (pub as unknown as { directSignatures?: openpgp.SignaturePacket[] }).directSignatures ?? [])
    list.push(s)
  for (const u of users) {
    if (u.userID !== null) list.push(u.userID)
    for (const s of u.revocationSignatures) list.push(s)
    for (const s of u.selfCertifications) list.push(s)
  }
  for (const sub of pub.subkeys) {
    list.push(sub.keyPacket)
    for (const s of sub.revocationSignatures) list.push(s)
    for (const s of sub.bindingSignatures) list.push(s)
  }
  return new openpgp.PublicKey(list)
}
