/**
 * TM-15/TM-21 with several devices per account: `EncryptOptions.onlyKeys` (a trust message's
 * allowed keys) keeps every other device out of the `<header/>`, our own other devices included
 * (XEP-0450 Example 2: A1 → Bob about A2 must not be readable by A2). With the same three devices:
 * OMEMO-NOT-FOR-US flags `nothingToRead` only for an empty message (no `<payload/>`) for another device.
 */
import { memoryStore } from '@vouch/store-memory'
import type { AccountTrustStore, BareJid, Element, FullJid, KeyRef } from '@vouch/tm-core'
import { isNothingToRead, Element as XmlElement } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { NS_OMEMO2, type OmemoBackend, omemoBackend, parseEncrypted } from '../src/index.ts'
import { expectError, standInForAtm } from './helpers.ts'

const ALICE = 'alice@example.org' as BareJid
const BOB = 'bob@example.org' as BareJid

interface Device {
  readonly jid: BareJid
  readonly backend: OmemoBackend
  readonly store: AccountTrustStore
  readonly deviceId: number
  readonly key: KeyRef
}

async function device(jid: BareJid): Promise<Device> {
  const store = memoryStore().forAccount(jid)
  const backend = omemoBackend({ preKeyCount: 25 })({ store })
  const { deviceId, keyId } = await backend.createDevice()
  return { jid, backend, store, deviceId, key: { encryption: NS_OMEMO2, owner: jid, keyId } }
}

/**
 * A1, A2 (Alice) and B1 (Bob), every device list and bundle known everywhere, every key
 * automatically trusted (recorded as ATM's keysDiscovered would: the backend writes no level).
 */
async function world(): Promise<{ a1: Device; a2: Device; b1: Device }> {
  const a1 = await device(ALICE)
  const a2 = await device(ALICE)
  const b1 = await device(BOB)
  const all = [a1, a2, b1]
  for (const d of all) {
    for (const jid of [ALICE, BOB]) {
      const ids = all.filter((o) => o.jid === jid).map((o) => ({ id: o.deviceId }))
      await d.backend.importDeviceList(jid, ids)
    }
    for (const o of all) {
      if (o === d) continue
      const keyId = await d.backend.importBundle(o.jid, o.deviceId, await o.backend.ownBundle())
      await standInForAtm(d.store, o.jid, [keyId])
    }
  }
  return { a1, a2, b1 }
}

const body = (t: string): Element => new XmlElement('body', { xmlns: 'jabber:client' }).t(t)
const rids = (el: Element): number[] =>
  [...parseEncrypted(el).keys.values()]
    .flat()
    .map((k) => k.rid)
    .sort()
const from = (d: Device): FullJid => `${d.jid}/x` as FullJid

describe('OMEMO 2 onlyKeys (TM-15, TM-21)', () => {
  it('TM-21: without onlyKeys our other devices are encrypted to; with onlyKeys = [B1] only B1 is', async () => {
    const { a1, a2, b1 } = await world()
    const plain = await a1.backend.encrypt(body('chat'), [BOB])
    expect(rids(plain.element)).toEqual([a2.deviceId, b1.deviceId].sort())

    const tm = await a1.backend.encrypt(body('example 2'), [BOB], {
      onlyKeys: [b1.key],
      acceptedLevels: ['automatically-trusted'],
    })
    expect(rids(tm.element)).toEqual([b1.deviceId])
    expect(tm.recipients).toEqual([b1.key])
    const r = await b1.backend.decrypt(tm.element, { from: from(a1), to: BOB })
    expect(r.payload[0]?.text()).toBe('example 2')
    const e = await expectError(
      () => a2.backend.decrypt(tm.element, { from: from(a1), to: BOB }),
      'DecryptionError',
      'OMEMO-NOT-FOR-US',
    )
    // it carries a payload: a message exists that A2 cannot read, so it is reported
    expect(isNothingToRead(e)).toBe(false)
  })

  it('TM-21: to our own bare JID with onlyKeys = [A2], only A2 is encrypted to', async () => {
    const { a1, a2 } = await world()
    const tm = await a1.backend.encrypt(body('example 1'), [ALICE], {
      onlyKeys: [a2.key],
      acceptedLevels: ['automatically-trusted'],
    })
    expect(rids(tm.element)).toEqual([a2.deviceId])
    expect(tm.recipients).toEqual([a2.key])
  })

  it('TM-15: a recipient with no listed key at an accepted level rejects with UntrustedKeyError', async () => {
    const { a1, a2 } = await world()
    await expectError(
      () =>
        a1.backend.encrypt(body('x'), [BOB], {
          onlyKeys: [a2.key],
          acceptedLevels: ['automatically-trusted'],
        }),
      'UntrustedKeyError',
    )
  })
})

describe('OMEMO-NOT-FOR-US: an empty message for another device carries nothing to read', () => {
  /** B1's answer to A1's key exchange (an empty message: keys, no <payload/>), owed to A1 only. */
  async function answerToA1(): Promise<{ a1: Device; a2: Device; b1: Device; answer: Element }> {
    const w = await world()
    await w.b1.backend.decrypt((await w.a1.backend.encrypt(body('hi'), [BOB])).element, {
      from: from(w.a1),
      to: BOB,
    })
    const answers = await w.b1.backend.takeEmptyMessages()
    expect(answers.map((a) => a.to)).toEqual([ALICE])
    const answer = answers[0]?.element as Element
    expect(answer.getChild('payload')).toBeUndefined()
    expect(rids(answer)).toEqual([w.a1.deviceId])
    return { ...w, answer }
  }

  it('OMEMO-NOT-FOR-US: B1’s session answer to A1, received by A2 (Carbons, MAM), is flagged nothingToRead', async () => {
    const { a1, a2, b1, answer } = await answerToA1()
    const e = await expectError(
      () => a2.backend.decrypt(answer, { from: from(b1), to: ALICE }),
      'DecryptionError',
      'OMEMO-NOT-FOR-US',
    )
    expect(isNothingToRead(e)).toBe(true)
    // A1, whom it names, reads it as the empty message it is
    expect((await a1.backend.decrypt(answer, { from: from(b1), to: ALICE })).sessionOnly).toBe(true)
    // A2's state is untouched: B1's next message to both of Alice's devices still decrypts there
    const next = await b1.backend.encrypt(body('after'), [ALICE])
    const r = await a2.backend.decrypt(next.element, { from: from(b1), to: ALICE })
    expect(r.payload.find((p) => p.name === 'body')?.text()).toBe('after')
  })

  it('OMEMO-NOT-FOR-US: A1’s own empty message to B1, read back by A2 as a sent copy, is flagged nothingToRead', async () => {
    const { a1, a2, b1 } = await world()
    await a1.backend.decrypt((await b1.backend.encrypt(body('hi'), [ALICE])).element, {
      from: from(b1),
      to: ALICE,
    })
    const [answer] = await a1.backend.takeEmptyMessages()
    expect(answer?.to).toBe(BOB)
    const e = await expectError(
      () => a2.backend.decrypt(answer?.element as Element, { from: from(a1), to: BOB }, { expectedTo: BOB }),
      'DecryptionError',
      'OMEMO-NOT-FOR-US',
    )
    expect(isNothingToRead(e)).toBe(true)
  })
})
