/**
 * @packageDocumentation
 * @vouch/backend-ox: OpenPGP for XMPP (XEP-0373/0374) encryption backend on openpgp.js
 */
export {}
