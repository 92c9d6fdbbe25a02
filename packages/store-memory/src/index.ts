/**
 * @packageDocumentation
 * @vouch/store-memory: In-memory TrustStore: the reference implementation of the Vouch store contract
 */
export {}
