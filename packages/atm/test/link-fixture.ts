/**
 * D-12 identity linking fixtures: key pairs used by OMEMO 2 (Ed25519 key id) and OMEMO 0.3
 * (Curve25519 key id), and the link the OMEMO 2 backend declares between them, as a table with the
 * shape of the real map (Ed25519 → X25519 is a function, X25519 → Ed25519 gives one candidate per
 * sign bit). The real map is tested in `@vouch/backend-omemo` (`key-link.test.ts`) and with this
 * engine in `tooling/interop`.
 */
import type { AccountTrustStore, KeyId, KeyLink } from '@vouch/tm-core'
import { NS_OMEMO_2, NS_OMEMO_LEGACY } from '@vouch/tm-core'
import type { Atm, AtmBackend } from '../src/index.ts'
import { A1, A2, A3, ALICE, BOB, CAROL, legacyKey, OMEMO, omemoKey, seed } from './helpers.ts'

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

/** Carol runs a pure OMEMO 0.3 client (Conversations): her devices' keys. */
export const CX1 = legacyKey('C1')
export const CX2 = legacyKey('C2')

/**
 * Alice's endpoint A1/AX1 (both protocols, one key pair) before a decision: her sibling A2/AX2
 * authenticated in both; Bob (both protocols) BE/BX authenticated unless `bob: false`; Carol's
 * CX1 authenticated and CX2 distrusted; a new device of Alice A3/AX3 and Bob's BE2/BX2 known,
 * not decided (with `twinsAnnounced: false`, their OMEMO 0.3 keys AX3, BX2 not yet announced).
 */
export async function seedLinkedWorld(
  ep: { readonly atm: Atm; readonly store: AccountTrustStore },
  options: { readonly bob?: boolean; readonly twinsAnnounced?: boolean } = {},
): Promise<void> {
  const NS2 = NS_OMEMO_2
  const NS03 = NS_OMEMO_LEGACY
  await seed(ep.store, NS2, ALICE, [A2], 'authenticated')
  await seed(ep.store, NS03, ALICE, [AX2], 'authenticated')
  if (options.bob !== false) {
    await seed(ep.store, NS2, BOB, [BE], 'authenticated')
    await seed(ep.store, NS03, BOB, [BX], 'authenticated')
  }
  await seed(ep.store, NS03, CAROL, [CX1], 'authenticated')
  await seed(ep.store, NS03, CAROL, [CX2], 'manually-distrusted')
  await ep.atm.keysDiscovered(NS2, ALICE, [A3])
  await ep.atm.keysDiscovered(NS2, BOB, [BE2])
  if (options.twinsAnnounced === false) return
  await ep.atm.keysDiscovered(NS03, ALICE, [AX3])
  await ep.atm.keysDiscovered(NS03, BOB, [BX2])
}
