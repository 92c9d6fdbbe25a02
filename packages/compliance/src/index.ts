/**
 * @packageDocumentation
 * @vouch/compliance: Compliance suites for Vouch stores and encryption backends (vitest as a peer)
 */
export {}
