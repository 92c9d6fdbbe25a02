/**
 * Test vectors copied from XEP-0434 v0.6.0 §9.1.1 (Listing 3, "Trust Message URI for Bob's OMEMO
 * keys") and TM-ATM.md §2.6 (the same keys in Base64, as in the v0.6.0 trust-message examples).
 */

/** Bob B1, trusted in Listing 3 */
export const B1 = {
  hex: '623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f',
  base64: 'YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8=',
} as const
/** Bob, first distrusted key in Listing 3 */
export const BD1 = {
  hex: 'b423f5088de9a924d51b31581723d850c7cc67d0a4fe6b267c3d301ff56d2413',
  base64: 'tCP1CI3pqSTVGzFYFyPYUMfMZ9Ck/msmfD0wH/VtJBM=',
} as const
/** Bob, second distrusted key in Listing 3 */
export const BD2 = {
  hex: 'd9f849b6b828309c5f2c8df4f38fd891887da5aaa24a22c50d52f69b4a80817e',
  base64: '2fhJtrgoMJxfLI3084/YkYh9paqiSiLFDVL2m0qAgX4=',
} as const

/** Listing 3 on one line (the XEP breaks it over five lines for typesetting). */
export const BOB_URI = `xmpp:bob@example.com?trust-message;encryption=urn:xmpp:omemo:2;trust=${B1.hex};distrust=${BD1.hex};distrust=${BD2.hex}`
