/**
 * @packageDocumentation
 * `@vouch/xmpp`: trust management (XEP-0434 Trust Messages, XEP-0450 ATM) and encryption
 * backends on a real `@xmpp/client` connection. Carbons (XEP-0280), MAM catch-up (XEP-0313,
 * paged), PEP publish/fetch with publish-options and `+notify` (XEP-0060/0163), disco and caps
 * (XEP-0030/0115), deduplication by XEP-0359 ids, stream resumption (XEP-0198) without losing
 * or applying a decision twice.
 */
export type {
  MessageSource,
  ReceivedChat,
  SentMessage,
  SyncFailure,
  VouchXmpp,
  VouchXmppEventName,
  VouchXmppEvents,
  VouchXmppInit,
} from './binding.ts'
export { SyncError, vouchXmpp } from './binding.ts'
export type { Contact, ContactEvents, Contacts, KeysNotVisibleReason, Subscription } from './roster.ts'
export { isAccessDenied, KeysNotVisibleError, NS_ROSTER, readRosterItem, seesContact } from './roster.ts'
export type { HeldMessage } from './held.ts'
export { MAX_ATTEMPTS as MAX_HELD_ATTEMPTS, MAX_HELD, readHeld } from './held.ts'
export type { ConnectInit } from './connect.ts'
export {
  AuthenticationError,
  ConnectionClosedError,
  createClient,
  ServerUnreachableError,
  startClient,
  stopClient,
} from './connect.ts'
export type { StanzaLimits } from './stream-parser.ts'
export { DEFAULT_STANZA_LIMITS, stanzaLimitError } from './stream-parser.ts'
export type { KeyDirectory, PepAccess } from '@vouch/tm-core'
export { pepAccess } from './key-directory.ts'
export {
  NS_CAPS,
  NS_CARBONS,
  NS_DISCO_INFO,
  NS_MAM,
  NS_PUBSUB,
  NS_PUBSUB_EVENT,
  NS_REGISTER,
  NS_RSM,
  NS_SID,
} from './namespaces.ts'
export type { OutboxEntry } from './state.ts'
export type { ReceiveLimits } from '@vouch/pipeline'
export { DEFAULT_RECEIVE_LIMITS, processedCount } from '@vouch/pipeline'
export { getLastArchiveId, readOutbox, XMPP_STATE_NAMESPACE } from './state.ts'
export type { DiscoIdentity, DiscoInfo } from './xep0030-disco.ts'
export { capsVerification, discoInfoElement, queryDiscoInfo } from './xep0030-disco.ts'
export type { PepEvent, PepItem, PublishOptions } from '@vouch/tm-core'
export { notifyFeature, pepFetch, pepPublish, publishOptionsElement, readPepEvent } from './xep0060-pep.ts'
export { RegistrationError, registerInBand } from './xep0077-register.ts'
export { NS_SM } from './xep0198-sm.ts'
export type { UnwrappedCarbon } from './xep0280-carbons.ts'
export { enableCarbons, unwrapCarbon } from './xep0280-carbons.ts'
export type { ArchivedMessage, MamClient, MamPage, MamQuery } from './xep0313-mam.ts'
export { mamClient } from './xep0313-mam.ts'
export { dedupKeys, originId, originIdElement, stanzaIdBy } from './xep0359-ids.ts'
