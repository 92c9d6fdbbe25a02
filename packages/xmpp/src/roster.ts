/**
 * RFC 6121: XMPP Instant Messaging and Presence — the roster (§2) and presence subscriptions (§3).
 * https://www.rfc-editor.org/rfc/rfc6121
 *
 * Deployed clients (Conversations, Dino, Gajim, Profanity) publish their key nodes with the PEP
 * access model `presence`: only an account with a presence subscription to them may read their
 * keys. So a contact, here, is what lets us read somebody's keys:
 *
 * - `add(jid)`: a roster item (§2.3) and a subscription request (§3.1.1, `subscribe`), plus a
 *   pre-approval of theirs (§3.4, `subscribed`): adding somebody means agreeing to be theirs too;
 * - `remove(jid)`: the roster item with `subscription='remove'` (§2.5), which also cancels both
 *   subscriptions;
 * - an incoming request (`subscribe`) asks the app (`subscription-request`, with `approve` and
 *   `refuse`), or is approved at once with `autoApprove`; `approve` answers `subscribed`
 *   (§3.1.4), `refuse` answers `unsubscribed` (§3.1.5);
 * - roster pushes (§2.1.6) are accepted only from our own account (no `from`, or our bare JID),
 *   answered with a result and reported as `contact-changed`;
 * - `subscribed` from a contact (our request approved) is reported, and the binding then fetches
 *   that contact's keys.
 */
import type { BareJid, EncryptionNamespace } from '@vouch/tm-core'
import { isPepAccessDenied } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import xml, { type Element } from '@xmpp/xml'
import { bareOf, childElements } from './util.ts'

/** `jabber:iq:roster` (RFC 6121 §2) */
export const NS_ROSTER = 'jabber:iq:roster'

/** RFC 6121 §2.1.2.5: who sees whose presence. `to`: we see theirs; `from`: they see ours. */
export type Subscription = 'none' | 'to' | 'from' | 'both'

/** One roster item. */
export interface Contact {
  readonly jid: BareJid
  readonly name: string | undefined
  readonly subscription: Subscription
  /** our subscription request waits for their answer (`ask='subscribe'`) */
  readonly pending: boolean
  readonly groups: readonly string[]
}

/** True when we may read what `contact` shows to contacts only (its presence, its PEP nodes). */
export const seesContact = (c: Contact | undefined): boolean =>
  c !== undefined && (c.subscription === 'to' || c.subscription === 'both')

/** The roster and the presence subscriptions of the account (see the module doc). */
export interface Contacts {
  /** the roster (RFC 6121 §2.2); cached after the first call, kept current by roster pushes */
  list(): Promise<readonly Contact[]>
  /** one roster item, or `undefined` */
  get(jid: BareJid): Promise<Contact | undefined>
  /** adds (or renames) `jid`, asks for its presence subscription and pre-approves its request */
  add(jid: BareJid, options?: { readonly name?: string }): Promise<void>
  /** removes `jid` from the roster (cancels the subscriptions both ways) */
  remove(jid: BareJid): Promise<void>
  /** asks `jid` for a presence subscription again (`subscribe`) */
  requestSubscription(jid: BareJid): Promise<void>
  /** approves `jid`'s subscription request (or pre-approves one) */
  approve(jid: BareJid): Promise<void>
  /** refuses `jid`'s subscription request (or cancels a subscription we granted) */
  refuse(jid: BareJid): Promise<void>
  /** subscription requests received in this session and not answered yet */
  pendingRequests(): readonly BareJid[]
}

/** Events of the contacts part (the binding re-emits them). */
export interface ContactEvents {
  /** somebody asks for our presence (and with it, our contacts-only keys) */
  'subscription-request': {
    readonly from: BareJid
    /** already approved by `autoApprove` (told, not asked) */
    readonly autoApproved: boolean
    readonly approve: () => Promise<void>
    readonly refuse: () => Promise<void>
  }
  /** a contact answered our request: `approved` (`subscribed`) or `refused` (`unsubscribed`) */
  'subscription-answer': { readonly from: BareJid; readonly approved: boolean }
  /** a roster item changed (roster push); `removed` when it left the roster */
  'contact-changed': { readonly contact: Contact; readonly removed: boolean }
}

export interface ContactsInit {
  readonly account: BareJid
  /** approve every incoming subscription request, or decide per requester; default: ask the app */
  readonly autoApprove?: boolean | ((from: BareJid) => boolean)
  readonly emit: <E extends keyof ContactEvents>(event: E, payload: ContactEvents[E]) => void
  /** where failures of background work go (an automatic approval that could not be sent) */
  readonly fail: (e: unknown) => void
}

const SUBSCRIPTIONS: ReadonlySet<string> = new Set(['none', 'to', 'from', 'both'])

/** Reads a roster `<item/>`; `undefined` for an item that is not one (no valid JID). */
export function readRosterItem(item: Element): (Contact & { readonly removed: boolean }) | undefined {
  const jid = bareOf(item.attrs.jid as string | undefined)
  if (jid === undefined) return undefined
  const sub = String(item.attrs.subscription ?? 'none')
  const groups = childElements(item)
    .filter((g) => g.name === 'group')
    .map((g) => g.text())
  return {
    jid,
    name: typeof item.attrs.name === 'string' && item.attrs.name !== '' ? item.attrs.name : undefined,
    subscription: SUBSCRIPTIONS.has(sub) ? (sub as Subscription) : 'none',
    pending: item.attrs.ask === 'subscribe',
    groups,
    removed: sub === 'remove',
  }
}

/** Installs the roster-push responder and the subscription presence handler on `xmpp`. */
export function contactsOf(
  xmpp: Client,
  init: ContactsInit,
): { contacts: Contacts; reset(): void; load(): Promise<void>; close(): void } {
  const { account, emit } = init
  let roster: Map<BareJid, Contact> | undefined
  const requests = new Set<BareJid>()
  /** the last answer reported per contact (a presence and a roster push may both tell it) */
  const answered = new Map<BareJid, boolean>()
  let closed = false
  const answer = (from: BareJid, approved: boolean): void => {
    if (closed || answered.get(from) === approved) return
    answered.set(from, approved)
    emit('subscription-answer', { from, approved })
  }

  async function load(): Promise<Map<BareJid, Contact>> {
    if (roster !== undefined) return roster
    const res = await xmpp.iqCaller.get(xml('query', { xmlns: NS_ROSTER }))
    const map = new Map<BareJid, Contact>()
    for (const item of res === undefined ? [] : childElements(res)) {
      if (item.name !== 'item') continue
      const c = readRosterItem(item)
      if (c !== undefined && !c.removed) map.set(c.jid, strip(c))
    }
    roster = map
    return map
  }
  const strip = (c: Contact & { readonly removed?: boolean }): Contact => ({
    jid: c.jid,
    name: c.name,
    subscription: c.subscription,
    pending: c.pending,
    groups: c.groups,
  })

  const presence = (to: BareJid, type: string): Promise<void> => xmpp.send(xml('presence', { to, type }))

  // RFC 6121 §2.1.6: a push is taken only without `from` or from our bare JID (the server);
  // anything else (another entity, even another resource of ours) is refused and changes nothing
  xmpp.iqCallee.set(NS_ROSTER, 'query', (ctx: { stanza: Element; element: Element }) => {
    const from = ctx.stanza.attrs.from as string | undefined
    if (from !== undefined && from !== '' && from !== account)
      return xml(
        'error',
        { type: 'cancel' },
        xml('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'),
      )
    for (const item of childElements(ctx.element)) {
      if (item.name !== 'item') continue
      const c = readRosterItem(item)
      if (c === undefined) continue
      // the roster push is what the server always sends when a subscription changes (the
      // `subscribed` presence may not reach us, e.g. when the contact approved at once)
      const before = roster?.get(c.jid)
      if (!c.removed && before !== undefined && !seesContact(before) && seesContact(c)) answer(c.jid, true)
      if (!c.removed && before?.pending === true && !c.pending && !seesContact(c)) answer(c.jid, false)
      if (c.removed) roster?.delete(c.jid)
      else roster?.set(c.jid, strip(c))
      if (!closed) emit('contact-changed', { contact: strip(c), removed: c.removed })
    }
    return true
  })

  const approve = async (jid: BareJid): Promise<void> => {
    requests.delete(jid)
    await presence(jid, 'subscribed')
  }
  const refuse = async (jid: BareJid): Promise<void> => {
    requests.delete(jid)
    await presence(jid, 'unsubscribed')
  }

  const onPresence = (stanza: Element): void => {
    if (closed) return
    const type = stanza.attrs.type as string | undefined
    const from = bareOf(stanza.attrs.from as string | undefined)
    if (from === undefined || from === account) return
    if (type === 'subscribe') {
      const auto = init.autoApprove
      const request = { from, approve: () => approve(from), refuse: () => refuse(from) }
      if (auto === true || (typeof auto === 'function' && auto(from))) {
        approve(from).catch(init.fail)
        emit('subscription-request', { ...request, autoApproved: true })
        return
      }
      requests.add(from)
      emit('subscription-request', { ...request, autoApproved: false })
    } else if (type === 'subscribed' || type === 'unsubscribed') answer(from, type === 'subscribed')
  }
  const onStanza = (s: Element): void => {
    if (s.name === 'presence') onPresence(s)
  }
  xmpp.on('stanza', onStanza)

  const contacts: Contacts = {
    list: async () => [...(await load()).values()],
    get: async (jid) => (await load()).get(jid),
    async add(jid, options = {}) {
      const item = xml('item', options.name === undefined ? { jid } : { jid, name: options.name })
      await xmpp.iqCaller.set(xml('query', { xmlns: NS_ROSTER }, item))
      answered.delete(jid)
      await presence(jid, 'subscribe')
      await approve(jid)
    },
    async remove(jid) {
      await xmpp.iqCaller.set(
        xml('query', { xmlns: NS_ROSTER }, xml('item', { jid, subscription: 'remove' })),
      )
      roster?.delete(jid)
      requests.delete(jid)
    },
    requestSubscription: (jid) => {
      answered.delete(jid)
      return presence(jid, 'subscribe')
    },
    approve,
    refuse,
    pendingRequests: () => [...requests],
  }
  return {
    contacts,
    /** a fresh session: the roster is read again when next asked */
    reset() {
      roster = undefined
      requests.clear()
    },
    /** reads the roster now (so that roster pushes can tell what changed) */
    load: () => load().then(() => undefined),
    close() {
      closed = true
      xmpp.removeListener('stanza', onStanza)
    },
  }
}

/**
 * True when `e` is an IQ error saying we may not read a node (e.g. a presence access model):
 * `isPepAccessDenied` of `@vouch/tm-core`, where the key directories read it too.
 */
export const isAccessDenied = isPepAccessDenied

/** Why somebody's keys cannot be read. */
export type KeysNotVisibleReason =
  /** not our contact: their key nodes are for contacts only (PEP access model `presence`) */
  | 'not-a-contact'
  /** we asked to be their contact; they have not answered yet */
  | 'approval-pending'
  /** we are their contact, and still may not read their keys (e.g. a `whitelist` model) */
  | 'not-allowed'

/**
 * `owner`'s key nodes refuse us (`forbidden`): typically they are shown to contacts only (PEP
 * access model `presence`, what Conversations, Dino, Gajim and Profanity use). The message says
 * why and what to do; `reason` tells an app which case it is.
 */
export class KeysNotVisibleError extends Error {
  override readonly name = 'KeysNotVisibleError'
  readonly rule = 'PEP-ACCESS'
  readonly owner: BareJid
  readonly encryption: EncryptionNamespace
  readonly reason: KeysNotVisibleReason
  constructor(
    owner: BareJid,
    encryption: EncryptionNamespace,
    reason: KeysNotVisibleReason,
    options?: ErrorOptions,
  ) {
    super(
      reason === 'not-a-contact'
        ? `${owner} shows its keys to contacts only: add ${owner} as a contact and wait for its approval`
        : reason === 'approval-pending'
          ? `${owner} shows its keys to contacts only, and has not approved our contact request yet`
          : `${owner} does not let us read its keys, although we are its contact`,
      options,
    )
    this.owner = owner
    this.encryption = encryption
    this.reason = reason
  }
}
