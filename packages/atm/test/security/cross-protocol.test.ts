/**
 * D-12, X3: trust across protocols. Trust messages about keys of one protocol (OMEMO 0.3,
 * `eu.siacs.conversations.axolotl`, which carries a body text only) travel in another (OMEMO 2)
 * between one's own endpoints. The rule: the sender must be authenticated in the CARRIER (else
 * the decisions are postponed under its carrier key); sender qualification is unchanged (own
 * endpoint → any key; a contact's endpoint → only that contact's own keys).
 */
import { NS_OMEMO_2, NS_OMEMO_LEGACY, NS_OX } from '@vouch/tm-core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  A1,
  A2,
  ALICE,
  ALICE_LAPTOP,
  ALICE_PHONE,
  BOB,
  CAROL,
  CAROL_PHONE,
  C1,
  legacyKey,
  OMEMO,
  OMEMO_LEGACY,
  OX,
  oxKey,
  seed,
  trustMessage,
} from '../helpers.ts'
import { type Endpoint, endpoint, receive, STORES } from '../stores.ts'

const NS2 = NS_OMEMO_2
const NS03 = NS_OMEMO_LEGACY
/** Bob runs a pure OMEMO 0.3 client (Conversations, no ATM): his devices' 0.3 keys. */
const BL1 = legacyKey('B1')
const BL2 = legacyKey('B2')
const CL1 = legacyKey('C1')
/** Alice's Vouch endpoints have a second, separate identity key for OMEMO 0.3. */
const AL1 = legacyKey('A1')
const AL2 = legacyKey('A2')
/** Alice's own phone running a pure OMEMO 0.3 client. */
const AL_PHONE = legacyKey('A-phone')

describe.each(STORES)('D-12 trust across protocols ($name)', (storeEntry) => {
  const eps: Endpoint[] = []
  afterEach(async () => {
    for (const e of eps.splice(0)) await e.close()
  })
  /** An endpoint of Alice with OMEMO 2 and OMEMO 0.3, its own keys in both. */
  async function alice(own2: typeof A1, own03: typeof AL1, policy = {}): Promise<Endpoint> {
    const ep = await endpoint({
      store: storeEntry,
      backends: [OMEMO, OMEMO_LEGACY],
      ownKeys: { [NS2]: own2, [NS03]: own03 },
      policy,
    })
    eps.push(ep)
    return ep
  }

  it('ATM-S1/R1 with OMEMO 0.3 keys (issue 12 §3c): a contact on a pure OMEMO 0.3 client authenticated once on A1 is authenticated on A2 too, the trust message carried by OMEMO 2', async () => {
    const a1 = await alice(A1, AL1)
    const a2 = await alice(A2, AL2)
    await seed(a1.store, NS2, ALICE, [A2], 'authenticated')
    await seed(a2.store, NS2, ALICE, [A1], 'authenticated')
    await a1.atm.keysDiscovered(NS03, BOB, [BL1])
    await a2.atm.keysDiscovered(NS03, BOB, [BL1])

    // A1 scans Bob's Conversations code (parseFingerprintUri → fingerprintUriToTrustUri)
    const r = await a1.atm.applyUri(
      { jid: BOB, encryption: NS03, trust: [BL1], distrust: [] },
      { uriSource: 'scan', confirm: async () => true },
    )
    expect(await a1.store.getTrustLevel(NS03, BOB, BL1)).toBe('authenticated')
    // ATM-S1 over OMEMO 2 (OMEMO 0.3 cannot carry it), for A2's OMEMO 2 key only; no ATM-S2 to
    // Bob: none of his keys is authenticated in a protocol that can carry a trust message.
    expect(r.outgoing).toEqual([
      {
        to: ALICE,
        message: trustMessage(NS03, [{ jid: BOB, trust: [BL1] }]),
        allowedKeys: [{ encryption: NS2, owner: ALICE, keyId: A2 }],
        carrier: NS2,
      },
    ])

    const out = r.outgoing[0]!
    const got = await receive(a2.atm, { from: ALICE_LAPTOP, key: A1, carrier: NS2, message: out.message })
    expect(got.outcome).toBe('applied')
    expect(await a2.store.getTrustLevel(NS03, BOB, BL1)).toBe('authenticated')
    // TOAKAFA follows on A2: Bob's next 0.3 device is not blindly trusted
    await a2.atm.keysDiscovered(NS03, BOB, [BL2])
    expect(await a2.store.getTrustLevel(NS03, BOB, BL2)).toBe('automatically-distrusted')
  })

  it('URI-4, X15 for a Conversations fingerprint code (OMEMO 0.3 keys): when the hook says no, nothing is stored and nothing is sent', async () => {
    const a1 = await alice(A1, AL1)
    await seed(a1.store, NS2, ALICE, [A2], 'authenticated')
    const err = await a1.atm
      .applyUri(
        { jid: BOB, encryption: NS03, trust: [BL1], distrust: [] },
        { uriSource: 'scan', confirm: async () => false },
      )
      .catch((e: unknown) => e as Error & { rule?: string })
    expect(err).toMatchObject({ name: 'ConfirmationDeniedError', rule: 'URI-4' })
    expect(await a1.store.getKey(NS03, BOB, BL1)).toBeUndefined()
  })

  it('D-12: the sender must be authenticated in the carrier; until then the decisions are postponed, and released when it is', async () => {
    const a2 = await alice(A2, AL2)
    const r = await receive(a2.atm, {
      from: ALICE_LAPTOP,
      key: A1,
      carrier: NS2,
      message: trustMessage(NS03, [{ jid: BOB, trust: [BL1] }]),
    })
    expect(r.outcome).toBe('postponed')
    expect(r.postponed).toMatchObject([{ encryption: NS03, senderKey: A1, owner: BOB, keyId: BL1 }])
    expect(await a2.store.getTrustLevel(NS03, BOB, BL1)).toBe('undecided')
    await a2.atm.authenticate(NS2, ALICE, [A1])
    expect(await a2.store.getTrustLevel(NS03, BOB, BL1)).toBe('authenticated')
  })

  it('D-12: a key authenticated only in the listed keys’ protocol does not make the carrier’s sender authenticated', async () => {
    const a2 = await alice(A2, AL2)
    // the bytes of A1 authenticated as an OMEMO 0.3 key of Alice: namespace confusion, must not count
    await seed(a2.store, NS03, ALICE, [A1], 'authenticated')
    const r = await receive(a2.atm, {
      from: ALICE_LAPTOP,
      key: A1,
      carrier: NS2,
      message: trustMessage(NS03, [{ jid: BOB, trust: [BL1] }]),
    })
    expect(r.outcome).toBe('postponed')
    expect(await a2.store.getTrustLevel(NS03, BOB, BL1)).toBe('undecided')
  })

  it('D-12, X9: a contact’s endpoint authenticated in OMEMO 2 decides about its own OMEMO 0.3 keys (ATM-R2, R5), never about a third party’s or ours', async () => {
    const a1 = await alice(A1, AL1)
    await seed(a1.store, NS2, CAROL, [C1], 'authenticated')
    const own = await receive(a1.atm, {
      from: CAROL_PHONE,
      key: C1,
      carrier: NS2,
      message: trustMessage(NS03, [{ jid: CAROL, trust: [CL1] }]),
    })
    expect(own.outcome).toBe('applied')
    expect(await a1.store.getTrustLevel(NS03, CAROL, CL1)).toBe('authenticated')
    const third = await receive(a1.atm, {
      from: CAROL_PHONE,
      key: C1,
      carrier: NS2,
      sceTime: 2_000,
      message: trustMessage(NS03, [
        { jid: BOB, trust: [BL1] },
        { jid: ALICE, distrust: [AL2] },
      ]),
    })
    expect(third).toMatchObject({ outcome: 'ignored', reason: 'unqualified-sender' })
    expect(await a1.store.getTrustLevel(NS03, BOB, BL1)).toBe('undecided')
    expect(await a1.store.getTrustLevel(NS03, ALICE, AL2)).toBe('undecided')
  })

  it('D-12, X8: an own endpoint’s cross-protocol message never changes our own OMEMO 0.3 key', async () => {
    const a1 = await alice(A1, AL1)
    await seed(a1.store, NS2, ALICE, [A2], 'authenticated')
    const r = await receive(a1.atm, {
      from: ALICE_PHONE,
      key: A2,
      carrier: NS2,
      message: trustMessage(NS03, [{ jid: ALICE, distrust: [AL1] }]),
    })
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'own-key' })
    expect(await a1.store.getTrustLevel(NS03, ALICE, AL1)).toBe('undecided')
  })

  it('D-12: distrusting the carrier key drops what it had postponed about OMEMO 0.3 keys', async () => {
    const a2 = await alice(A2, AL2)
    await receive(a2.atm, {
      from: ALICE_LAPTOP,
      key: A1,
      carrier: NS2,
      message: trustMessage(NS03, [{ jid: BOB, trust: [BL1] }]),
    })
    await a2.atm.distrust(NS2, ALICE, [A1])
    expect(await a2.store.getPostponed(NS03)).toEqual([])
    await a2.atm.authenticate(NS2, ALICE, [A1]) // a person changes their mind: nothing comes back
    expect(await a2.store.getTrustLevel(NS03, BOB, BL1)).toBe('undecided')
  })

  it('ATM-S3 across protocols: authenticating our own pure-0.3 phone’s key tells the contacts and own endpoints authenticated in OMEMO 2', async () => {
    const a1 = await alice(A1, AL1)
    await seed(a1.store, NS2, ALICE, [A2], 'authenticated')
    await seed(a1.store, NS2, CAROL, [C1], 'authenticated')
    const r = await a1.atm.authenticate(NS03, ALICE, [AL_PHONE])
    // ATM-S3 to Carol (own endpoints get the Carbon copy); no ATM-S4: the new endpoint has no key
    // in the carrier and no OMEMO 0.3 key was authenticated before, so there is nothing to tell it
    expect(r.outgoing).toHaveLength(1)
    const m = r.outgoing[0]!
    expect(m).toMatchObject({
      to: CAROL,
      carrier: NS2,
      message: trustMessage(NS03, [{ jid: ALICE, trust: [AL_PHONE] }]),
    })
    expect(new Set(m.allowedKeys.map((k) => `${k.encryption} ${k.owner} ${k.keyId}`))).toEqual(
      new Set([`${NS2} ${ALICE} ${A2}`, `${NS2} ${CAROL} ${C1}`]),
    )
  })

  it('ATM-4 across protocols: with only OX to carry them, trust messages about OMEMO 0.3 keys go to our own bare JID for the shared OX key', async () => {
    const ep = await endpoint({
      store: storeEntry,
      backends: [OX, OMEMO_LEGACY],
      ownKeys: { [NS_OX]: oxKey('alice'), [NS03]: AL1 },
    })
    eps.push(ep)
    const r = await ep.atm.authenticate(NS03, BOB, [BL1])
    expect(r.outgoing).toEqual([
      {
        to: ALICE,
        message: trustMessage(NS03, [{ jid: BOB, trust: [BL1] }]),
        allowedKeys: [{ encryption: NS_OX, owner: ALICE, keyId: oxKey('alice') }],
        carrier: NS_OX,
      },
    ])
  })

  it('X3: with allowCrossProtocol: false nothing about a body-only protocol’s keys is sent, and such messages are ignored', async () => {
    const a1 = await alice(A1, AL1, { allowCrossProtocol: false })
    await seed(a1.store, NS2, ALICE, [A2], 'authenticated')
    const r = await a1.atm.authenticate(NS03, BOB, [BL1])
    expect(r.outgoing).toEqual([])
    expect(await a1.store.getTrustLevel(NS03, BOB, BL1)).toBe('authenticated')
    const got = await receive(a1.atm, {
      from: ALICE_PHONE,
      key: A2,
      carrier: NS2,
      message: trustMessage(NS03, [{ jid: BOB, trust: [BL2] }]),
    })
    expect(got).toMatchObject({ outcome: 'ignored', reason: 'protocol-mismatch' })
  })
})
