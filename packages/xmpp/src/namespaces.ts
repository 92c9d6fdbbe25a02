/**
 * Namespaces of the XEPs this package speaks, each with the version implemented.
 */
/** XEP-0030: Service Discovery — v2.5rc3 */
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
/** XEP-0115: Entity Capabilities — v1.6.0 (`+notify` features reach the server through caps) */
export const NS_CAPS = 'http://jabber.org/protocol/caps'
/** XEP-0280: Message Carbons — v1.0.1 */
export const NS_CARBONS = 'urn:xmpp:carbons:2'
/** XEP-0297: Stanza Forwarding — v1.0 */
export const NS_FORWARD = 'urn:xmpp:forward:0'
/** XEP-0203: Delayed Delivery — v2.0 */
export const NS_DELAY = 'urn:xmpp:delay'
/** XEP-0313: Message Archive Management — v1.1.1 (`urn:xmpp:mam:2`) */
export const NS_MAM = 'urn:xmpp:mam:2'
/** XEP-0059: Result Set Management — v1.0 */
export const NS_RSM = 'http://jabber.org/protocol/rsm'
/** XEP-0004: Data Forms — v2.13.1 */
export const NS_DATA_FORMS = 'jabber:x:data'
/** XEP-0060: Publish-Subscribe — v1.26.0; XEP-0163: PEP — v1.2.2 */
export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub'
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event'
export const NS_PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors'
export const PUBLISH_OPTIONS_FORM_TYPE = 'http://jabber.org/protocol/pubsub#publish-options'
/** XEP-0359: Unique and Stable Stanza IDs — v0.7.0 */
export const NS_SID = 'urn:xmpp:sid:0'
/** XEP-0077: In-Band Registration — v2.4 */
export const NS_REGISTER = 'jabber:iq:register'
/** XEP-0334: Message Processing Hints — v0.3.0 */
export const NS_HINTS = 'urn:xmpp:hints'
/** XEP-0380: Explicit Message Encryption — v0.4.0 */
export const NS_EME = 'urn:xmpp:eme:0'
/** RFC 6120 stanza error conditions */
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'
