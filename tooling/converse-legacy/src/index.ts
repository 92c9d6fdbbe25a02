/**
 * @packageDocumentation
 * `@vouch/converse-legacy-tooling` (private, GPL-3.0-only): the OMEMO 0.3 half of the Converse.js
 * test (`test/`), apart from `@vouch/converse-tooling` because it needs the GPL backend
 * `@vouch/backend-omemo-legacy`. The harness itself is `@vouch/converse-tooling`'s.
 */
export { launchConverse, serveHarness } from '@vouch/converse-tooling'
