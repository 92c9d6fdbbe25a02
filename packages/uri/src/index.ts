/**
 * @packageDocumentation
 * @vouch/uri: XEP-0434 Trust Message URIs (XEP-0147 query trust-message) and QR codes
 */
export {}
