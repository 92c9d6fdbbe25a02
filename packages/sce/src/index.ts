/**
 * @packageDocumentation
 * @vouch/sce: XEP-0420 Stanza Content Encryption envelopes (v0.5.0), strict receiver checks
 */
export {}
