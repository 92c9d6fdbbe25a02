/**
 * D-12 identity linking fixtures: key pairs used by OMEMO 2 (Ed25519 key id) and OMEMO 0.3
 * (Curve25519 key id), and the link the OMEMO 2 backend declares between them, as a table with the
 * shape of the real map (Ed25519 → X25519 is a function, X25519 → Ed25519 gives one candidate per
 * sign bit). The real map is tested in `@vouch/backend-omemo` (`key-link.test.ts`) and with this
 * engine in `tooling/interop`.
 */
import type { KeyId, KeyLink } from '@vouch/tm-core'
import { NS_OMEMO_LEGACY } from '@vouch/tm-core'
import type { AtmBackend } from '../src/index.ts'
import { A1, A2, A3, legacyKey, OMEMO, omemoKey } from './helpers.ts'

/** Bob's device: one key pair, its Ed25519 form, the other sign's Ed25519 point, its X25519 form. */
export const BE = omemoKey('B1-ed25519')
export const BE_OTHER_SIGN = omemoKey('B1-ed25519-other-sign')
export const BX = legacyKey('B1-x25519')
/** Bob's second device, same shape. */
export const BE2 = omemoKey('B2-ed25519')
export const BX2 = legacyKey('B2-x25519')
/** Our own devices' key pairs in both protocols (A1: this endpoint). */
export const AX1 = legacyKey('A1-x25519')
export const AX2 = legacyKey('A2-x25519')
export const AX3 = legacyKey('A3-x25519')

const ED_TO_X = new Map<KeyId, KeyId>([
  [BE, BX],
  [BE_OTHER_SIGN, BX],
  [BE2, BX2],
  [A1, AX1],
  [A2, AX2],
  [A3, AX3],
])

export const OMEMO_TO_LEGACY: KeyLink = {
  namespace: NS_OMEMO_LEGACY,
  toLinked: (id) => ED_TO_X.get(id),
  fromLinked: (x) => [...ED_TO_X].filter(([, v]) => v === x).map(([e]) => e),
}

/** OMEMO 2 with the link to OMEMO 0.3 (what `@vouch/backend-omemo` declares). */
export const OMEMO_LINKED: AtmBackend = { ...OMEMO, keyLinks: [OMEMO_TO_LEGACY] }
