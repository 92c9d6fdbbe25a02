/**
 * @packageDocumentation
 * @vouch/atm: XEP-0450 Automatic Trust Management engine
 */
export {}
