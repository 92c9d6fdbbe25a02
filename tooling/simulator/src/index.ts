/**
 * @packageDocumentation
 * @vouch/simulator: Deterministic multi-endpoint XMPP network simulator for ATM (private)
 */
export {}
