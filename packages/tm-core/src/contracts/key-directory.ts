import type { Element } from '@xmpp/xml'
import type { BareJid, EncryptionNamespace, KeyId } from './ids.ts'
import type { KeyRef } from './trust.ts'

/**
 * The key-directory contract: how an encryption protocol announces its keys over PEP (XEP-0163)
 * and fetches somebody's. Each backend package ships its own directory (e.g. its `./pep` export);
 * the XMPP binding only hands it a {@link PepAccess} and never knows the protocol.
 */

/** One PEP item. */
export interface PepItem {
  readonly id: string
  /** the payload element, `undefined` for a notification without payload */
  readonly payload: Element | undefined
}

/** XEP-0060 node configuration fields sent as publish-options (`pubsub#access_model`, …). */
export type PublishOptions = Readonly<Record<string, string>>

/** A PEP notification (XEP-0060 §7.1.2.1). */
export interface PepEvent {
  readonly from: BareJid
  readonly node: string
  readonly items: readonly PepItem[]
  readonly retracted: readonly string[]
}

/** PEP publish and fetch on the binding's connection. */
export interface PepAccess {
  publish(node: string, id: string, payload: Element, options?: PublishOptions): Promise<void>
  fetch(
    jid: BareJid,
    node: string,
    select?: { readonly id?: string; readonly max?: number },
  ): Promise<PepItem[]>
}

/** The PEP error conditions that mean "not allowed to read this node" (XEP-0060 §6.5.9.x). */
const ACCESS_CONDITIONS: ReadonlySet<string> = new Set([
  'forbidden',
  'not-authorized',
  'presence-subscription-required',
])

/**
 * True when a {@link PepAccess.fetch} rejected because we may not read the node (e.g. its owner
 * shows it to contacts only: the PEP access model `presence`), as opposed to a node that does not
 * exist or any other failure. The error is the binding's IQ error: its `condition`, or an
 * `<error/>` (in `element`, or a child of it) naming the condition.
 */
export function isPepAccessDenied(e: unknown): boolean {
  if (!(e instanceof Error)) return false
  const condition = (e as { condition?: unknown }).condition
  if (typeof condition === 'string' && ACCESS_CONDITIONS.has(condition)) return true
  const element = (e as { element?: Element }).element
  if (element === undefined || typeof element !== 'object' || !Array.isArray(element.children)) return false
  const elements = (el: Element): Element[] => el.children.filter((c): c is Element => typeof c !== 'string')
  const error = element.name === 'error' ? element : elements(element).find((c) => c.name === 'error')
  return (
    error !== undefined &&
    elements(error).some((c) => c.name === 'presence-subscription-required' || c.name === 'not-authorized')
  )
}

/** Key ids a directory learned for an owner (the binding hands them to ATM's `keysDiscovered`). */
export interface DiscoveredKeys {
  readonly owner: BareJid
  readonly keys: readonly KeyId[]
}

/**
 * A key a directory found announced but cannot use, and why: reported to the caller, never
 * dropped silently (e.g. an OX key without the `xmpp:` user id, expired, or not a key at all).
 */
export interface UnusableKey {
  readonly owner: BareJid
  /** the key as its protocol names it (OX: the upper-case v4 fingerprint) */
  readonly key: string
  /** why, starting with the rule id (`OX-UID: the key has no user id "xmpp:carol@localhost"`) */
  readonly reason: string
}

/** What a caller of {@link KeyDirectory.refresh} / `onNotification` wants to hear about. */
export interface KeyDirectoryCallOptions {
  /** called once per announced key that cannot be used */
  readonly onUnusableKey?: (key: UnusableKey) => void
}

export interface KeyDirectory {
  /** the encryption protocol whose keys this directory announces */
  readonly namespace: EncryptionNamespace
  /** PEP nodes we want notifications of (advertised as `node+notify` in disco/caps) */
  readonly notifyNodes: readonly string[]
  /** publishes our own keys (after every fresh session) */
  publishOwn(pep: PepAccess): Promise<void>
  /**
   * Fetches and imports `owner`'s announced keys; resolves to the usable key ids. A directory
   * stores key material only: which level a new key gets is ATM's decision (`keysDiscovered`).
   */
  refresh(owner: BareJid, pep: PepAccess, options?: KeyDirectoryCallOptions): Promise<readonly KeyId[]>
  /**
   * Optional: called after received messages of this directory's protocol were processed (live,
   * carbon or archive), with a way to send stanzas. OMEMO 2 sends the empty messages the backend
   * owes (key exchange answers, heartbeats) and republishes its bundle once pre keys were used.
   */
  afterMessage?(pep: PepAccess, send: (stanza: Element) => Promise<void>): Promise<void>
  /**
   * Optional: called before a message of this directory's protocol is encrypted, with the keys it
   * may be encrypted for (the recipient's and our own). OMEMO fetches the current bundle of each
   * such device it has no session with yet: a key exchange built on a bundle stored earlier may
   * take a pre key another sender has used since, and the recipient could not read it. Best
   * effort: on any failure the stored key material stays as it was.
   */
  beforeEncrypt?(keys: readonly KeyRef[], pep: PepAccess): Promise<void>
  /**
   * Optional: replaces our sessions with the devices of `keys` (XEP-0384 v0.9 §6: "clients MUST
   * offer a way to manually replace broken sessions"): fetches each device's current bundle,
   * builds a new session on it and sends the empty message that carries the key exchange. On the
   * user's request only, never in reaction to a decryption error (XEP-0384 v0.9 §8). Resolves to
   * the keys whose session was replaced.
   */
  replaceSessions?(
    keys: readonly KeyRef[],
    pep: PepAccess,
    send: (stanza: Element) => Promise<void>,
  ): Promise<readonly KeyRef[]>
  /** a notification of one of {@link notifyNodes}: the owner whose keys changed, if any */
  onNotification(
    event: PepEvent,
    pep: PepAccess,
    options?: KeyDirectoryCallOptions,
  ): Promise<DiscoveredKeys | undefined>
}
