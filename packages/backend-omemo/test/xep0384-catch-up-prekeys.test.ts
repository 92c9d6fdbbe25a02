/**
 * XEP-0384 v0.9 §6: "If an OMEMOKeyExchange is received as part of a message catch-up mechanism
 * (like XEP-0313) … the client SHOULD postpone deletion of the private key corresponding to the
 * used PreKey until after the catch-up is completed." While Bob was offline his bundle stayed as
 * it was, so Alice and Carol may both start a session on the same pre key. Read live, the second
 * key exchange has no pre key left (OMEMO-KEX); read during a catch-up (`fromCatchUp`), both are
 * read, the pre key leaves the bundle at the first, and `catchUpDone` deletes it: a third key
 * exchange on it after the catch-up is refused again.
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, Element, FullJid } from '@vouch/tm-core'
import { Element as XmlElement } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { type OmemoBackend, omemoBackend } from '../src/index.ts'
import { expectError, standInForAtm } from './helpers.ts'

interface Party {
  readonly jid: BareJid
  readonly store: AccountTrustStore
  readonly backend: OmemoBackend
}

async function party(jid: string): Promise<Party> {
  const store = memoryStore().forAccount(jid as BareJid)
  const backend = omemoBackend({ preKeyCount: 25 })({ store })
  await backend.createDevice()
  return { jid: jid as BareJid, store, backend }
}

/** `x` learns Bob's device with a bundle that offers one pre key only: the one every sender takes. */
async function learnOnePreKey(x: Party, bob: Party): Promise<number> {
  const id = (await bob.backend.ownDeviceId()) as number
  const bundle = await bob.backend.ownBundle()
  const only = bundle.preKeys[0] as { id: number; pub: Uint8Array }
  await x.backend.importDeviceList(bob.jid, [{ id }])
  const key = await x.backend.importBundle(bob.jid, id, { ...bundle, preKeys: [only] })
  await standInForAtm(x.store, bob.jid, [key])
  return only.id
}

const body = (t: string): Element => new XmlElement('body', { xmlns: 'jabber:client' }).t(t)
const from = (p: Party) => ({ from: `${p.jid}/r` as FullJid, to: 'bob@example.org' as BareJid })

async function scene() {
  const bob = await party('bob@example.org')
  const senders = await Promise.all(['alice@example.org', 'carol@example.org', 'dave@example.org'].map(party))
  const shared = await Promise.all(senders.map((s) => learnOnePreKey(s, bob)))
  expect(new Set(shared).size).toBe(1)
  // each sender's first message: a key exchange on the same pre key
  const [a, c, d] = await Promise.all(
    senders.map(async (s) => (await s.backend.encrypt(body(`from ${s.jid}`), [bob.jid])).element),
  )
  return { bob, senders, preKeyId: shared[0] as number, a: a as Element, c: c as Element, d: d as Element }
}

const text = (payload: readonly Element[]) => payload.map((e) => e.getText()).join('')
const bundleIds = async (b: Party) => (await b.backend.ownBundle()).preKeys.map((k) => k.id)

describe('pre keys during a catch-up (XEP-0384 v0.9 §6)', () => {
  it('OMEMO-KEX: read live, a second key exchange on a pre key already used is refused', async () => {
    const { bob, senders, a, c } = await scene()
    const [alice, carol] = senders as [Party, Party]
    expect(text((await bob.backend.decrypt(a, from(alice))).payload)).toBe(`from ${alice.jid}`)
    await expectError(() => bob.backend.decrypt(c, from(carol)), 'DecryptionError', 'OMEMO-KEX')
  })

  it('XEP-0384 §6: read during a catch-up, both key exchanges on the same pre key are read; it leaves the bundle at the first; after catchUpDone a third is refused', async () => {
    const { bob, senders, preKeyId, a, c, d } = await scene()
    const [alice, carol, dave] = senders as [Party, Party, Party]
    const r1 = await bob.backend.decrypt(a, from(alice), { fromCatchUp: true })
    expect(text(r1.payload)).toBe(`from ${alice.jid}`)
    expect(await bundleIds(bob)).not.toContain(preKeyId) // never offered again
    const r2 = await bob.backend.decrypt(c, from(carol), { fromCatchUp: true })
    expect(text(r2.payload)).toBe(`from ${carol.jid}`)
    await bob.backend.catchUpDone()
    await expectError(
      () => bob.backend.decrypt(d, from(dave), { fromCatchUp: true }),
      'DecryptionError',
      'OMEMO-KEX',
    )
    // both sessions work on: Bob answers, each sender reads it
    for (const m of await bob.backend.takeEmptyMessages()) {
      const to = senders.find((s) => s.jid === m.to) as Party
      await to.backend.decryptMessage(m.element, { from: `${bob.jid}/b` as FullJid, to: to.jid })
    }
    const again = await carol.backend.encrypt(body('carol again'), [bob.jid])
    expect(text((await bob.backend.decrypt(again.element, from(carol))).payload)).toBe('carol again')
  })

  it('XEP-0384 §6: a pre key used by a key exchange read live is never kept: a second key exchange on it is refused, during a catch-up too', async () => {
    const { bob, senders, a, c, d } = await scene()
    const [alice, carol, dave] = senders as [Party, Party, Party]
    await bob.backend.decrypt(a, from(alice)) // live: not kept
    await expectError(
      () => bob.backend.decrypt(c, from(carol), { fromCatchUp: true }),
      'DecryptionError',
      'OMEMO-KEX',
    )
    await bob.backend.catchUpDone()
    await expectError(() => bob.backend.decrypt(d, from(dave)), 'DecryptionError', 'OMEMO-KEX')
  })
})
