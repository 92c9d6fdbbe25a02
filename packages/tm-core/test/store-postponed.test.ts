import { describe, expect, it } from 'vitest'
import type { BareJid, KeyId, PostponedDecision } from '../src/index.ts'
import {
  copyPostponed,
  DEFAULT_TRUST_STORE_LIMITS,
  inPostponedGroup,
  mergeInOneCall,
  oldestToEvict,
  postponedCaps,
  postponedGroupOf,
  postponedIdentity,
  postponedResult,
  replacesStored,
  resolveTrustStoreLimits,
  touchedGroups,
  winsInOneCall,
} from '../src/index.ts'

const NS = 'urn:xmpp:omemo:2'
const dec = (over: Partial<PostponedDecision> = {}): PostponedDecision => ({
  encryption: NS,
  senderKey: 'S1' as KeyId,
  senderJid: 'bob@example.org' as BareJid,
  owner: 'carol@example.org' as BareJid,
  keyId: 'K1' as KeyId,
  polarity: 'trust',
  sceTime: 10,
  receivedAt: 10,
  ...over,
})

describe('resolveTrustStoreLimits', () => {
  it('fills in the defaults and freezes', () => {
    const l = resolveTrustStoreLimits({ maxPostponedPerSender: 3 })
    expect(l).toEqual({ ...DEFAULT_TRUST_STORE_LIMITS, maxPostponedPerSender: 3 })
    expect(Object.isFrozen(l)).toBe(true)
    expect(resolveTrustStoreLimits()).toEqual(DEFAULT_TRUST_STORE_LIMITS)
  })
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('rejects %s', (v) => {
    expect(() => resolveTrustStoreLimits({ maxPostponedPerAccount: v })).toThrow(RangeError)
    expect(() => resolveTrustStoreLimits({ maxPostponedPerAccount: v })).toThrow(/maxPostponedPerAccount/)
  })
})

describe('the D-8 merge within one call', () => {
  it('distrust wins, then the newer sceTime, then the newer receivedAt, then the later one', () => {
    expect(winsInOneCall(dec({ polarity: 'distrust', sceTime: 1 }), dec({ sceTime: 9 }))).toBe(true)
    expect(winsInOneCall(dec({ sceTime: 9 }), dec({ polarity: 'distrust', sceTime: 1 }))).toBe(false)
    expect(winsInOneCall(dec({ sceTime: 11 }), dec())).toBe(true)
    expect(winsInOneCall(dec({ sceTime: 9, receivedAt: 99 }), dec())).toBe(false)
    expect(winsInOneCall(dec({ receivedAt: 11 }), dec())).toBe(true)
    expect(winsInOneCall(dec({ receivedAt: 9 }), dec())).toBe(false)
    expect(winsInOneCall(dec(), dec())).toBe(true)
  })
  it('keeps one frozen copy per identity and reports the losers', () => {
    const a = dec()
    const b = dec({ sceTime: 12 })
    const other = dec({ keyId: 'K2' as KeyId })
    const c = dec({ sceTime: 11 })
    const { winners, ignored } = mergeInOneCall([a, b, other, c])
    expect([...winners.values()]).toEqual([b, other])
    expect([...winners.keys()]).toEqual([postponedIdentity(b), postponedIdentity(other)])
    expect(ignored).toEqual([a, c])
    for (const d of [...winners.values(), ...ignored]) expect(Object.isFrozen(d)).toBe(true)
    expect(winners.get(postponedIdentity(b))).not.toBe(b)
  })
  it('identity is (encryption, senderKey, owner, keyId): not senderJid, polarity or times', () => {
    expect(postponedIdentity(dec())).toBe(
      postponedIdentity(
        dec({ senderJid: 'x@y' as BareJid, polarity: 'distrust', sceTime: 1, receivedAt: 2 }),
      ),
    )
    for (const over of [
      { encryption: 'urn:xmpp:openpgp:0' },
      { senderKey: 'S2' as KeyId },
      { owner: 'dave@example.org' as BareJid },
      { keyId: 'K2' as KeyId },
    ])
      expect(postponedIdentity(dec(over))).not.toBe(postponedIdentity(dec()))
  })
  it('copyPostponed keeps exactly the contract fields', () => {
    const extra = { ...dec(), extra: 1 } as PostponedDecision
    expect(copyPostponed(extra)).toEqual(dec())
  })
})

describe('replacement across calls', () => {
  it('replaces unless the stored decision has a newer sceTime', () => {
    expect(replacesStored(undefined, dec())).toBe(true)
    expect(replacesStored(dec({ sceTime: 9 }), dec())).toBe(true)
    expect(replacesStored(dec({ sceTime: 10, polarity: 'distrust' }), dec())).toBe(true)
    expect(replacesStored(dec({ sceTime: 11 }), dec())).toBe(false)
  })
})

describe('caps and eviction', () => {
  it('lists the caps in the contract order', () => {
    expect(postponedCaps(resolveTrustStoreLimits({ maxPostponedPerSender: 1 }))).toEqual([
      { kind: 'senderKey', max: 1 },
      { kind: 'senderJid', max: DEFAULT_TRUST_STORE_LIMITS.maxPostponedPerSenderJid },
      { kind: 'account', max: DEFAULT_TRUST_STORE_LIMITS.maxPostponedPerAccount },
    ])
  })
  it('groups by (encryption, sender key), (encryption, sender JID), account', () => {
    const d = dec()
    expect(postponedGroupOf('senderKey', d).values).toEqual([NS, 'S1'])
    expect(postponedGroupOf('senderJid', d).values).toEqual([NS, 'bob@example.org'])
    expect(postponedGroupOf('account', d).values).toEqual([])
    const g = postponedGroupOf('senderKey', d)
    expect(inPostponedGroup(g, dec({ keyId: 'K9' as KeyId }))).toBe(true)
    expect(inPostponedGroup(g, dec({ senderKey: 'S2' as KeyId }))).toBe(false)
    expect(inPostponedGroup(g, dec({ encryption: 'urn:xmpp:openpgp:0' }))).toBe(false)
    const j = postponedGroupOf('senderJid', d)
    expect(inPostponedGroup(j, dec({ senderKey: 'S2' as KeyId }))).toBe(true)
    expect(inPostponedGroup(j, dec({ senderJid: 'eve@example.org' as BareJid }))).toBe(false)
    expect(inPostponedGroup(postponedGroupOf('account', d), dec({ encryption: 'x' }))).toBe(true)
  })
  it('touchedGroups lists each group once, in first-seen order', () => {
    const ds = [
      dec({ senderKey: 'S2' as KeyId }),
      dec(),
      dec({ senderKey: 'S2' as KeyId, keyId: 'K3' as KeyId }),
    ]
    expect(touchedGroups('senderKey', ds).map((g) => g.values)).toEqual([
      [NS, 'S2'],
      [NS, 'S1'],
    ])
    expect(touchedGroups('senderJid', ds)).toHaveLength(1)
    expect(touchedGroups('account', ds)).toEqual([{ kind: 'account', values: [] }])
    expect(touchedGroups('account', [])).toEqual([])
  })
  it('evicts the oldest in contract order, only what is over the cap', () => {
    const young = dec({ sceTime: 30, keyId: 'K1' as KeyId })
    const old = dec({ sceTime: 10, receivedAt: 50, keyId: 'K2' as KeyId })
    const older = dec({ sceTime: 10, receivedAt: 40, keyId: 'K3' as KeyId })
    const tie = dec({ sceTime: 10, receivedAt: 40, keyId: 'K0' as KeyId })
    expect(oldestToEvict([young, old, older, tie], 4, 2)).toEqual([tie, older])
    expect(oldestToEvict([young, old], 2, 2)).toEqual([])
    // candidates may be a part of the group holding its oldest: count is the group's size
    expect(oldestToEvict([old, older], 10, 9)).toEqual([older])
  })
  it('postponedResult drops evicted decisions from stored and sorts all three', () => {
    const a = dec({ sceTime: 3, keyId: 'A' as KeyId })
    const b = dec({ sceTime: 1, keyId: 'B' as KeyId })
    const c = dec({ sceTime: 2, keyId: 'C' as KeyId })
    const i1 = dec({ sceTime: 9 })
    const i0 = dec({ sceTime: 0 })
    const old = dec({ sceTime: 0, keyId: 'Z' as KeyId })
    expect(postponedResult([a, b, c], [i1, i0], [c, old])).toEqual({
      stored: [b, a],
      ignored: [i0, i1],
      evicted: [old, c],
    })
  })
})
